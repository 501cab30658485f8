"""The change window engine. Every test passes its own ``now``; the real clock is never read."""

from __future__ import annotations

import calendar
import functools
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cockpit.config import ChangeWindowConfig
from cockpit.errors import ConfigError
from cockpit.window import (
    WEEKDAYS,
    Window,
    due_status,
    format_remaining,
    next_window,
    nth_weekday,
    phase_due,
    resolve_local,
    window_state,
    windows_between,
)

TOKYO = ZoneInfo("Asia/Tokyo")
NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
DEFAULT = ChangeWindowConfig()
H = timedelta(hours=1)


def weekly(tz: str, weekday: str, start: str, end: str) -> ChangeWindowConfig:
    fields: dict[str, Any] = {"frequency": "weekly", "weekday": weekday}
    return ChangeWindowConfig(timezone=tz, start=start, end=end, **fields)


def utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


# --- the default schedule: third Wednesday, 01:00-05:00 Asia/Tokyo ---------------------------

THIRD_WEDNESDAYS = [
    date(2026, 1, 21),
    date(2026, 2, 18),
    date(2026, 3, 18),
    date(2026, 4, 15),
    date(2026, 5, 20),
    date(2026, 6, 17),
    date(2026, 7, 15),
    date(2026, 8, 19),
    date(2026, 9, 16),
    date(2026, 10, 21),
    date(2026, 11, 18),
    date(2026, 12, 16),
    date(2027, 1, 20),
    date(2027, 2, 17),
    date(2027, 3, 17),
    date(2027, 4, 21),
    date(2027, 5, 19),
    date(2027, 6, 16),
    date(2027, 7, 21),
    date(2027, 8, 18),
    date(2027, 9, 15),
    date(2027, 10, 20),
    date(2027, 11, 17),
    date(2027, 12, 15),
]


def test_default_is_the_release_procedure() -> None:
    assert (DEFAULT.timezone, DEFAULT.frequency, DEFAULT.weekday, DEFAULT.week) == (
        "Asia/Tokyo",
        "monthly",
        "wednesday",
        3,
    )
    assert (DEFAULT.start, DEFAULT.end) == ("01:00", "05:00")


def test_default_windows_2026_2027() -> None:
    now = datetime(2026, 1, 1, tzinfo=TOKYO)
    seen = []
    for _ in THIRD_WEDNESDAYS:
        window = next_window(DEFAULT, now)
        seen.append(window)
        now = window.end
    assert [w.start.date() for w in seen] == THIRD_WEDNESDAYS
    for window, day in zip(seen, THIRD_WEDNESDAYS, strict=True):
        assert window.start == datetime.combine(day, time(1), TOKYO)
        assert window.end == datetime.combine(day, time(5), TOKYO)
        assert window.start.tzinfo is TOKYO
        assert window.duration == 4 * H


def test_third_wednesday_of_december_2026() -> None:
    window = next_window(DEFAULT, datetime(2026, 11, 23, 9, 30, tzinfo=UTC))
    assert window.start == datetime(2026, 12, 16, 1, 0, tzinfo=TOKYO)
    assert window.end == datetime(2026, 12, 16, 5, 0, tzinfo=TOKYO)
    assert window.label() == "Wed 12-16 01:00-05:00 JST"
    assert str(window) == "Wed 12-16 01:00-05:00 JST"
    assert window.start_label() == "Wed 12-16 01:00 JST"


def test_windows_between_lists_overlapping_windows() -> None:
    start = datetime(2026, 4, 15, 2, 0, tzinfo=TOKYO)  # inside the April window
    end = datetime(2026, 6, 17, 1, 0, tzinfo=TOKYO)  # exactly when the June window opens
    assert [w.start.date() for w in windows_between(DEFAULT, start, end)] == [
        date(2026, 4, 15),
        date(2026, 5, 20),
    ]
    assert windows_between(DEFAULT, end, start) == []
    assert windows_between(DEFAULT, start, start) == []
    whole_2027 = windows_between(
        DEFAULT, datetime(2027, 1, 1, tzinfo=TOKYO), datetime(2028, 1, 1, tzinfo=TOKYO)
    )
    assert [w.start.date() for w in whole_2027] == THIRD_WEDNESDAYS[12:]


# --- open and closed at the boundaries ---------------------------------------------------------

