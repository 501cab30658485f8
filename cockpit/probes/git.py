"""The ``git_clean`` and ``git_branch`` probes: the environment's repository (``git.repo``) has no
uncommitted changes, and HEAD is on a branch the environment may release from."""

from __future__ import annotations

import fnmatch
from pathlib import Path
from typing import Any

from cockpit.plan.probes import GitBranchProbe, GitCleanProbe
from cockpit.probes.base import CannotLook, ProbeContext, ProbeKind, Result


def _repo(path: Path) -> Any:
    import git

    try:
        return git.Repo(path)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise CannotLook(f"{path}: not a git repository") from None


class GitCleanProbeKind(ProbeKind):
    name = "git_clean"

    def preview(self, spec: GitCleanProbe, ctx: ProbeContext) -> str:
        return f"git status of {ctx.resolve(ctx.env.git.repo)}: no uncommitted changes"

    def run(self, spec: GitCleanProbe, ctx: ProbeContext) -> Result:
        path = ctx.resolve(ctx.env.git.repo)
        repo = _repo(path)
        dirty = repo.git.status("--porcelain", kill_after_timeout=ctx.remaining()).splitlines()
        if dirty:
            shown = ", ".join(line[3:] for line in dirty[:3])
            seen = f"{len(dirty)} uncommitted change(s): {shown}"
            return Result(
                False,
                seen,
                "no uncommitted changes",
                {"repo": str(path), "changes": len(dirty)},
                line=f"{path}: {seen}",
            )
        head = repo.head.commit.hexsha
        return Result(True, "clean", "no uncommitted changes", {"repo": str(path), "head": head})


class GitBranchProbeKind(ProbeKind):
    name = "git_branch"

    def preview(self, spec: GitBranchProbe, ctx: ProbeContext) -> str:
        allowed = spec.branches or ctx.env.git.branches
        return f"the branch of {ctx.resolve(ctx.env.git.repo)}: one of {', '.join(allowed)}"

    def run(self, spec: GitBranchProbe, ctx: ProbeContext) -> Result:
        path = ctx.resolve(ctx.env.git.repo)
        allowed = list(spec.branches or ctx.env.git.branches)
        expected = f"a branch matching {', '.join(allowed)}"
        repo = _repo(path)
        if repo.head.is_detached:
            sha = repo.head.commit.hexsha
            seen = f"HEAD is detached at {sha[:12]}"
            return Result(
                False, seen, expected, {"repo": str(path), "head": sha}, line=f"{path}: {seen}"
            )
        branch = repo.active_branch.name
        details = {"repo": str(path), "branch": branch, "head": repo.head.commit.hexsha}
        if not any(fnmatch.fnmatchcase(branch, pattern) for pattern in allowed):
            return Result(
                False,
                f"on branch {branch}",
                expected,
                details,
                line=f"{path}: on branch {branch}, allowed: {', '.join(allowed)}",
            )
        return Result(True, f"on branch {branch}", expected, details)
