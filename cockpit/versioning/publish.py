"""Doing it: make the annotated (signed) tag, commit the changelog section, and publish the
branch and the tag in one atomic push (branch first, then tag, on a server without atomic
pushes).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cockpit.versioning.changelog import insert_changelog
from cockpit.versioning.git import Git, GitFailed, git_words
from cockpit.versioning.preflight import TagPlan
from cockpit.versioning.signing import key_fingerprint, signing_config, verify_tag

if TYPE_CHECKING:
    from cockpit.config import GitConfig


@dataclass
class Outcome:
    tag_sha: str | None = None
    published: bool = False
    atomic: bool | None = None
    fingerprint: str | None = None
    verified: bool | None = None
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


def create_tag(
    git: Git, cfg: GitConfig, plan: TagPlan, message: str, base: Path
) -> tuple[str, str | None, bool | None]:
    """Make the annotated (signed) tag on ``plan.commit``; (tag object sha, key fingerprint,
    verified)."""
    if plan.todo == "remake":
        git.run("tag", "-d", plan.tag)
    fd, msg_file = tempfile.mkstemp(prefix="cockpit-tag-")
    with os.fdopen(fd, "w") as fh:
        fh.write(message)
    try:
        if cfg.signing == "none":
            git.run("tag", "-a", "--cleanup=verbatim", "-F", msg_file, plan.tag, plan.commit)
        else:
            opts, _ = signing_config(cfg, base)
            git.run(*opts, "tag", "-s", "--cleanup=verbatim", "-F", msg_file, plan.tag, plan.commit)
    finally:
        os.unlink(msg_file)
    tag_sha = git.out("rev-parse", f"refs/tags/{plan.tag}")
    if cfg.signing == "none":
        return tag_sha, None, None
    return tag_sha, key_fingerprint(git, cfg, base), verify_tag(git, cfg, plan.tag, base)


ATOMIC_UNSUPPORTED = "does not support --atomic"


def publish(git: Git, plan: TagPlan) -> bool:
    """Push the branch and the tag in one atomic push; branch then tag when the server cannot.
    Returns whether the push was atomic. Raises :class:`GitFailed` with git's words."""
    refs = [f"refs/tags/{plan.tag}:refs/tags/{plan.tag}"]
    if plan.branch is not None:
        refs.insert(0, f"{plan.commit}:refs/heads/{plan.branch}")
    result = git.run("push", "--atomic", "--porcelain", plan.remote, *refs, check=False)
    if result.exit == 0:
        return True
    if ATOMIC_UNSUPPORTED not in (result.stderr + result.stdout):
        raise GitFailed(f"git push --atomic {plan.remote} failed: " + " / ".join(git_words(result)))
    for ref in refs:
        one = git.run("push", "--porcelain", plan.remote, ref, check=False)
        if one.exit != 0:
            raise GitFailed(f"git push {plan.remote} {ref} failed: " + " / ".join(git_words(one)))
    return False


def commit_changelog(git: Git, cfg: GitConfig, plan: TagPlan, section: str) -> str:
    """Write ``section`` into the changelog file and commit it; the new HEAD sha."""
    path = git.path / cfg.changelog
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    path.write_text(insert_changelog(text, section), encoding="utf-8")
    git.run("add", "--", cfg.changelog)
    git.run("commit", "-m", f"chore(release): {plan.version}", "--", cfg.changelog)
    head = git.out("rev-parse", "HEAD")
    plan.commit = head
    return head
