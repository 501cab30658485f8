"""Preflight: look at the repository and change nothing. It decides the version and why, runs
every check (history, version, clean tree, branch policy, remote, up to date, tag free, signing,
publish) and reports each one passed or not, and says what is left to do. One function per
check, each giving its :class:`Check`; :func:`plan_tag` runs them in that order.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from cockpit.errors import Phrase, Said, UsageError
from cockpit.versioning.commits import Suggestion, changes_text, suggest
from cockpit.versioning.git import Git, first_line
from cockpit.versioning.rules import Bump, VersionError, next_version, parse, tag_name

if TYPE_CHECKING:
    import semver

    from cockpit.config import GitConfig

Todo = Literal["create", "remake", "push", "nothing"]
Tags = Mapping[str, tuple["semver.Version", str]]


@dataclass
class Check:
    name: str
    ok: bool
    # What was found, in English (``as_dict``, the log); made from a :class:`Phrase`, which
    # :meth:`say` says in a language.
    detail: str | Phrase
    warning: bool = False  # passed, with something the operator should know
    # Not checked: the step it is for is already done (shown as [-], never as a pass).
    moot: bool = False
    phrase: Phrase | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if isinstance(self.detail, Phrase):
            self.phrase, self.detail = self.detail, str(self.detail)

    def say(self, lang: str) -> str:
        """``name: detail`` parts in ``lang``: the detail."""
        return self.phrase.text(lang) if self.phrase is not None else str(self.detail)

    @property
    def mark(self) -> str:
        """``[x]`` passed, ``[!]`` failed, ``[-]`` moot (the seeds' checklist marks)."""
        return "[-]" if self.moot else "[x]" if self.ok else "[!]"

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
    why: str | Said  # the English (the log, --json); made from a phrase, kept in why_phrase
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
    why_phrase: Said | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.why, str):
            self.why_phrase, self.why = self.why, str(self.why)

    def said_why(self, lang: str) -> str:
        """Why this version, in ``lang``."""
        return self.why_phrase.text(lang) if self.why_phrase is not None else str(self.why)

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
    # The repository as it is, in two git calls: HEAD and the history's depth, then every tag
    # and the branch checked out.
    head, shallow = git.head_and_shallow()
    checks.append(history_check(shallow))
    if head is None:
        raise UsageError.said("tag.no_commits", path=git.path)
    refs = git.refs(cfg.tag_format)
    tags = refs.versions
    # A tag made here and never published is not a release yet: it neither raises the next
    # version nor ends the commits since the last release, so running again resumes it.
    released = {n: vt for n, vt in tags.items() if n not in request.unpublished}
    # The commits since the last release reachable from HEAD decide the suggestion.
    suggestion: Suggestion | None = None
    if not shallow:
        since = git.last_release(released)
        suggestion = suggest(git.commits(since), since)
    suggested = suggested_version([v for v, _ in released.values()], suggestion)
    version, why, check = version_check(
        request,
        tags,
        released,
        head=head,
        tag_format=cfg.tag_format,
        suggestion=suggestion,
        suggested=suggested,
        release_version=release_version,
        shallow=shallow,
    )
    checks.append(check)
    tag = tag_name(cfg.tag_format, version)

    checks.append(clean_check(git, request))
    branch, check = branch_check(git, cfg, head, refs.branch)
    checks.append(check)

    # Remote: reachable, branch up to date, tag free.
    remote = cfg.remote
    remote_refs, check = remote_check(git, remote)
    checks.append(check)
    if check.ok and branch is not None:
        theirs = remote_refs.get(f"refs/heads/{branch}")
        checks.append(up_to_date_check(git, remote, branch, theirs, head))

    local = tags.get(tag)
    local_tag_sha = None
    if local is None and tag in refs.tags:
        local = (parse(version), refs.tags[tag][1])
    remote_tag = remote_refs.get(f"refs/tags/{tag}^{{}}") or remote_refs.get(f"refs/tags/{tag}")
    if local is not None:
        local_tag_sha = refs.tags[tag][0]
    todo, tag_check = tag_free_check(
        tag,
        version,
        head,
        remote,
        local=local[1] if local is not None else None,
        remote_tag=remote_tag,
        unpublished=request.unpublished,
    )
    if tag_check is not None:
        checks.append(tag_check)

    if cfg.signing != "none" and signing_check is not None and todo in {"create", "remake"}:
        checks.append(signing_check(git, cfg))

    if (publish := publish_check(request, todo)) is not None:
        checks.append(publish)

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