DEC_OPEN = datetime(2026, 12, 16, 1, 0, tzinfo=TOKYO)
DEC_CLOSE = datetime(2026, 12, 16, 5, 0, tzinfo=TOKYO)
TICK = timedelta(microseconds=1)


@pytest.mark.parametrize(
    ("now", "is_open", "window_day"),
    [
        (DEC_OPEN - TICK, False, date(2026, 12, 16)),
        (DEC_OPEN, True, date(2026, 12, 16)),
        (DEC_CLOSE - TICK, True, date(2026, 12, 16)),
        (DEC_CLOSE, False, date(2027, 1, 20)),
        (datetime(2026, 12, 15, 16, 0, tzinfo=UTC), True, date(2026, 12, 16)),  # 01:00 JST
        (datetime(2026, 12, 15, 20, 0, tzinfo=UTC), False, date(2027, 1, 20)),  # 05:00 JST
    ],
)
def test_start_inclusive_end_exclusive(now: datetime, is_open: bool, window_day: date) -> None:
    state = window_state(DEFAULT, now)
    assert state.open is is_open
    assert state.window.start.date() == window_day
    assert state.window.contains(now) is is_open
    if is_open:
        assert state.opens_in == timedelta(0)
        assert state.text.startswith("open, ")
    else:
        assert state.opens_in == utc(state.window.start) - utc(now) > timedelta(0)
        assert state.text.startswith("opens ")
    assert state.closes_in == utc(state.window.end) - utc(now)


def test_state_text() -> None:
    state = window_state(DEFAULT, datetime(2026, 12, 16, 1, 48, tzinfo=TOKYO))
    assert state.open
    assert state.closes_in == timedelta(hours=3, minutes=12)
    assert state.text == "open, 3h12m left"

    state = window_state(DEFAULT, datetime(2026, 11, 22, 20, 30, tzinfo=TOKYO))
    assert not state.open
    assert state.opens_in == timedelta(days=23, hours=4, minutes=30)
    assert state.text == "opens Wed 12-16 01:00 JST (in 23d 4h)"

    state = window_state(DEFAULT, DEC_OPEN - timedelta(seconds=45))
    assert state.text == "opens Wed 12-16 01:00 JST (in 45s)"


def test_naive_moments_are_refused() -> None:
    naive = datetime(2026, 12, 16, 1, 0)
    window = next_window(DEFAULT, DEC_OPEN)
    with pytest.raises(ValueError, match="aware"):
        next_window(DEFAULT, naive)
    with pytest.raises(ValueError, match="aware"):
        window_state(DEFAULT, naive)
    with pytest.raises(ValueError, match="aware"):
        windows_between(DEFAULT, naive, DEC_CLOSE)
    with pytest.raises(ValueError, match="aware"):
        window.contains(naive)
    with pytest.raises(ValueError, match="aware"):
        phase_due(naive, 14)
    with pytest.raises(ValueError, match="aware"):
        due_status(DEC_OPEN, naive)
    with pytest.raises(ValueError, match="aware"):
        Window(naive, DEC_CLOSE)
    with pytest.raises(ValueError, match="naive"):
        resolve_local(DEC_OPEN, TOKYO)


def test_windows_are_equal_by_instants() -> None:
    first = datetime(2026, 11, 1, 1, 30, tzinfo=NEW_YORK)  # EDT
    second = datetime(2026, 11, 1, 1, 30, tzinfo=NEW_YORK, fold=1)  # EST, an hour later
    end = datetime(2026, 11, 1, 3, 0, tzinfo=NEW_YORK)
    assert Window(first, end) != Window(second, end)
    assert Window(first, end).duration == Window(second, end).duration + H
    assert Window(first, end) == Window(utc(first), utc(end))
    assert len({Window(first, end), Window(utc(first), utc(end))}) == 1


def test_window_must_end_after_it_starts() -> None:
    with pytest.raises(ValueError, match="end after"):
        Window(DEC_CLOSE, DEC_OPEN)
    with pytest.raises(ValueError, match="end after"):
        Window(DEC_OPEN, DEC_OPEN)


