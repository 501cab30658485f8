"""Semantic versions and git tags: the next version, preflight, the tag, and its safe publish.

The rules (each one a failure seen in the well-known release tools):

- The next version is greater than *every* version tag in the repository, reachable from HEAD
  or not. Build metadata does not count (``1.2.0+build`` collides with ``1.2.0``). A
  pre-release of a stable version starts on the next patch (``1.0.0`` -> ``1.0.1-rc.1``), a
  series counts on (``-rc.1``, ``-rc.2``) and never goes back (``rc`` -> ``beta`` is refused).
- The suggestion reads the commits since the last release: the highest stable version tag that
  HEAD contains (a pre-release or a tag on another branch does not end them).
- Nothing is computed from a shallow clone: the history would be partial.
- Preflight runs before anything changes and reports every check, passed or not.
- The branch and the tag go to the remote in one ``git push --atomic``; a server without
  atomic pushes gets the branch first, then the tag, and the event says so. A failed push leaves
  the local tag recorded as unpublished; running again resumes from there.

Git is driven through GitPython (imported when first needed); every git command run is kept
with its exit code for the audit event.
"""

from __future__ import annotations

import fnmatch
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from cockpit.errors import CockpitError, UsageError
from cockpit.events import redact_text

if TYPE_CHECKING:
    import semver

    from cockpit.config import GitConfig

Bump = Literal["major", "minor", "patch"]
BUMPS: tuple[Bump, ...] = ("major", "minor", "patch")
PRE_TOKENS = ("alpha", "beta", "rc")
# Commits asked about with ``git merge-base --is-ancestor`` before ``git tag --merged`` decides.
PROBE_LIMIT = 20


class VersionError(CockpitError):
    """The version asked for cannot be the next one (it is not greater than an existing tag)."""

    exit_code = 1


class GitFailed(CockpitError):
    """A git command failed; the message carries git's own words."""

    exit_code = 1


# --------------------------------------------------------------------------- versions


def parse(text: str) -> semver.Version:
    import semver

    try:
        return semver.Version.parse(text)
    except (ValueError, TypeError):
        raise UsageError(
            f"version {text!r}: not a semantic version (like 1.4.0 or 1.4.0-rc.1)"
        ) from None


def tag_name(fmt: str, version: semver.Version | str) -> str:
    return fmt.replace("{version}", str(version))


def version_of_tag(fmt: str, name: str) -> semver.Version | None:
    """The version a tag name carries under ``fmt`` (``v{version}``), or None."""
    import semver

    head, _, tail = fmt.partition("{version}")
    if not name.startswith(head) or not name.endswith(tail) or len(name) <= len(head + tail):
        return None
    text = name[len(head) : len(name) - len(tail)] if tail else name[len(head) :]
    try:
        return semver.Version.parse(text)
    except ValueError:
        return None


def _core(v: semver.Version) -> semver.Version:
    return v.replace(prerelease=None, build=None)


def _pre_parts(v: semver.Version) -> tuple[str, int] | None:
    """``rc.2`` -> ("rc", 2); None for a pre-release not in that form."""
    if not v.prerelease:
        return None
    token, _, number = v.prerelease.partition(".")
    return (token, int(number)) if number.isdigit() else None


@dataclass(frozen=True)
class Choice:
    """The version chosen and why, in words for the screen and the event."""

    version: semver.Version
    why: str


