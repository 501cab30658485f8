"""The rows a widget is given, as plain data (no Textual here): a screen's worker, or the
process that reads the dashboard ahead (:mod:`cockpit.readahead`), builds them without
importing the widgets that draw them."""

from __future__ import annotations

from dataclasses import dataclass

# A metric's level as drawn (the metrics panel, the dashboard's Health line).
STYLES = {
    "ok": "green",
    "warn": "bold yellow",
    "crit": "bold red",
    "stale": "dim",
    "no_data": "bold magenta",
}


@dataclass(frozen=True)
class PhaseRow:
    """One phase of a release on the timeline (:class:`widgets.timeline.Timeline`)."""

    label: str  # "T-14"
    title: str
    done: int
    total: int
    due: str  # already formatted, "due 12-02" or "12-16 01:00"
    current: bool = False
    overdue: bool = False