def history_check(shallow: bool) -> Check:
    return (
        Check("history", False, Phrase("pre.shallow"))
        if shallow
        else Check("history", True, Phrase("pre.full"))
    )


def suggested_version(existing: list[semver.Version], suggestion: Suggestion | None) -> str | None:
    """The version the commits ask for, None when they ask for none or it is taken."""
    suggested: str | None = None
    if suggestion is not None and suggestion.bump is not None:
        try:
            suggested = str(next_version(existing, bump=suggestion.bump).version)
        except VersionError:
            suggested = None
    return suggested


def version_check(
    request: TagRequest,
    tags: Tags,
    released: Tags,
    *,
    head: str,
    tag_format: str,
    suggestion: Suggestion | None,
    suggested: str | None,
    release_version: str | None,
    shallow: bool,
) -> tuple[str, str | Said, Check]:
    """The version to tag and why, and whether it is greater than every released version."""
    existing = [v for v, _ in released.values()]
    explicit = request.version
    if explicit is None and request.bump is None and request.pre is None:
        explicit = release_version or suggested
        if explicit is None and not shallow:
            found: Said | str = suggestion if suggestion else "shallow clone"
            raise UsageError.said("tag.no_version", found=found)
    ours = None  # the tag of this very version, made already (a resume, or after publishing)
    if explicit is not None:
        # The tag of this very version on HEAD, or one of ours never published, is this release
        # being resumed: the tag check decides about it, the version check does not.
        own = tag_name(tag_format, explicit)
        if own in tags and (tags[own][1] == head or own in request.unpublished):
            existing = [v for n, (v, _) in released.items() if n != own]
            ours = own
    why: str | Said
    if shallow:
        # Nothing is computed from a partial history: the tags and commits seen are not all.
        version, why = explicit or "?", Phrase("ver.partial")
        check = Check("version", False, Phrase("pre.version_shallow"))
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
            greater = Phrase("pre.greater", {"version": version})
            if ours is not None and version == explicit:
                greater = Phrase("pre.ours", {"tag": ours})
            check = Check("version", True, greater)
        except VersionError as exc:
            version, why = explicit or "?", exc.phrase or str(exc)
            check = Check("version", False, str(exc))
    if not shallow and request.version is None and request.bump is None and request.pre is None:
        if explicit == release_version:
            why = Phrase("ver.release")
        elif suggestion is not None and suggestion.bump is not None:
            why = Phrase("ver.commits", {"bump": suggestion.bump})
    if suggested and suggested != version:
        why = Phrase("ver.suggest", {"why": why, "suggested": suggested})
    return version, why, check


def clean_check(git: Git, request: TagRequest) -> Check:
    """The working tree: no uncommitted changes, or changes accepted with a reason."""
    # Not git.out: stripping would eat the first line's status column (" M app.txt").
    status = git.run("status", "--porcelain", "--untracked-files=normal").stdout
    dirty = [line for line in status.splitlines() if line.strip()]
    if not dirty:
        return Check("clean", True, Phrase("pre.clean"))
    if request.allow_dirty:
        accepted = Phrase("pre.dirty_ok", {"count": len(dirty), "reason": request.allow_dirty})
        return Check("clean", True, accepted, True)
    shown = ", ".join(line[3:] for line in dirty[:3])
    return Check("clean", False, Phrase("pre.dirty", {"count": len(dirty), "files": shown}))


