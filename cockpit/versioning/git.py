"""The repository, driven through the ``git`` command (one subprocess a question, no GitPython:
its import and its ``git version`` check cost a dry run ~40 ms): every git command run is kept
with its exit code for the audit event; the version tags, the last release HEAD contains and
the commits since it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cockpit.errors import CockpitError, UsageError
from cockpit.events import redact_text
from cockpit.versioning.commits import Commit, parse_commit
from cockpit.versioning.rules import version_of_tag

if TYPE_CHECKING:
    import semver

# Commits asked about with ``git merge-base --is-ancestor`` before ``git tag --merged`` decides.
PROBE_LIMIT = 20


class GitFailed(CockpitError):
    """A git command failed; the message carries git's own words."""

    exit_code = 1


@dataclass
class Refs:
    """What one ``git for-each-ref`` says (:meth:`Git.refs`): every tag (name -> (tag object,
    commit)), the version tags among them (name -> (version, commit), as
    :meth:`Git.version_tags`), and the branch checked out (None when HEAD is detached)."""

    tags: dict[str, tuple[str, str]] = field(default_factory=dict)
    versions: dict[str, tuple[semver.Version, str]] = field(default_factory=dict)
    branch: str | None = None


@dataclass
class GitRun:
    argv: list[str]
    exit: int
    stdout: str
    stderr: str

    def as_detail(self) -> dict[str, Any]:
        return {"argv": ["git", *self.argv], "exit": self.exit}


class Git:
    """One repository, driven through ``git`` subprocesses; every command run is kept in
    ``runs``."""

    def __init__(self, path: Path, timeout: float = 60.0) -> None:
        if not is_repository(path):
            raise UsageError.said("err.not_git", path=path)
        self.path = path
        self.timeout = timeout
        self.runs: list[GitRun] = []

    def run(self, *args: str, check: bool = True, env: dict[str, str] | None = None) -> GitRun:
        import os
        import subprocess

        full_env = {
            **os.environ,
            "LANGUAGE": "C",
            "GIT_TERMINAL_PROMPT": "0",
            "LC_ALL": "C",
            **(env or {}),
        }
        try:
            proc = subprocess.Popen(
                ["git", *args],
                cwd=self.path,
                env=full_env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
        except FileNotFoundError:
            raise GitFailed("git: not found on PATH; install git") from None
        try:
            out, err = proc.communicate(timeout=self.timeout)
            status = proc.returncode
        except subprocess.TimeoutExpired:
            proc.kill()
            try:  # a child of git's (ssh, a hook) may hold the pipes: do not wait for it
                out, err = proc.communicate(timeout=1)
            except subprocess.TimeoutExpired:
                out, err = b"", b""
            status = -9
            err += f"git {args[0]}: no answer within {self.timeout:g} s, stopped".encode()
        result = GitRun(list(args), status, _text(out), _text(err).removesuffix("\n"))
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

    def head_and_shallow(self) -> tuple[str | None, bool]:
        """HEAD's commit (None in a repository without commits) and whether the history is
        shallow, in one ``git rev-parse``."""
        r = self.run("rev-parse", "--is-shallow-repository", "HEAD^{commit}", check=False)
        lines = r.stdout.split()
        shallow = bool(lines) and lines[0] == "true"
        return (lines[1] if r.exit == 0 and len(lines) > 1 else None), shallow

    def refs(self, fmt: str) -> Refs:
        """Every tag and the branch checked out, in one ``git for-each-ref``."""
        fields = "%(refname)%00%(objectname)%00%(*objectname)%00%(HEAD)"
        found = Refs()
        for line in self.out(
            "for-each-ref", f"--format={fields}", "refs/tags", "refs/heads"
        ).splitlines():
            ref, obj, peeled, current = line.split("\0")
            if ref.startswith("refs/heads/"):
                if current == "*":
                    found.branch = ref.removeprefix("refs/heads/")
                continue
            name = ref.removeprefix("refs/tags/")
            found.tags[name] = (obj, peeled or obj)
            version = version_of_tag(fmt, name)
            if version is not None:
                found.versions[name] = (version, peeled or obj)
        return found

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


def is_repository(path: Path) -> bool:
    """Whether ``path`` is a work tree's top (``.git`` a directory, or a file in a linked work
    tree) or a bare repository, as GitPython's ``Repo(path)`` accepted it; parents not searched."""
    if not path.is_dir():
        return False
    dot = path / ".git"
    if dot.is_file():
        return True
    for base in (dot, path):
        if (base / "HEAD").is_file() and (base / "objects").is_dir() and (base / "refs").is_dir():
            return True
    return False


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")


def first_line(run: GitRun) -> str:
    text = (run.stderr or run.stdout).strip()
    lines = [line for line in text.splitlines() if line.strip()]
    return redact_text(lines[0] if lines else "no output")


def git_words(run: GitRun) -> list[str]:
    """git's own message (stderr, then stdout), redacted, at most 12 lines."""
    text = (run.stderr or run.stdout).strip()
    return [redact_text(line) for line in text.splitlines()[:12]]