def next_version(
    existing: Iterable[semver.Version],
    *,
    bump: Bump | None = None,
    pre: str | None = None,
    explicit: str | None = None,
    default_bump: Bump | None = None,
) -> Choice:
    """The next version after ``existing`` (every version tag in the repository).

    ``bump`` raises the highest stable version; ``pre`` makes it a pre-release (continuing the
    newest series of the same token, or starting one). Raises :class:`VersionError` when the
    result would not be greater than every existing version.
    """
    versions = sorted(existing)
    latest = versions[-1] if versions else None
    stable = [v for v in versions if not v.prerelease]
    import semver

    base = stable[-1] if stable else semver.Version(0, 0, 0)
    if explicit is not None:
        candidate = parse(explicit)
        why = f"{candidate} given"
    elif pre is not None:
        if pre not in PRE_TOKENS:
            raise UsageError(f"--pre {pre!r}: use one of {', '.join(PRE_TOKENS)}")
        if bump is not None:
            target = base.next_version(bump)
            why = f"{bump} after {base}"
        elif latest is not None and latest.prerelease and _core(latest) > base:
            target = _core(latest)
            why = f"continues the {target} pre-releases"
        elif default_bump is not None:
            target = base.next_version(default_bump)
            why = f"{default_bump} after {base}, from the commits"
        else:
            target = base.bump_patch()
            why = f"patch after {base}"
        series = [
            parts[1]
            for v in versions
            if _core(v) == target and (parts := _pre_parts(v)) and parts[0] == pre
        ]
        candidate = target.replace(prerelease=f"{pre}.{max(series, default=0) + 1}")
    else:
        if bump is None:
            raise UsageError("choose a bump (major, minor, patch), a pre-release or a version")
        if latest is not None and latest.prerelease and base.next_version(bump) == _core(latest):
            candidate = _core(latest)
            why = f"{bump} after {base}; ends the {candidate} pre-releases"
        else:
            candidate = base.next_version(bump)
            why = f"{bump} after {base}"
    check_greater(candidate, versions)
    return Choice(candidate, why)


def check_greater(candidate: semver.Version, existing: Sequence[semver.Version]) -> None:
    """Refuse a version that is not greater than every existing one (build metadata ignored)."""
    for v in existing:
        if v == candidate:
            raise VersionError(f"{candidate} collides with existing version {v}")
    newer = [v for v in existing if v > candidate]
    if newer:
        raise VersionError(
            f"{candidate} is not greater than existing version {max(newer)}: "
            "choose a higher version"
        )


# --------------------------------------------------------------------------- commits

_CONVENTIONAL = re.compile(
    r"^(?P<type>[a-zA-Z]+)(?:\((?P<scope>[^)]*)\))?(?P<bang>!)?: (?P<text>.+)"
)
_BREAKING_FOOTER = re.compile(r"^BREAKING[ -]CHANGE: ", re.MULTILINE)

GROUPS = {
    "feat": "Added",
    "fix": "Fixed",
    "perf": "Changed",
    "refactor": "Changed",
    "revert": "Changed",
    "docs": "Documentation",
}


@dataclass(frozen=True)
class Commit:
    sha: str
    subject: str
    type: str = ""
    scope: str = ""
    breaking: bool = False

    @property
    def bump(self) -> Bump | None:
        if self.breaking:
            return "major"
        if self.type == "feat":
            return "minor"
        if self.type in {"fix", "perf"}:
            return "patch"
        return None

    @property
    def text(self) -> str:
        m = _CONVENTIONAL.match(self.subject)
        return m.group("text") if m else self.subject


def parse_commit(sha: str, subject: str, body: str = "") -> Commit:
    m = _CONVENTIONAL.match(subject)
    if not m:
        return Commit(sha, subject)
    breaking = bool(m.group("bang")) or bool(_BREAKING_FOOTER.search(body))
    return Commit(sha, subject, m.group("type").lower(), m.group("scope") or "", breaking)


@dataclass(frozen=True)
class Suggestion:
    """What the commits since the last release ask for."""

    since: str | None  # the tag of the last release reachable from HEAD
    commits: tuple[Commit, ...]
    bump: Bump | None

    @property
    def deciding(self) -> list[Commit]:
        return [c for c in self.commits if c.bump == self.bump] if self.bump else []

    def describe(self) -> str:
        since = f"since {self.since}" if self.since else "in the whole history"
        if self.bump is None:
            return f"{len(self.commits)} commit(s) {since}, none a feat, fix or breaking change"
        n = len(self.deciding)
        return f"{self.bump}: {n} of {len(self.commits)} commit(s) {since} ask for it"


def suggest(commits: Sequence[Commit], since: str | None) -> Suggestion:
    order = {None: 0, "patch": 1, "minor": 2, "major": 3}
    best: Bump | None = None
    for c in commits:
        if order[c.bump] > order[best]:
            best = c.bump
    return Suggestion(since, tuple(commits), best)


# --------------------------------------------------------------------------- git


