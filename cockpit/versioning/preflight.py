"""Preflight: look at the repository and change nothing. It decides the version and why, runs
every check (history, version, clean tree, branch policy, remote, up to date, tag free, signing,
publish) and reports each one passed or not, and says what is left to do.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from cockpit.errors import UsageError
from cockpit.versioning.commits import Suggestion, changes_text, suggest
from cockpit.versioning.git import Git, first_line
from cockpit.versioning.rules import Bump, VersionError, next_version, parse, tag_name

if TYPE_CHECKING:
    from cockpit.config import GitConfig


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    warning: bool = False  # passed, with something the operator should know

    def as_dict(self) -> dict[str, Any]:
        return {"check": self.name, "ok": self.ok, "detail": self.detail}


@dataclass
class TagPlan:
    """Everything decided before a change: the version, the checks, the message, what to do."""

    repo: Path
    tag: str
    version: str
    suggested: str | None
    suggestion: Suggestion | None
    why: str
    commit: str
    branch: str | None
    remote: str
    checks: list[Check] = field(default_factory=list)
    message: str = ""
    # What is left to do: "create" (and push), "remake" (an unpublished tag of ours on another
    # commit is replaced), "push" (the local tag exists on this commit), "nothing" (published).
    todo: Literal["create", "remake", "push", "nothing"] = "create"
    local_tag_sha: str | None = None
    notes: str = ""

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]


@dataclass(frozen=True)
class TagRequest:
    bump: Bump | None = None
    pre: str | None = None
    version: str | None = None  # explicit; for a release, its own version unless bump/pre
    allow_dirty: str | None = None  # the reason the dirty tree is accepted (logged)
    push: bool = False
    unpublished: frozenset[str] = frozenset()  # tags the log records as made and not published


def plan_tag(
    git: Git,
    cfg: GitConfig,
    request: TagRequest,
    *,
    release_version: str | None = None,
    signing_check: Callable[[Git, GitConfig], Check] | None = None,
) -> TagPlan:
    """Look, change nothing: the version, the preflight checks and the tag message."""
    checks: list[Check] = []
    shallow = git.is_shallow()
    checks.append(
        Check("history", False, "shallow clone: run with --unshallow (git fetch --unshallow)")
        if shallow
        else Check("history", True, "full history")
    )
    head = git.sha("HEAD")
    if head is None:
        raise UsageError(f"{git.path}: the repository has no commits")
    tags = git.version_tags(cfg.tag_format)
    # A tag made here and never published is not a release yet: it neither raises the next
    # version nor ends the commits since the last release, so running again resumes it.
    released = {n: vt for n, vt in tags.items() if n not in request.unpublished}
    existing = [v for v, _ in released.values()]
    # The commits since the last release reachable from HEAD decide the suggestion.
    suggestion: Suggestion | None = None
    if not shallow:
        since = git.last_release(released)
        suggestion = suggest(git.commits(since), since)
    suggested: str | None = None
    if suggestion is not None and suggestion.bump is not None:
        try:
            suggested = str(next_version(existing, bump=suggestion.bump).version)
        except VersionError:
            suggested = None
    explicit = request.version
    if explicit is None and request.bump is None and request.pre is None:
        explicit = release_version or suggested
        if explicit is None and not shallow:
            raise UsageError(
                "no version to tag: "
                + (suggestion.describe() if suggestion else "shallow clone")
                + "; choose --bump, --pre or --version"
            )
    if explicit is not None:
        # The tag of this very version on HEAD, or one of ours never published, is this release
        # being resumed: the tag check below decides about it, the version check does not.
        own = tag_name(cfg.tag_format, explicit)
        if own in tags and (tags[own][1] == head or own in request.unpublished):
            existing = [v for n, (v, _) in released.items() if n != own]
    if shallow:
        # Nothing is computed from a partial history: the tags and commits seen are not all.
        version, why = explicit or "?", "not computed: the history is partial (shallow clone)"
        checks.append(Check("version", False, "not checked against a shallow clone's tags"))
    else:
        try:
            choice = next_version(
                existing,
                bump=request.bump,
                pre=request.pre,
                explicit=explicit,
                default_bump=suggestion.bump if suggestion else None,
            )
            version, why = str(choice.version), choice.why
            checks.append(Check("version", True, f"{version} is greater than every version tag"))
        except VersionError as exc:
            version, why = explicit or "?", str(exc)
            checks.append(Check("version", False, str(exc)))
    if not shallow and request.version is None and request.bump is None and request.pre is None:
        if explicit == release_version:
            why = "the release's version"
        elif suggestion is not None and suggestion.bump is not None:
            why = f"from the commits: {suggestion.bump}"
    if suggested and suggested != version:
        why += f" (the commits suggest {suggested})"
    tag = tag_name(cfg.tag_format, version)

    # Working tree.
    # Not git.out: stripping would eat the first line's status column (" M app.txt").
    status = git.run("status", "--porcelain", "--untracked-files=normal").stdout
    dirty = [line for line in status.splitlines() if line.strip()]
    if not dirty:
        checks.append(Check("clean", True, "no uncommitted changes"))
    elif request.allow_dirty:
        checks.append(
            Check("clean", True, f"{len(dirty)} change(s), accepted: {request.allow_dirty}", True)
        )
    else:
        shown = ", ".join(line[3:] for line in dirty[:3])
        checks.append(
            Check(
                "clean",
                False,
                f"{len(dirty)} uncommitted change(s): {shown}; commit them or "
                "give --allow-dirty REASON",
            )
        )

    # Branch policy; a detached HEAD only when exactly one allowed branch holds the commit.
    branch: str | None = None
    allowed = cfg.branches
    symbolic = git.run("symbolic-ref", "--quiet", "--short", "HEAD", check=False)
    if symbolic.exit == 0:
        name = symbolic.stdout.strip()
        if any(fnmatch.fnmatchcase(name, p) for p in allowed):
            branch = name
            checks.append(Check("branch", True, f"on {name} (allowed: {', '.join(allowed)})"))
        else:
            checks.append(Check("branch", False, f"on {name}; allowed: {', '.join(allowed)}"))
    else:
        holders = sorted(
            {
                line.strip()
                for line in git.out(
                    "branch", "--format=%(refname:short)", "--contains", head
                ).splitlines()
                if any(fnmatch.fnmatchcase(line.strip(), p) for p in allowed)
            }
        )
        if len(holders) == 1:
            branch = holders[0]
            checks.append(
                Check("branch", True, f"detached at {head[:12]}, which is on {branch} only", True)
            )
        else:
            which = ", ".join(holders) if holders else "no allowed branch"
            checks.append(
                Check(
                    "branch",
                    False,
                    f"detached at {head[:12]}, on {which}: check out the branch to release from",
                )
            )

    # Remote: reachable, branch up to date, tag free.
    remote = cfg.remote
    remote_refs: dict[str, str] = {}
    ls = git.run("ls-remote", "--heads", "--tags", remote, check=False)
    if ls.exit != 0:
        checks.append(Check("remote", False, f"{remote} unreachable: {first_line(ls)}"))
    else:
        checks.append(Check("remote", True, f"{remote} reachable"))
        for line in ls.stdout.splitlines():
            sha, _, ref = line.partition("\t")
            remote_refs[ref] = sha
        if branch is not None:
            theirs = remote_refs.get(f"refs/heads/{branch}")
            if theirs is None:
                checks.append(Check("up to date", True, f"{remote}/{branch} does not exist yet"))
            elif theirs == head:
                checks.append(Check("up to date", True, f"{remote}/{branch} is at HEAD"))
            elif (
                git.sha(theirs)
                and git.run("merge-base", "--is-ancestor", theirs, head, check=False).exit == 0
            ):
                checks.append(
                    Check("up to date", True, f"HEAD is ahead of {remote}/{branch}", True)
                )
            else:
                checks.append(
                    Check(
                        "up to date",
                        False,
                        f"{remote}/{branch} is at {theirs[:12]}, which "
                        f"HEAD does not contain: pull, then run again",
                    )
                )

    todo: Literal["create", "remake", "push", "nothing"] = "create"
    local = tags.get(tag)
    local_tag_sha = None
    if local is None and (local_ref := git.sha(f"refs/tags/{tag}")):
        local = (parse(version), local_ref)
    remote_tag = remote_refs.get(f"refs/tags/{tag}^{{}}") or remote_refs.get(f"refs/tags/{tag}")
    if local is not None:
        local_tag_sha = git.out("rev-parse", f"refs/tags/{tag}")
    if version == "?":
        pass  # no version, so no tag to look for (the version check says why)
    elif remote_tag is not None and remote_tag != head:
        checks.append(
            Check(
                "tag free",
                False,
                f"{tag} is on {remote} at {remote_tag[:12]}, HEAD is "
                f"{head[:12]}: stop; a published tag is never moved",
            )
        )
    elif local is not None and local[1] != head:
        if tag in request.unpublished and remote_tag is None:
            todo = "remake"
            checks.append(
                Check(
                    "tag free",
                    True,
                    f"{tag} at {local[1][:12]} was made here and never "
                    f"published: it will be made again on {head[:12]}",
                    True,
                )
            )
        else:
            checks.append(
                Check(
                    "tag free",
                    False,
                    f"{tag} exists at {local[1][:12]}, HEAD is "
                    f"{head[:12]}: choose another version or check out {local[1][:12]}",
                )
            )
    elif local is not None and remote_tag == head:
        todo = "nothing"
        checks.append(Check("tag free", True, f"{tag} is already published on this commit"))
    elif local is not None:
        todo = "push"
        checks.append(
            Check("tag free", True, f"{tag} exists on this commit, not published: resume", True)
        )
    elif remote_tag == head:
        todo = "nothing"
        checks.append(Check("tag free", True, f"{tag} is already on {remote} at this commit"))
    else:
        checks.append(Check("tag free", True, f"{tag} is free locally and on {remote}"))

    if cfg.signing != "none" and signing_check is not None and todo in {"create", "remake"}:
        checks.append(signing_check(git, cfg))

    if not request.push and todo != "nothing":
        pass_note = "the tag stays local (--push publishes it)"
        checks.append(Check("publish", True, pass_note, True))

    plan = TagPlan(
        repo=git.path,
        tag=tag,
        version=version,
        suggested=suggested,
        suggestion=suggestion,
        why=why,
        commit=head,
        branch=branch,
        remote=remote,
        checks=checks,
        todo=todo,
        local_tag_sha=local_tag_sha,
    )
    plan.notes = changes_text(suggestion.commits if suggestion else ())
    return plan
