"""The words of a release: the tag message, the changelog section and where it goes in a Keep
a Changelog file, and the day in the configured zone.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cockpit.versioning.preflight import TagPlan


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


def today(zone: str) -> str:
    from zoneinfo import ZoneInfo

    return datetime.now(UTC).astimezone(ZoneInfo(zone)).date().isoformat()