def test_unusable_schedule_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown time zone 'Mars/Olympus'"):
        next_window(ChangeWindowConfig(timezone="Mars/Olympus"), DEC_OPEN)
    with pytest.raises(ConfigError, match=r"change_window\.weekday"):
        next_window(ChangeWindowConfig(weekday="caturday"), DEC_OPEN)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"change_window\.week"):
        next_window(ChangeWindowConfig(week=6), DEC_OPEN)
    with pytest.raises(ConfigError, match=r"change_window\.start"):
        next_window(ChangeWindowConfig(start="1am"), DEC_OPEN)


# --- crossing midnight ---------------------------------------------------------------------------


def test_window_crossing_midnight() -> None:
    cfg = weekly("Asia/Tokyo", "friday", "22:00", "02:00")
    friday = datetime(2026, 3, 6, 22, 0, tzinfo=TOKYO)
    window = next_window(cfg, datetime(2026, 3, 6, 12, 0, tzinfo=TOKYO))
    assert window.start == friday
    assert window.end == datetime(2026, 3, 7, 2, 0, tzinfo=TOKYO)
    assert window.duration == 4 * H
    assert window.label() == "Fri 03-06 22:00-02:00 JST"
    # Early on Saturday the Friday window is still the one in progress.
    saturday_early = datetime(2026, 3, 7, 1, 59, 59, tzinfo=TOKYO)
    assert next_window(cfg, saturday_early) == window
    assert window_state(cfg, saturday_early).open
    assert not window.contains(datetime(2026, 3, 7, 2, 0, tzinfo=TOKYO))
    assert next_window(cfg, window.end).start == friday + timedelta(days=7)


def test_start_equal_to_end_is_a_whole_day() -> None:
    # The config file refuses this; the engine reads it as crossing midnight (24 h).
    cfg = weekly("Asia/Tokyo", "monday", "06:00", "06:00")
    window = next_window(cfg, datetime(2026, 3, 2, tzinfo=TOKYO))
    assert window.start == datetime(2026, 3, 2, 6, 0, tzinfo=TOKYO)
    assert window.duration == 24 * H


# --- daylight saving time ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "sunday", "utc_start"),
    [
        (NEW_YORK, date(2026, 3, 8), datetime(2026, 3, 8, 7, 0, tzinfo=UTC)),
        (BERLIN, date(2026, 3, 29), datetime(2026, 3, 29, 1, 0, tzinfo=UTC)),
    ],
)
def test_start_in_spring_forward_gap_moves_to_end_of_gap(
    zone: ZoneInfo, sunday: date, utc_start: datetime
) -> None:
    cfg = weekly(str(zone), "sunday", "02:30", "04:30")
    window = next_window(cfg, datetime.combine(sunday - timedelta(days=1), time(12), zone))
    assert window.start.date() == sunday
    assert (window.start.hour, window.start.minute) == (3, 0)
    assert utc(window.start) == utc_start
    assert (window.end.hour, window.end.minute) == (4, 30)
    assert window.duration == timedelta(hours=1, minutes=30)  # nominal 2 h, one hour skipped
    # The week after, the window is back to its nominal shape.
    following = next_window(cfg, window.end)
    assert following.start == datetime.combine(sunday + timedelta(days=7), time(2, 30), zone)
    assert following.duration == 2 * H


def test_spring_forward_labels() -> None:
    cfg = weekly("America/New_York", "sunday", "02:30", "04:30")
    window = next_window(cfg, datetime(2026, 3, 7, tzinfo=NEW_YORK))
    assert window.label() == "Sun 03-08 03:00-04:30 EDT"
    cfg = weekly("America/New_York", "sunday", "01:00", "04:00")
    window = next_window(cfg, datetime(2026, 3, 7, tzinfo=NEW_YORK))
    assert window.label() == "Sun 03-08 01:00 EST-04:00 EDT"
    assert window.duration == 2 * H


def test_window_entirely_inside_the_gap_is_skipped() -> None:
    cfg = weekly("America/New_York", "sunday", "02:00", "02:30")
    window = next_window(cfg, datetime(2026, 3, 7, tzinfo=NEW_YORK))
    assert window.start == datetime(2026, 3, 15, 2, 0, tzinfo=NEW_YORK)
    assert window.duration == 30 * timedelta(minutes=1)