def branch_check(
    git: Git, cfg: GitConfig, head: str, current: str | None
) -> tuple[str | None, Check]:
    """Branch policy: the branch released from (None when there is none) and the check; a
    detached HEAD (``current`` None) only when exactly one allowed branch holds the commit."""
    allowed = cfg.branches
    if current is not None:
        name = current
        if any(fnmatch.fnmatchcase(name, p) for p in allowed):
            said = Phrase("pre.branch_ok", {"branch": name, "allowed": ", ".join(allowed)})
            return name, Check("branch", True, said)
        said = Phrase("pre.branch_bad", {"branch": name, "allowed": ", ".join(allowed)})
        return None, Check("branch", False, said)
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
        said = Phrase("pre.detached_ok", {"commit": head[:12], "branch": branch})
        return branch, Check("branch", True, said, True)
    which = ", ".join(holders) if holders else Phrase("pre.no_branch")
    return None, Check(
        "branch", False, Phrase("pre.detached", {"commit": head[:12], "which": which})
    )


def remote_check(git: Git, remote: str) -> tuple[dict[str, str], Check]:
    """Whether ``remote`` answers, and its branches and tags (ref -> sha; none when not)."""
    remote_refs: dict[str, str] = {}
    ls = git.run("ls-remote", "--heads", "--tags", remote, check=False)
    if ls.exit != 0:
        said = Phrase("pre.unreachable", {"remote": remote, "cause": first_line(ls)})
        return remote_refs, Check("remote", False, said)
    for line in ls.stdout.splitlines():
        sha, _, ref = line.partition("\t")
        remote_refs[ref] = sha
    return remote_refs, Check("remote", True, Phrase("pre.reachable", {"remote": remote}))


def up_to_date_check(git: Git, remote: str, branch: str, theirs: str | None, head: str) -> Check:
    """HEAD contains the remote branch (``theirs``, None when it does not exist yet)."""
    if theirs is None:
        return Check(
            "up to date", True, Phrase("pre.no_remote_branch", {"ref": f"{remote}/{branch}"})
        )
    if theirs == head:
        return Check("up to date", True, Phrase("pre.at_head", {"ref": f"{remote}/{branch}"}))
    # Exit 0: contained; 1: not; 128: a commit this clone does not have (not contained either).
    if git.run("merge-base", "--is-ancestor", theirs, head, check=False).exit == 0:
        return Check("up to date", True, Phrase("pre.ahead", {"ref": f"{remote}/{branch}"}), True)
    said = Phrase("pre.behind", {"ref": f"{remote}/{branch}", "commit": theirs[:12]})
    return Check("up to date", False, said)


def tag_free_check(
    tag: str,
    version: str,
    head: str,
    remote: str,
    *,
    local: str | None,
    remote_tag: str | None,
    unpublished: frozenset[str],
) -> tuple[Todo, Check | None]:
    """What is left to do with the tag and why: ``local`` and ``remote_tag`` are the commits the
    tag is on here and on the remote (None where it does not exist). No check without a
    version."""
    if version == "?":
        return "create", None  # no version, so no tag to look for (the version check says why)
    if remote_tag is not None and remote_tag != head:
        said = Phrase(
            "pre.tag_published_elsewhere",
            {"tag": tag, "remote": remote, "at": remote_tag[:12], "head": head[:12]},
        )
        return "create", Check("tag free", False, said)
    if local is not None and local != head:
        if tag in unpublished and remote_tag is None:
            said = Phrase("pre.tag_remake", {"tag": tag, "at": local[:12], "head": head[:12]})
            return "remake", Check("tag free", True, said, True)
        said = Phrase("pre.tag_exists", {"tag": tag, "at": local[:12], "head": head[:12]})
        return "create", Check("tag free", False, said)
    if local is not None and remote_tag == head:
        return "nothing", Check("tag free", True, Phrase("pre.tag_done", {"tag": tag}))
    if local is not None:
        return "push", Check("tag free", True, Phrase("pre.tag_unpushed", {"tag": tag}), True)
    if remote_tag == head:
        said = Phrase("pre.tag_on_remote", {"tag": tag, "remote": remote})
        return "nothing", Check("tag free", True, said)
    return "create", Check("tag free", True, Phrase("pre.tag_free", {"tag": tag, "remote": remote}))


def publish_check(request: TagRequest, todo: Todo) -> Check | None:
    """A warning when the tag is made and not pushed; None when it is pushed or already is."""
    if not request.push and todo != "nothing":
        return Check("publish", True, Phrase("pre.local_only"), True)
    return None
