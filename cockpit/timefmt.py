"""One way to write a moment for people: in the change window's zone, with the zone named.

Every time the cockpit shows (the screens, ``audit tail``, the Markdown and CSV exports,
``release show``, the reports) goes through one :class:`TimeFormat`, so one event reads the same
date, time and zone everywhere: ``12-06 01:14 JST``. The zone is ``change_window.timezone`` of
cockpit.toml (:func:`display_zone`); ``utc`` shows the same moments in UTC instead (a key of the
TUI). Data keeps RFC 3339 UTC (the log, JSON Lines, ``--json``): only what people read changes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, tzinfo
from functools import cached_property
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from cockpit.config import Config

# The shapes a moment is written in; each but "day" names the zone.
PATTERNS = {
    "short": "%m-%d %H:%M %Z",  # 12-06 01:14 JST: lists, the header
    "stamp": "%m-%d %H:%M:%S %Z",  # 12-06 01:14:05 JST: the audit log's lines
    "full": "%Y-%m-%d %H:%M:%S %Z",  # 2026-12-06 01:14:05 JST: exports, the detail pane
    "minute": "%Y-%m-%d %H:%M %Z",  # 2026-12-16 01:00 JST: release show, notices
    "clock": "%H:%M %Z",  # 01:14 JST: today's moments
    "day": "%m-%d",  # 12-06: due dates
    "row": "%m-%d %H:%M",  # 12-06 01:14: rows of a list whose heading names the zone
}


def display_zone(config: Config) -> str:
    """The zone the cockpit shows moments in: the change window's (``Asia/Tokyo``)."""
    return config.change_window.timezone


def parse_moment(moment: str | datetime) -> datetime:
    """An aware datetime from an RFC 3339 string (``...Z`` or an offset) or a datetime."""
    if isinstance(moment, datetime):
        return moment
    return datetime.fromisoformat(moment.replace("Z", "+00:00"))


@dataclass(frozen=True)
class TimeFormat:
    """Moments written in ``zone`` (an IANA name), or in UTC when ``utc``."""

    zone: str
    utc: bool = False

    @cached_property
    def tz(self) -> tzinfo:
        return UTC if self.utc else ZoneInfo(self.zone)

    @property
    def name(self) -> str:
        """What the shown times are in, for a header or a column: ``Asia/Tokyo`` or ``UTC``."""
        return "UTC" if self.utc else self.zone

    def toggled(self) -> TimeFormat:
        """The same zone, UTC switched on or off."""
        return replace(self, utc=not self.utc)

    def common_zone(self, moments: list[str]) -> str | None:
        """The zone's short name when every one of ``moments`` has the same (a list's heading
        can name it once, its rows written as ``row``); ``None`` across a summer-time change."""
        names = {self.abbreviation(m) for m in moments if m}
        return names.pop() if len(names) == 1 else None

    def abbreviation(self, moment: str | datetime) -> str:
        """The zone's short name at ``moment``: ``JST``, ``CEST``, ``UTC``."""
        return self.at(moment).strftime("%Z")

    def at(self, moment: str | datetime) -> datetime:
        """``moment`` in the shown zone."""
        return parse_moment(moment).astimezone(self.tz)

    def show(self, moment: str | datetime | None, shape: str = "short") -> str:
        """``moment`` written in one of :data:`PATTERNS` (``""`` for no moment)."""
        if moment is None or moment == "":
            return ""
        return self.at(moment).strftime(PATTERNS[shape])

    def short(self, moment: str | datetime | None, now: datetime | None = None) -> str:
        """``12-06 01:14 JST``; with the year (``2027-01-20 01:00 JST``) when ``now`` is given
        and the moment falls in another year."""
        if moment is None or moment == "":
            return ""
        shown = self.at(moment)
        if now is not None and shown.year != now.astimezone(self.tz).year:
            return shown.strftime(PATTERNS["minute"])
        return shown.strftime(PATTERNS["short"])