@pytest.mark.parametrize(
    ("zone", "sunday", "utc_start", "utc_end"),
    [
        (
            NEW_YORK,
            date(2026, 11, 1),
            datetime(2026, 11, 1, 5, 0, tzinfo=UTC),  # 01:00 EDT
            datetime(2026, 11, 1, 8, 0, tzinfo=UTC),  # 03:00 EST
        ),
        (
            BERLIN,
            date(2026, 10, 25),
            datetime(2026, 10, 24, 23, 0, tzinfo=UTC),  # 01:00 CEST
            datetime(2026, 10, 25, 2, 0, tzinfo=UTC),  # 03:00 CET
        ),
    ],
)
def test_fall_back_window_lasts_three_real_hours(
    zone: ZoneInfo, sunday: date, utc_start: datetime, utc_end: datetime
) -> None:
    cfg = weekly(str(zone), "sunday", "01:00", "03:00")
    window = next_window(cfg, datetime.combine(sunday - timedelta(days=1), time(12), zone))
    assert (utc(window.start), utc(window.end)) == (utc_start, utc_end)
    assert window.duration == 3 * H
    state = window_state(cfg, window.start + timedelta(minutes=12))
    assert state.text == "open, 2h48m left"


def test_fall_back_labels() -> None:
    cfg = weekly("America/New_York", "sunday", "01:00", "03:00")
    window = next_window(cfg, datetime(2026, 10, 31, tzinfo=NEW_YORK))
    assert window.label() == "Sun 11-01 01:00 EDT-03:00 EST"


def test_ambiguous_start_takes_first_occurrence() -> None:
    cfg = weekly("Europe/Berlin", "sunday", "02:30", "04:00")
    window = next_window(cfg, datetime(2026, 10, 24, tzinfo=BERLIN))
    assert window.start.fold == 0
    assert window.start.tzname() == "CEST"
    assert utc(window.start) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert window.duration == timedelta(hours=2, minutes=30)  # nominal 1h30


def test_repeated_hour_is_compared_as_instants() -> None:
    # 00:00-01:30 on the fall-back day ends at the first 01:30 (EDT). 01:15 EST (fold=1) is
    # later than that, although its wall-clock reading is earlier.
    cfg = weekly("America/New_York", "sunday", "00:00", "01:30")
    window = next_window(cfg, datetime(2026, 10, 31, tzinfo=NEW_YORK))
    assert window.duration == timedelta(hours=1, minutes=30)
    first_0115 = datetime(2026, 11, 1, 1, 15, tzinfo=NEW_YORK, fold=0)
    second_0115 = datetime(2026, 11, 1, 1, 15, tzinfo=NEW_YORK, fold=1)
    assert window.contains(first_0115)
    assert not window.contains(second_0115)
    assert window_state(cfg, first_0115).open
    later = window_state(cfg, second_0115)
    assert not later.open
    assert later.window.start.date() == date(2026, 11, 8)


def test_window_crossing_midnight_into_spring_forward() -> None:
    cfg = weekly("America/New_York", "saturday", "22:00", "04:00")
    window = next_window(cfg, datetime(2026, 3, 7, 12, 0, tzinfo=NEW_YORK))
    assert utc(window.start) == datetime(2026, 3, 8, 3, 0, tzinfo=UTC)  # 22:00 EST
    assert utc(window.end) == datetime(2026, 3, 8, 8, 0, tzinfo=UTC)  # 04:00 EDT
    assert window.duration == 5 * H  # nominal 6 h
    assert window.label() == "Sat 03-07 22:00 EST-04:00 EDT"
    assert window.contains(datetime(2026, 3, 8, 3, 59, tzinfo=NEW_YORK))


# --- phases --------------------------------------------------------------------------------------


def test_phase_due_keeps_wall_clock_across_dst() -> None:
    t0 = datetime(2026, 3, 30, 1, 0, tzinfo=BERLIN)  # CEST
    due = phase_due(t0, 14)
    assert due == datetime(2026, 3, 16, 1, 0, tzinfo=BERLIN)  # CET
    assert (due.hour, due.minute, due.tzname()) == (1, 0, "CET")
    assert utc(t0) - utc(due) == timedelta(days=14) - H

    t0 = datetime(2026, 11, 4, 1, 0, tzinfo=NEW_YORK)  # EST
    due = phase_due(t0, 7)
    assert (due.date(), due.hour, due.tzname()) == (date(2026, 10, 28), 1, "EDT")
    assert utc(t0) - utc(due) == timedelta(days=7) + H