@dataclass
class GitRun:
    argv: list[str]
    exit: int
    stdout: str
    stderr: str

    def as_detail(self) -> dict[str, Any]:
        return {"argv": ["git", *self.argv], "exit": self.exit}


class Git:
    """One repository, driven through GitPython; every command run is kept in ``runs``."""

    def __init__(self, path: Path, timeout: float = 60.0) -> None:
        import git

        self.path = path
        self.timeout = timeout
        try:
            self.repo = git.Repo(path)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError):
            raise UsageError(f"{path}: not a git repository") from None
        self.runs: list[GitRun] = []

    def run(self, *args: str, check: bool = True, env: dict[str, str] | None = None) -> GitRun:
        full_env = {"GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", **(env or {})}
        status, out, err = self.repo.git.execute(
            ["git", *args],
            with_extended_output=True,
            with_exceptions=False,
            kill_after_timeout=self.timeout,
            env=full_env,
            strip_newline_in_stdout=False,
        )
        result = GitRun(list(args), int(status), str(out), str(err))
        self.runs.append(result)
        if check and result.exit != 0:
            raise GitFailed(f"git {args[0]} failed ({result.exit}): {first_line(result)}")
        return result

    def out(self, *args: str) -> str:
        return self.run(*args).stdout.strip()

    def sha(self, rev: str) -> str | None:
        r = self.run("rev-parse", "--verify", "--quiet", rev + "^{commit}", check=False)
        return r.stdout.strip() if r.exit == 0 else None

    def is_shallow(self) -> bool:
        return self.out("rev-parse", "--is-shallow-repository") == "true"

    def version_tags(self, fmt: str) -> dict[str, tuple[semver.Version, str]]:
        """Every tag carrying a version under ``fmt``: name -> (version, commit sha)."""
        fields = "%(refname:strip=2)%00%(objectname)%00%(*objectname)"
        found: dict[str, tuple[semver.Version, str]] = {}
        for line in self.out("for-each-ref", f"--format={fields}", "refs/tags").splitlines():
            name, obj, peeled = line.split("\0")
            version = version_of_tag(fmt, name)
            if version is not None:
                found[name] = (version, peeled or obj)
        return found

    def merged_tags(self, rev: str = "HEAD") -> set[str]:
        """Every tag whose commit ``rev`` contains (one walk of the whole history)."""
        return set(self.out("tag", "--merged", rev).splitlines())

    def last_release(
        self,
        tags: Mapping[str, tuple[semver.Version, str]],
        rev: str = "HEAD",
        *,
        limit: int = PROBE_LIMIT,
    ) -> str | None:
        """The tag of the highest stable version among ``tags`` (name -> (version, commit), as
        :meth:`version_tags` gives them) that ``rev`` contains; None when there is none.

        The answer is the one :meth:`merged_tags` gives (the highest of the stable tags in
        ``git tag --merged``, ties by name), found faster: ``tag --merged`` walks the whole
        history (about 100 ms for 20,000 commits without a commit-graph), while
        ``git merge-base --is-ancestor`` asked about the highest versions first usually stops
        at the first one. Pre-releases never end the commits of a release, so they are not
        asked about. When the ``limit`` highest commits are all outside ``rev``'s history (HEAD
        on an old maintenance branch, say) or git cannot answer for one (a tag of a tree), one
        ``git tag --merged`` decides.
        """
        stable = sorted(
            ((v, name, sha) for name, (v, sha) in tags.items() if not v.prerelease), reverse=True
        )
        outside: set[str] = set()  # commits asked about: none of them is in rev's history
        for _v, name, sha in stable:
            if sha in outside:
                continue
            if len(outside) >= limit:
                break
            probe = self.run("merge-base", "--is-ancestor", f"refs/tags/{name}", rev, check=False)
            if probe.exit == 0:
                return name
            if probe.exit != 1:  # not a commit, or git failed: let tag --merged decide
                break
            outside.add(sha)
        else:
            return None
        merged = self.merged_tags(rev)
        return next((name for _v, name, _sha in stable if name in merged), None)

    def commits(self, since: str | None, rev: str = "HEAD") -> list[Commit]:
        span = f"{since}..{rev}" if since else rev
        raw = self.run("log", "--format=%H%x1f%s%x1f%b%x1e", span).stdout
        commits = []
        for record in raw.split("\x1e"):
            record = record.strip("\n")
            if record:
                sha, subject, body = record.split("\x1f", 2)
                commits.append(parse_commit(sha, subject, body))
        return commits


