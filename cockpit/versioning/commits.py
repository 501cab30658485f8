"""Conventional commits: parse a subject (and its breaking-change footer), group the changes
for the release notes, and suggest the bump the commits since the last release ask for.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cockpit.versioning.rules import Bump

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

    def text(self, lang: str) -> str:
        """:meth:`describe`: a suggestion is said in a message's language."""
        return self.describe(lang)

    def describe(self, lang: str = "en") -> str:
        from cockpit.i18n import tr

        since = tr("ver.since", lang, tag=self.since) if self.since else tr("ver.whole", lang)
        if self.bump is None:
            return tr("ver.none", lang, count=len(self.commits), since=since)
        n = len(self.deciding)
        return tr("ver.some", lang, bump=self.bump, n=n, count=len(self.commits), since=since)


def suggest(commits: Sequence[Commit], since: str | None) -> Suggestion:
    order = {None: 0, "patch": 1, "minor": 2, "major": 3}
    best: Bump | None = None
    for c in commits:
        if order[c.bump] > order[best]:
            best = c.bump
    return Suggestion(since, tuple(commits), best)


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