def test_phase_due_default_release() -> None:
    t0 = datetime(2026, 12, 16, 1, 0, tzinfo=TOKYO)
    assert phase_due(t0, 14) == datetime(2026, 12, 2, 1, 0, tzinfo=TOKYO)
    assert phase_due(t0, 1) == datetime(2026, 12, 15, 1, 0, tzinfo=TOKYO)
    assert phase_due(t0, 0) is t0
    assert phase_due(t0, -1) == datetime(2026, 12, 17, 1, 0, tzinfo=TOKYO)


def test_phase_due_in_gap_and_repeated_hour() -> None:
    due = phase_due(datetime(2026, 3, 15, 2, 30, tzinfo=NEW_YORK), 7)
    assert utc(due) == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)  # 03:00 EDT, end of the gap
    due = phase_due(datetime(2026, 11, 8, 1, 30, tzinfo=NEW_YORK), 7)
    assert (due.fold, due.tzname()) == (0, "EDT")  # first 01:30


def test_phase_due_with_fixed_offset_has_no_dst() -> None:
    t0 = datetime.fromisoformat("2026-03-30T01:00+02:00")
    assert utc(t0) - utc(phase_due(t0, 14)) == timedelta(days=14)


@pytest.mark.parametrize(
    ("now", "status"),
    [
        (datetime(2026, 11, 30, 12, 0, tzinfo=TOKYO), "upcoming"),
        (datetime(2026, 12, 1, 23, 59, 59, tzinfo=TOKYO), "upcoming"),
        (datetime(2026, 12, 2, 0, 0, tzinfo=TOKYO), "due"),
        (datetime(2026, 12, 1, 15, 0, tzinfo=UTC), "due"),  # 00:00 JST, still Dec 1 in UTC
        (datetime(2026, 12, 2, 0, 59, 59, 999999, tzinfo=TOKYO), "due"),
        (datetime(2026, 12, 2, 1, 0, tzinfo=TOKYO), "overdue"),
        (datetime(2026, 12, 9, 0, 0, tzinfo=TOKYO), "overdue"),
    ],
)
def test_due_status(now: datetime, status: str) -> None:
    due = phase_due(datetime(2026, 12, 16, 1, 0, tzinfo=TOKYO), 14)
    assert due_status(due, now) == status


@pytest.mark.parametrize(
    ("td", "text"),
    [
        (timedelta(days=23, hours=4, minutes=59, seconds=59), "23d 4h"),
        (timedelta(days=1), "1d 0h"),
        (timedelta(hours=3, minutes=12, seconds=30), "3h12m"),
        (timedelta(hours=3, minutes=5), "3h05m"),
        (timedelta(minutes=4, seconds=5), "4m05s"),
        (timedelta(seconds=45), "45s"),
        (timedelta(seconds=45, microseconds=999_999), "45s"),
        (timedelta(0), "0s"),
        (timedelta(seconds=-90), "-1m30s"),
    ],
)
def test_format_remaining(td: timedelta, text: str) -> None:
    assert format_remaining(td) == text


# --- week = 5 ------------------------------------------------------------------------------------


def test_fifth_weekday_skips_months_without_one() -> None:
    cfg = ChangeWindowConfig(week=5)  # fifth Wednesday, 01:00-05:00 Tokyo
    found = windows_between(
        cfg, datetime(2026, 1, 1, tzinfo=TOKYO), datetime(2028, 1, 1, tzinfo=TOKYO)
    )
    assert [w.start.date() for w in found] == [
        date(2026, 4, 29),
        date(2026, 7, 29),
        date(2026, 9, 30),
        date(2026, 12, 30),
        date(2027, 3, 31),
        date(2027, 6, 30),
        date(2027, 9, 29),
        date(2027, 12, 29),
    ]
    # From May 2026 the next one is at the end of July: May and June have four Wednesdays.
    assert next_window(cfg, datetime(2026, 5, 1, tzinfo=TOKYO)).start.date() == date(2026, 7, 29)


def test_nth_weekday_matches_the_calendar_module() -> None:
    for year in range(2000, 2101):
        for month in range(1, 13):
            weeks = calendar.monthcalendar(year, month)
            for weekday in range(7):
                days = [week[weekday] for week in weeks if week[weekday]]
                for n in range(1, 6):
                    expected = date(year, month, days[n - 1]) if n <= len(days) else None
                    assert nth_weekday(year, month, weekday, n) == expected


# --- properties ----------------------------------------------------------------------------------

