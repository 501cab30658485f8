"""The change window: when the next one opens, whether one is open now, and phase due times.

Pure engine code (standard library only). Every function takes the moment it reasons about as an
argument (``now``); nothing here reads the clock, so the cockpit and the tests decide what "now"
is.

Schedule (:class:`cockpit.config.ChangeWindowConfig`):

* ``monthly``: the ``week``-th ``weekday`` of each month (``week = 3``, ``wednesday``: the third
  Wednesday). ``week = 5`` means the fifth occurrence; **months without a fifth such weekday have
  no window and are skipped** (there is no "last weekday of the month" fallback).
* ``weekly``: every ``weekday`` (``week`` is ignored).
* ``start`` and ``end`` are wall-clock ``HH:MM`` in ``timezone``. An ``end`` earlier than or equal
  to ``start`` means the window crosses midnight and ends on the next day (``22:00``-``02:00``).

Daylight saving time, for any wall-clock time this module turns into an instant (a window's start
and end, a phase's due time), see :func:`resolve_local`:

* a time that does not exist that day (in the spring-forward gap) moves forward to the first valid
  instant after the gap (``02:30`` in New York on the spring-forward Sunday becomes ``03:00 EDT``);
* an ambiguous time (in the repeated fall-back hour) takes its first occurrence (``fold=0``).

A window's real length can therefore differ from its nominal one (``01:00``-``03:00`` on the
fall-back day lasts three hours); :attr:`Window.duration` and every comparison are computed on
UTC instants, never on wall-clock fields. A window whose whole wall-clock span falls inside a
gap (``02:00``-``02:30`` on the spring-forward day) would be empty: that day has no window and the
schedule moves on to its next occurrence.

Windows are half-open: a window is open from its start (inclusive) to its end (exclusive).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cockpit.errors import ConfigError, Phrase
from cockpit.when import Duration, day_label
from cockpit.when import format_remaining as format_remaining  # (where callers take it)

if TYPE_CHECKING:
    from cockpit.config import ChangeWindowConfig

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_DAY = timedelta(days=1)
# How far before the local date of a moment a window still in progress may have been scheduled:
# one day for a window crossing midnight, plus slack for day-long DST gaps and historical
# date-line moves (Pacific/Apia 2011, America/Sitka 1867).
_LOOKBACK = timedelta(days=3)

DueStatus = Literal["upcoming", "due", "overdue"]


def _require_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime (with a time zone), got {moment!r}")


def _utc(moment: datetime) -> datetime:
    """The same instant in UTC.

    Aware datetimes sharing one ``tzinfo`` compare and subtract by their wall-clock fields, which
    is wrong across a DST change (fold is ignored); going through UTC always compares instants.
    """
    return moment.astimezone(UTC)


def _local_wall(moment: datetime, tz: tzinfo) -> datetime:
    """The naive wall-clock reading of ``moment`` in ``tz``."""
    return moment.astimezone(tz).replace(tzinfo=None, fold=0)


def resolve_local(wall: datetime, tz: tzinfo) -> datetime:
    """Turn a naive wall-clock time in ``tz`` into an aware instant in ``tz``.

    * A time that exists once is returned as is.
    * An ambiguous time (the repeated hour when clocks fall back) takes its first occurrence
      (``fold=0``, the earlier instant).
    * A time that does not exist (the gap when clocks spring forward) moves forward to the first
      valid instant after the gap, i.e. the moment of the transition itself (``02:30`` on the
      New York spring-forward day becomes ``03:00 EDT``).

    The result is normalised: its wall-clock fields and ``fold`` are those of the instant.
    Raises ``ValueError`` if ``wall`` is aware.
    """
    if wall.tzinfo is not None:
        raise ValueError(f"expected a naive wall-clock time, got {wall!r}")
    naive = wall.replace(fold=0)
    first = naive.replace(tzinfo=tz)
    instant = first.astimezone(UTC).astimezone(tz)
    if instant.replace(tzinfo=None, fold=0) == naive:
        return instant
    # In a gap. PEP 495: fold=0 reads the time with the offset before the transition, fold=1 with
    # the offset after; the transition instant lies between the two readings.
    before, after = first.utcoffset(), naive.replace(tzinfo=tz, fold=1).utcoffset()
    assert before is not None and after is not None
    small, large = min(before, after), max(before, after)
    # Whole seconds around the two readings; tz transitions fall on whole seconds.
    lo = (naive - large).replace(tzinfo=UTC) - _EPOCH
    hi = (naive - small).replace(tzinfo=UTC) - _EPOCH
    lo_s = lo // timedelta(seconds=1)
    hi_s = -(-hi // timedelta(seconds=1))

    def after_gap(seconds: int) -> bool:
        return _local_wall(_EPOCH + timedelta(seconds=seconds), tz) >= naive

    if after_gap(lo_s) or not after_gap(hi_s):  # pragma: no cover - not a simple gap
        return first.astimezone(UTC).astimezone(tz)
    while hi_s - lo_s > 1:  # invariant: not after_gap(lo_s), after_gap(hi_s)
        mid = (lo_s + hi_s) // 2
        if after_gap(mid):
            hi_s = mid
        else:
            lo_s = mid
    return (_EPOCH + timedelta(seconds=hi_s)).astimezone(tz)


def _zone(cfg: ChangeWindowConfig) -> ZoneInfo:
    try:
        return ZoneInfo(cfg.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"change_window.timezone: unknown time zone {cfg.timezone!r} "
            "(use a name such as 'Asia/Tokyo' or 'UTC')"
        ) from None


def _hhmm(value: str, key: str) -> time:
    try:
        hours, minutes = value.split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise ConfigError(
            f"change_window.{key}: {value!r} has the wrong form (use HH:MM)"
        ) from None


@dataclass(frozen=True, eq=False)
class Window:
    """One change window: ``start`` (inclusive) to ``end`` (exclusive), aware, in its zone.

    Two windows are equal when they cover the same instants (compared in UTC, so a fold=1 time
    in the repeated hour is not mistaken for its fold=0 twin).
    """

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        _require_aware(self.start, "start")
        _require_aware(self.end, "end")
        if _utc(self.end) <= _utc(self.start):
            raise ValueError(f"a window must end after it starts: {self.start} .. {self.end}")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Window):
            return NotImplemented
        return (_utc(self.start), _utc(self.end)) == (_utc(other.start), _utc(other.end))

    def __hash__(self) -> int:
        return hash((_utc(self.start), _utc(self.end)))

    def contains(self, moment: datetime) -> bool:
        """Whether the window is open at ``moment`` (aware): start inclusive, end exclusive."""
        _require_aware(moment, "moment")
        return _utc(self.start) <= _utc(moment) < _utc(self.end)

    @property
    def duration(self) -> timedelta:
        """The real length of the window (computed on UTC instants, so DST changes count)."""
        return _utc(self.end) - _utc(self.start)

    def start_label(self, lang: str = "en") -> str:
        """The opening moment for display: ``Wed 12-16 01:00 JST`` (ja ``12-16(水) 01:00 JST``)."""
        s = self.start
        return f"{day_label(s, lang)} {s:%H:%M} {s.tzname()}"

    def label(self, lang: str = "en", *, year: bool = False) -> str:
        """The window for display: ``Wed 12-16 01:00-05:00 JST`` (ja ``12-16(水) 01:00-05:00``).

        The day is the start's. A window crossing midnight reads ``Fri 03-06 22:00-02:00 JST``.
        When the zone abbreviation changes inside the window (DST) both are shown:
        ``Sun 11-01 01:00 EDT-03:00 EST``. With ``year``: ``Wed 2027-01-20 01:00-05:00 JST``.
        """
        s, e = self.start, self.end
        day = day_label(s, lang, year=year)
        if s.tzname() == e.tzname():
            return f"{day} {s:%H:%M}-{e:%H:%M} {s.tzname()}"
        return f"{day} {s:%H:%M} {s.tzname()}-{e:%H:%M} {e.tzname()}"

    def __str__(self) -> str:
        return self.label()


@dataclass(frozen=True)
class WindowState:
    """Where ``now`` stands relative to the change window.

    ``window`` is the window open at ``now``, else the next one. ``opens_in`` is zero while open;
    ``closes_in`` is the time from ``now`` to that window's end (open or not). ``text`` is a
    short line in English, as events record it: ``open, 3h12m left`` or ``opens Wed 12-16 01:00
    JST (in 23d 4h)``; :meth:`say` is that line in a language.
    """

    open: bool
    window: Window
    opens_in: timedelta
    closes_in: timedelta
    text: str = ""

    def __post_init__(self) -> None:
        if not self.text:
            object.__setattr__(self, "text", self.say("en"))

    @property
    def phrase(self) -> Phrase:
        """The line as catalog words, said when read: ``open, 3h12m left``."""
        if self.open:
            return Phrase("when.open_left", {"left": Duration(self.closes_in)})
        return Phrase("when.opens", {"when": _Opens(self.window), "left": Duration(self.opens_in)})

    def say(self, lang: str) -> str:
        return self.phrase.text(lang)


@dataclass(frozen=True)
class _Opens:
    """When a window opens, said when read (``Wed 12-16 01:00 JST``, ``12-16(水) 01:00 JST``)."""

    window: Window

    def text(self, lang: str) -> str:
        return self.window.start_label(lang)


def nth_weekday(year: int, month: int, weekday: int, week: int) -> date | None:
    """The ``week``-th (1-5) ``weekday`` (0 = Monday) of the month, or ``None`` if the month has
    no such day (a fifth occurrence in a month with only four)."""
    first = date(year, month, 1)
    day = 1 + (weekday - first.weekday()) % 7 + 7 * (week - 1)
    if day > calendar.monthrange(year, month)[1]:
        return None
    return first.replace(day=day)


def _weekday_index(cfg: ChangeWindowConfig) -> int:
    try:
        return WEEKDAYS.index(cfg.weekday)
    except ValueError:
        raise ConfigError(
            f"change_window.weekday: {cfg.weekday!r} is not a weekday (use one of: "
            f"{', '.join(WEEKDAYS)})"
        ) from None


def _occurrences(cfg: ChangeWindowConfig, first: date) -> Iterator[date]:
    """The scheduled days on or after ``first``, in order (until the calendar runs out)."""
    weekday = _weekday_index(cfg)
    if cfg.frequency == "weekly":
        day = first + timedelta(days=(weekday - first.weekday()) % 7)
        while True:
            yield day
            day += timedelta(days=7)
    elif cfg.frequency == "monthly":
        if not 1 <= cfg.week <= 5:
            raise ConfigError.said("err.window_week", week=cfg.week)
        year, month = first.year, first.month
        while True:
            found = nth_weekday(year, month, weekday, cfg.week)
            if found is not None and found >= first:
                yield found
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
            if year > date.max.year:
                return
    else:
        raise ConfigError(
            f"change_window.frequency: {cfg.frequency!r} is not allowed (use monthly or weekly)"
        )


def _windows_from(cfg: ChangeWindowConfig, first: date) -> Iterator[Window]:
    """The windows scheduled on or after the day ``first``, in order. Days whose window would be
    empty (entirely inside a DST gap) are skipped."""
    tz = _zone(cfg)
    opens, closes = _hhmm(cfg.start, "start"), _hhmm(cfg.end, "end")
    try:
        for day in _occurrences(cfg, first):
            start = resolve_local(datetime.combine(day, opens), tz)
            end_day = day if closes > opens else day + _ONE_DAY
            end = resolve_local(datetime.combine(end_day, closes), tz)
            if _utc(end) > _utc(start):
                yield Window(start, end)
    except OverflowError:  # past year 9999
        return


def _first_day(moment: datetime, cfg: ChangeWindowConfig) -> date:
    local = moment.astimezone(_zone(cfg)).date()
    try:
        return local - _LOOKBACK
    except OverflowError:
        return date.min


def windows_from(cfg: ChangeWindowConfig, now: datetime) -> Iterator[Window]:
    """The scheduled windows still open at or after ``now`` (aware), in order."""
    _require_aware(now, "now")
    at = _utc(now)
    for window in _windows_from(cfg, _first_day(now, cfg)):
        if _utc(window.end) > at:
            yield window


def next_window(cfg: ChangeWindowConfig, now: datetime) -> Window:
    """The window open at ``now``, or else the next one to open.

    ``now`` must be aware (any zone); raises ``ValueError`` if it is naive, ``ConfigError`` if the
    schedule is unusable. The window's datetimes are in the configured zone.
    """
    _require_aware(now, "now")
    at = _utc(now)
    for window in _windows_from(cfg, _first_day(now, cfg)):
        if _utc(window.end) > at:
            return window
    raise ValueError(f"no change window after {now.isoformat()}")


def windows_between(cfg: ChangeWindowConfig, start: datetime, end: datetime) -> list[Window]:
    """Every window that overlaps ``[start, end)`` (at least partly inside it), in order.

    A window in progress at ``start`` is included; one opening exactly at ``end`` is not. Both
    bounds must be aware; an empty or reversed range gives ``[]``.
    """
    _require_aware(start, "start")
    _require_aware(end, "end")
    lo, hi = _utc(start), _utc(end)
    found: list[Window] = []
    if hi <= lo:
        return found
    for window in _windows_from(cfg, _first_day(start, cfg)):
        if _utc(window.start) >= hi:
            break
        if _utc(window.end) > lo:
            found.append(window)
    return found


def window_state(cfg: ChangeWindowConfig, now: datetime) -> WindowState:
    """Whether the change window is open at ``now`` (aware), with the countdown and a short line
    of text for the screen (see :class:`WindowState`)."""
    window = next_window(cfg, now)
    at = _utc(now)
    is_open = window.contains(now)
    closes_in = _utc(window.end) - at
    if is_open:
        return WindowState(True, window, timedelta(0), closes_in)
    return WindowState(False, window, _utc(window.start) - at, closes_in)


def phase_due(t0: datetime, offset_days: int) -> datetime:
    """The due moment of phase T-``offset_days``: the same wall-clock time, ``offset_days``
    calendar days before T-0, in T-0's zone (its ``tzinfo``).

    Calendar days, not multiples of 24 h: across a DST change the due time of day stays put and
    the real interval is 23 h or 25 h per change (T-14 01:00 stays 01:00). A due time that falls
    in a gap or the repeated hour is resolved as in :func:`resolve_local`. A negative offset gives
    a moment after T-0 (T+N); ``0`` gives T-0 itself. T-0 given with a fixed UTC offset (like
    ``+09:00``) has no DST, so name the zone for DST-aware due times. ``t0`` must be aware.
    """
    _require_aware(t0, "t0")
    if offset_days == 0:
        return t0
    tz = t0.tzinfo
    assert tz is not None
    wall = t0.replace(tzinfo=None, fold=0) - timedelta(days=offset_days)
    return resolve_local(wall, tz)


def due_status(due: datetime, now: datetime) -> DueStatus:
    """Where ``now`` stands against a due moment, judged in ``due``'s zone:

    * ``"overdue"``: ``now`` is at or after ``due`` (the due moment has arrived);
    * ``"due"``: ``now`` is before ``due`` and on the same calendar date as ``due`` in ``due``'s
      zone (due today);
    * ``"upcoming"``: ``now`` is on an earlier calendar date than ``due``.

    Note that with an early due time (01:00) a phase is ``"due"`` only from midnight to 01:00.
    Both arguments must be aware.
    """
    _require_aware(due, "due")
    _require_aware(now, "now")
    if _utc(now) >= _utc(due):
        return "overdue"
    tz = due.tzinfo
    assert tz is not None
    if now.astimezone(tz).date() == due.date():
        return "due"
    return "upcoming"


def moment_label(moment: datetime, now: datetime) -> str:
    """``12-16 01:00 JST``, with the year (``2020-01-01 01:00 JST``) when it is not ``now``'s
    year in the moment's own zone."""
    _require_aware(moment, "moment")
    year = moment.year != now.astimezone(moment.tzinfo).year
    return f"{moment:{'%Y-' if year else ''}%m-%d %H:%M} {moment.tzname()}"
