"""The release report (``cockpit release report``): drawn from the log at one audit head
(:mod:`.facts`), written as Markdown or one self-contained HTML file (:mod:`.render`). See
docs/reports.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cockpit.releasereport.facts import ReleaseFacts, gather
from cockpit.releasereport.render import to_html, to_markdown

if TYPE_CHECKING:
    from cockpit.store import Store
    from cockpit.timefmt import TimeFormat

__all__ = ["ReleaseFacts", "gather", "release_report", "to_html", "to_markdown"]


def release_report(
    store: Store, release_text: str, fmt: str = "md", times: TimeFormat | None = None
) -> str:
    """The report of a release in ``fmt`` (``md`` or ``html``), its moments as ``times``
    writes them (the cockpit's: the window's zone, named; UTC without one)."""
    from cockpit.releasereport.render import UTC_TIMES

    times = times or UTC_TIMES
    facts = gather(store, release_text, times)
    return to_html(facts, times) if fmt == "html" else to_markdown(facts, times)
