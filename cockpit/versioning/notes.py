"""Release notes from the conventional commits between two tags: grouped (breaking changes,
added, changed, fixed, documentation), in Japanese and English, as Markdown. The commits are
read by :class:`cockpit.versioning.git.Git`; the headings come from :mod:`cockpit.i18n`.
"""

from __future__ import annotations

from collections.abc import Sequence

from cockpit.i18n import tr
from cockpit.versioning.commits import GROUPS, Commit

ORDER = ("Breaking", "Added", "Changed", "Fixed", "Documentation")
_KEY = {
    "Breaking": "notes.breaking",
    "Added": "notes.added",
    "Changed": "notes.changed",
    "Fixed": "notes.fixed",
    "Documentation": "notes.docs",
}


def grouped(commits: Sequence[Commit]) -> dict[str, list[Commit]]:
    groups: dict[str, list[Commit]] = {}
    for c in commits:
        heading = "Breaking" if c.breaking else GROUPS.get(c.type)
        if heading is not None:
            groups.setdefault(heading, []).append(c)
    return groups


def release_notes(
    version: str,
    commits: Sequence[Commit],
    since: str | None,
    until: str,
    langs: Sequence[str] = ("ja", "en"),
) -> str:
    """The notes of ``version``: one section per language, the same commits in each."""
    groups = grouped(commits)
    span = f"{since}..{until}" if since else until
    out: list[str] = []
    for lang in langs:
        out += [f"# {tr('notes.title', lang, version=version)}", ""]
        out += [tr("notes.span", lang, span=span, count=len(commits)), ""]
        if not groups:
            out += [tr("notes.none", lang), ""]
        for heading in ORDER:
            if heading not in groups:
                continue
            out += [f"## {tr(_KEY[heading], lang)}", ""]
            for c in groups[heading]:
                scope = f"**{c.scope}**: " if c.scope else ""
                out.append(f"- {scope}{c.text} ({c.sha[:7]})")
            out.append("")
    return "\n".join(out).rstrip("\n") + "\n"