def first_line(run: GitRun) -> str:
    text = (run.stderr or run.stdout).strip()
    lines = [line for line in text.splitlines() if line.strip()]
    return redact_text(lines[0] if lines else "no output")


def git_words(run: GitRun) -> list[str]:
    """git's own message (stderr, then stdout), redacted, at most 12 lines."""
    text = (run.stderr or run.stdout).strip()
    return [redact_text(line) for line in text.splitlines()[:12]]


# --------------------------------------------------------------------------- planning


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


def changes_text(commits: Iterable[Commit]) -> str:
    """The changes grouped by type, Keep a Changelog headings, newest commit first."""
    groups: dict[str, list[str]] = {}
    for c in commits:
        heading = "Breaking" if c.breaking else GROUPS.get(c.type)
        if heading is None:
            continue
        scope = f"**{c.scope}**: " if c.scope else ""
        groups.setdefault(heading, []).append(f"- {scope}{c.text} ({c.sha[:7]})")
    order = ["Breaking", "Added", "Changed", "Fixed", "Documentation"]
    parts = [f"### {h}\n" + "\n".join(groups[h]) for h in order if h in groups]
    return "\n\n".join(parts) if parts else "No feature or fix commits."


def tag_message(plan: TagPlan, day: str, checkpoint: tuple[int, str] | None) -> str:
    lines = [f"Release {plan.version}", "", f"Version: {plan.version}", f"Date: {day}", ""]
    lines += [plan.notes, ""]
    if checkpoint is not None:
        lines.append(f"Audit-Checkpoint: seq={checkpoint[0]} sha256={checkpoint[1]}")
    else:
        lines.append("Audit-Checkpoint: (the audit log's head when the tag is made)")
    return "\n".join(lines).rstrip("\n") + "\n"


def changelog_section(plan: TagPlan, day: str) -> str:
    return f"## [{plan.version}] - {day}\n\n{plan.notes}\n"


def insert_changelog(text: str, section: str) -> str:
    """Put ``section`` under ``## [Unreleased]`` (or before the first release), Keep a
    Changelog style; a new file gets the standard heading."""
    if not text.strip():
        return (
            "# Changelog\n\nAll notable changes to this project are documented here "
            "(https://keepachangelog.com/en/1.1.0/).\n\n## [Unreleased]\n\n" + section
        )
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.startswith("## "):
            if line.lower().startswith("## [unreleased]"):
                # After the Unreleased heading and whatever it holds, before the next release.
                j = next(
                    (k for k in range(i + 1, len(lines)) if lines[k].startswith("## ")),
                    len(lines),
                )
                head = "".join(lines[:j]).rstrip("\n") + "\n\n"
                return head + section + ("\n" + "".join(lines[j:]) if j < len(lines) else "")
            return "".join(lines[:i]) + section + "\n" + "".join(lines[i:])
    return text.rstrip("\n") + "\n\n" + section


# --------------------------------------------------------------------------- signing


def signing_config(cfg: GitConfig, base: Path) -> tuple[list[str], dict[str, str]]:
    """The ``-c`` options that make ``git tag -s`` sign as configured."""
    opts: list[str] = []
    if cfg.signing == "ssh":
        opts += ["-c", "gpg.format=ssh"]
        if cfg.signing_key:
            opts += ["-c", f"user.signingkey={_key_path(cfg, base)}"]
    elif cfg.signing == "gpg":
        opts += ["-c", "gpg.format=openpgp"]
        if cfg.signing_key:
            opts += ["-c", f"user.signingkey={cfg.signing_key}"]
    return opts, {}


def _key_path(cfg: GitConfig, base: Path) -> str:
    path = Path(cfg.signing_key).expanduser()
    return str(path if path.is_absolute() else base / path)