ZONES = [
    "Asia/Tokyo",
    "America/New_York",
    "Europe/Berlin",
    "Europe/Dublin",  # negative DST in tzdata
    "Australia/Lord_Howe",  # 30-minute DST
    "Pacific/Chatham",
    "America/St_Johns",
    "America/Santiago",  # DST changes at midnight
    "Pacific/Apia",  # skipped 2011-12-30 entirely
    "Antarctica/Troll",  # two-hour DST
    "Asia/Kolkata",
    "UTC",
]
FIRST_YEAR, LAST_YEAR = 1900, 2100
SECOND = timedelta(seconds=1)


@functools.cache
def transitions(name: str) -> tuple[datetime, ...]:
    """The instants (UTC, whole seconds) at which ``name`` changes its UTC offset, found by a
    daily scan and bisection, independently of the code under test."""
    zone = ZoneInfo(name)
    found = []
    day = datetime(FIRST_YEAR, 1, 1, tzinfo=UTC)
    stop = datetime(LAST_YEAR + 1, 1, 1, tzinfo=UTC)
    offset = day.astimezone(zone).utcoffset()
    while day < stop:
        following = day + timedelta(days=1)
        new_offset = following.astimezone(zone).utcoffset()
        if new_offset != offset:
            lo, hi = 0, 86_400  # seconds after ``day``: old offset at lo, new at hi
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if (day + mid * SECOND).astimezone(zone).utcoffset() == offset:
                    lo = mid
                else:
                    hi = mid
            found.append(day + hi * SECOND)
        offset, day = new_offset, following
    return tuple(found)


def naive_wall(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.astimezone(zone).replace(tzinfo=None, fold=0)


@st.composite
def near_transition(draw: st.DrawFn, zone_name: str) -> datetime:
    """An instant (UTC) within two days of one of the zone's offset changes."""
    changes = transitions(zone_name)
    if not changes:
        return datetime(2026, 6, 1, tzinfo=UTC)
    change = draw(st.sampled_from(changes))
    return change + draw(st.integers(-2 * 86_400, 2 * 86_400)) * SECOND


@st.composite
def walls(draw: st.DrawFn) -> tuple[datetime, ZoneInfo]:
    """A naive wall-clock time and a zone, often close to (or inside) a gap or repeated hour."""
    name = draw(st.sampled_from(ZONES))
    zone = ZoneInfo(name)
    if draw(st.booleans()):
        wall = draw(
            st.datetimes(
                min_value=datetime(FIRST_YEAR, 1, 1), max_value=datetime(LAST_YEAR, 12, 31)
            )
        )
        return wall, zone
    changes = transitions(name)
    if not changes:
        return datetime(2026, 6, 1, 12), zone
    change = draw(st.sampled_from(changes))
    before, after = naive_wall(change - SECOND, zone), naive_wall(change, zone)
    lo, hi = min(before, after) - H, max(before, after) + H
    seconds = draw(st.integers(0, int((hi - lo).total_seconds())))
    return lo + seconds * SECOND, zone


def hhmm_of(wall: datetime) -> str:
    return f"{wall.hour:02d}:{wall.minute:02d}"


any_hhmm = st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.integers(0, 59))
aware_zones = st.sampled_from([ZoneInfo(z) for z in ZONES])


@st.composite
def cases(draw: st.DrawFn) -> tuple[ChangeWindowConfig, datetime]:
    """A schedule and a ``now``. Half of them are aimed at a DST change: the window is scheduled
    on the day of an offset change, starting and/or ending near it, and ``now`` is close by."""
    name = draw(st.sampled_from(ZONES))
    zone = ZoneInfo(name)
    frequency = draw(st.sampled_from(["monthly", "weekly"]))
    shown_in = draw(aware_zones)
    if draw(st.booleans()) or not transitions(name):
        fields: dict[str, Any] = {
            "weekday": draw(st.sampled_from(WEEKDAYS)),
            "week": draw(st.integers(1, 5)),
            "start": draw(any_hhmm),
            "end": draw(any_hhmm),
        }
        now = draw(
            st.datetimes(
                min_value=datetime(FIRST_YEAR, 1, 1),
                max_value=datetime(LAST_YEAR, 12, 31),
                timezones=aware_zones,
            )
        )
    else:
        change = draw(st.sampled_from(transitions(name)))
        before, after = naive_wall(change - SECOND, zone), naive_wall(change, zone)
        lo, hi = min(before, after) - H, max(before, after) + H
        span = int((hi - lo).total_seconds()) // 60

        def near() -> str:
            return hhmm_of(lo + draw(st.integers(0, span)) * timedelta(minutes=1))

        day = (lo + (hi - lo) / 2).date()
        start = near() if draw(st.booleans()) else draw(any_hhmm)
        end = near() if draw(st.booleans()) else draw(any_hhmm)
        fields = {
            "weekday": WEEKDAYS[day.weekday()],
            "week": min((day.day - 1) // 7 + 1, 5),
            "start": start,
            "end": end,
        }
        now = change + draw(st.integers(-3 * 86_400, 2 * 86_400)) * SECOND
        if draw(st.booleans()):  # sometimes exactly on a minute, like a window edge
            now = now.replace(second=0, microsecond=0)
    if fields["start"] == fields["end"]:
        fields["end"] = "23:59" if fields["start"] != "23:59" else "00:00"
    fields["frequency"] = frequency
    cfg = ChangeWindowConfig(timezone=name, **fields)
    return cfg, now.astimezone(shown_in)


def _is_scheduled(cfg: ChangeWindowConfig, day: date) -> bool:
    if day.weekday() != WEEKDAYS.index(cfg.weekday):
        return False
    return cfg.frequency == "weekly" or (day.day - 1) // 7 + 1 == cfg.week


@settings(max_examples=500, deadline=None)
@given(case=cases())
def test_next_window_is_current_or_next(case: tuple[ChangeWindowConfig, datetime]) -> None:
    cfg, now = case
    window = next_window(cfg, now)
    zone = ZoneInfo(cfg.timezone)
    assert window.start.tzinfo is zone and window.end.tzinfo is zone
    assert window.duration > timedelta(0)
    state = window_state(cfg, now)
    assert state.window == window
    if window.contains(now):
        assert state.open and state.opens_in == timedelta(0)
        assert windows_between(cfg, now, utc(now) + TICK) == [window]
    else:
        assert utc(window.start) > utc(now)
        assert not state.open and state.opens_in == utc(window.start) - utc(now)
        # Nothing of the same schedule is open at now or opens before the returned window.
        assert windows_between(cfg, now, window.start) == []
    # Seen from further back, every earlier window has ended by now and this one comes next.
    earlier = windows_between(cfg, utc(now) - timedelta(days=40), window.end)
    assert earlier[-1] == window
    assert all(utc(w.end) <= utc(now) for w in earlier[:-1])
    # A window starting at its nominal wall-clock time is on a scheduled day.
    if hhmm_of(window.start) == cfg.start:
        assert _is_scheduled(cfg, window.start.date())


@settings(max_examples=500, deadline=None)
@given(case=walls())
def test_resolve_local(case: tuple[datetime, ZoneInfo]) -> None:
    wall, zone = case
    resolved = resolve_local(wall, zone)
    assert resolved.tzinfo is zone
    readings = [utc(wall.replace(tzinfo=zone, fold=fold)) for fold in (0, 1)]
    exact = [r for r in readings if naive_wall(r, zone) == wall]
    if exact:
        # The wall-clock time exists: keep it, at its first occurrence.
        assert resolved.replace(tzinfo=None) == wall
        assert utc(resolved) == min(exact)
    else:
        # In a gap: the first instant whose reading is past the wall-clock time.
        assert naive_wall(resolved, zone) > wall
        assert naive_wall(utc(resolved) - SECOND, zone) < wall


@settings(max_examples=300, deadline=None)
@given(case=walls(), offset=st.integers(-60, 60))
def test_phase_due_is_calendar_days(case: tuple[datetime, ZoneInfo], offset: int) -> None:
    wall, zone = case
    t0 = resolve_local(wall, zone)
    due = phase_due(t0, offset)
    assert due.tzinfo is zone
    target = t0.replace(tzinfo=None, fold=0) - timedelta(days=offset)
    if offset == 0:
        assert due is t0
    elif naive_wall(due, zone) == target:
        assert due.date() == t0.date() - timedelta(days=offset)
        assert due.fold == 0
    else:  # the wall-clock time fell in a gap and moved forward to the end of it
        assert naive_wall(due, zone) > target
        assert naive_wall(utc(due) - SECOND, zone) < target