def key_fingerprint(git: Git, cfg: GitConfig, base: Path) -> str:
    """The fingerprint of the signing key (ssh: SHA256:...; gpg: the full fingerprint)."""
    import subprocess

    if cfg.signing == "ssh":
        key = _key_path(cfg, base) if cfg.signing_key else git.out("config", "user.signingkey")
        pub = key if key.endswith(".pub") else key + ".pub"
        source = pub if Path(pub).exists() else key
        done = subprocess.run(
            ["ssh-keygen", "-l", "-E", "sha256", "-f", source],
            capture_output=True,
            text=True,
            timeout=git.timeout,
        )
        if done.returncode != 0:
            raise GitFailed(f"ssh-keygen -l {source}: {done.stderr.strip() or 'failed'}")
        return done.stdout.split()[1]
    key = cfg.signing_key or git.out("config", "user.signingkey")
    done = subprocess.run(
        ["gpg", "--batch", "--with-colons", "--fingerprint", key],
        capture_output=True,
        text=True,
        timeout=git.timeout,
    )
    for line in done.stdout.splitlines():
        if line.startswith("fpr:"):
            return line.split(":")[9]
    raise GitFailed(f"gpg: no key {key!r} ({done.stderr.strip().splitlines()[-1:] or 'not found'})")


def signing_check_for(base: Path) -> Callable[[Git, GitConfig], Check]:
    """A preflight check that signs a few bytes with the configured key, changing nothing."""

    def check(git: Git, cfg: GitConfig) -> Check:
        import subprocess

        try:
            fingerprint = key_fingerprint(git, cfg, base)
        except (GitFailed, OSError, subprocess.SubprocessError) as exc:
            return Check("signing", False, f"{cfg.signing} key: {exc}")
        if cfg.signing == "ssh":
            key = _key_path(cfg, base) if cfg.signing_key else git.out("config", "user.signingkey")
            key = key[: -len(".pub")] if key.endswith(".pub") and Path(key[:-4]).exists() else key
            argv = ["ssh-keygen", "-Y", "sign", "-n", "git", "-f", key]
        else:
            key = cfg.signing_key or git.out("config", "user.signingkey")
            argv = [
                "gpg",
                "--batch",
                "--pinentry-mode",
                "error",
                "--local-user",
                key,
                "--detach-sign",
                "--armor",
            ]
        done = subprocess.run(
            argv, input=b"cockpit preflight\n", capture_output=True, timeout=git.timeout
        )
        if done.returncode != 0:
            why = done.stderr.decode(errors="replace").strip().splitlines()
            return Check("signing", False, f"{cfg.signing} signing fails: {why[-1] if why else ''}")
        return Check("signing", True, f"{cfg.signing} key {fingerprint} signs")

    return check


def allowed_signers_file(git: Git, cfg: GitConfig, base: Path, email: str) -> str | None:
    """For ssh: the allowed-signers file for ``git verify-tag`` (configured, or made from the
    public key for this check only)."""
    if cfg.signing != "ssh":
        return None
    if cfg.allowed_signers:
        path = Path(cfg.allowed_signers).expanduser()
        return str(path if path.is_absolute() else base / path)
    key = _key_path(cfg, base) if cfg.signing_key else git.out("config", "user.signingkey")
    pub = Path(key if key.endswith(".pub") else key + ".pub")
    fd, name = tempfile.mkstemp(prefix="cockpit-allowed-signers-")
    with os.fdopen(fd, "w") as fh:
        fh.write(f"{email or '*'} {pub.read_text().strip()}\n")
    return name


# --------------------------------------------------------------------------- doing


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


def verify_tag(git: Git, cfg: GitConfig, tag: str, base: Path) -> bool:
    email = git.run("config", "user.email", check=False).stdout.strip()
    signers = allowed_signers_file(git, cfg, base, email)
    try:
        opts = ["-c", f"gpg.ssh.allowedSignersFile={signers}"] if signers else []
        result = git.run(*opts, "verify-tag", tag, check=False)
    finally:
        if signers and not cfg.allowed_signers:
            os.unlink(signers)
    if result.exit != 0:
        raise GitFailed(f"git verify-tag {tag} failed: {first_line(result)}")
    return True


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


def today(zone: str) -> str:
    from zoneinfo import ZoneInfo

    return datetime.now(UTC).astimezone(ZoneInfo(zone)).date().isoformat()
