"""The calendar (cockpit.schedule, `cockpit window list`): per-plan windows, extra windows and
blackouts in named zones. Every test gives its own ``now``; the real clock is never read."""

from __future__ import annotations

import contextlib
import io
import time
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from cockpit.cli import main
from cockpit.config import parse_config_text
from cockpit.errors import ConfigError
from cockpit.plan import read_plan
from cockpit.schedule import blackout_at, calendar_state, slot_at, slots, stage_times
from cockpit.session import Session

TOKYO = ZoneInfo("Asia/Tokyo")
NEW_YORK = ZoneInfo("America/New_York")

CALENDAR = """
[windows.migration]
start = "01:00"
end = "09:00"

[windows.nyc]
timezone = "America/New_York"
frequency = "weekly"
weekday = "sunday"
start = "01:00"
end = "04:00"

[[extra_windows]]
start = "2026-12-27T01:00"
end = "2026-12-27T05:00"
reason = "year-end fix"
plans = ["release"]

[[blackouts]]
start = "2027-01-01"
end = "2027-01-31"
reason = "year-end freeze"
"""


def frozen_session(now: datetime) -> type[Session]:
    """Sessions whose clock stands at ``now`` (the CLI makes its own)."""

    class Frozen(Session):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs, now=lambda: now)

    return Frozen


def starts(plan: str, now: datetime, n: int, text: str = CALENDAR) -> list[str]:
    config = parse_config_text(text)
    return [
        f"{s.window.start:%Y-%m-%d %H:%M %Z}{'' if s.usable else ' X'}"
        for s in islice(slots(config, plan, now), n)
    ]


def test_third_wednesday_across_months_and_years() -> None:
    now = datetime(2026, 11, 20, 12, 0, tzinfo=TOKYO)
    assert starts("release", now, 6, "") == [
        "2026-12-16 01:00 JST",
        "2027-01-20 01:00 JST",
        "2027-02-17 01:00 JST",
        "2027-03-17 01:00 JST",
        "2027-04-21 01:00 JST",
        "2027-05-19 01:00 JST",
    ]
    # Open now: the window in progress comes first; at its end it is gone.
    inside = datetime(2026, 12, 16, 4, 59, tzinfo=TOKYO)
    assert starts("release", inside, 1, "") == ["2026-12-16 01:00 JST"]
    closed = datetime(2026, 12, 16, 5, 0, tzinfo=TOKYO)
    assert starts("release", closed, 1, "") == ["2027-01-20 01:00 JST"]


def test_a_blackout_overrides_a_window_and_an_extra_window_counts() -> None:
    now = datetime(2026, 12, 17, tzinfo=TOKYO)
    assert starts("release", now, 3) == [
        "2026-12-27 01:00 JST",  # the extra window, for the release plan only
        "2027-01-20 01:00 JST X",  # inside the freeze
        "2027-02-17 01:00 JST",
    ]
    assert starts("migration", now, 2) == ["2027-01-20 01:00 JST X", "2027-02-17 01:00 JST"]
    config = parse_config_text(CALENDAR)
    state = calendar_state(config, "release", datetime(2027, 1, 2, tzinfo=TOKYO))
    assert not state.open and state.text == "opens Wed 02-17 01:00 JST (in 46d 1h)"
    frozen = datetime(2027, 1, 20, 2, 0, tzinfo=TOKYO)
    assert slot_at(config, "release", frozen) is None
    blackout = blackout_at(config, "release", frozen)
    assert blackout is not None and blackout.reason == "year-end freeze"
    assert slot_at(config, "release", datetime(2026, 12, 27, 4, 59, tzinfo=TOKYO)) is not None
    assert slot_at(config, "migration", datetime(2026, 12, 27, 2, 0, tzinfo=TOKYO)) is None


def test_the_migration_window_and_its_four_stages() -> None:
    config = parse_config_text(CALENDAR)
    now = datetime(2026, 12, 16, 8, 59, tzinfo=TOKYO)
    slot = slot_at(config, "migration", now)
    assert slot is not None and slot.window.label() == "Wed 12-16 01:00-09:00 JST"
    assert slot_at(config, "release", now) is None  # the release plan's window closed at 05:00
    state = calendar_state(config, "migration", now)
    assert state.open and state.text == "open, 1m00s left"
    stages = next(p.stages for p in read_plan("migration").plan.phases if p.offset_days == 0)
    shown = [
        f"{stage.id} {start:%H:%M}-{end:%H:%M}"
        for stage, start, end in stage_times(slot.window, stages)
    ]
    assert shown == [
        "prep 01:00-02:00",
        "data 02:00-06:00",
        "app 06:00-08:00",
        "verify 08:00-09:00",
    ]


def test_a_new_york_window_across_both_daylight_saving_changes() -> None:
    # Spring forward 2027-03-14 02:00 EST -> 03:00 EDT; fall back 2027-11-07 02:00 EDT -> 01:00.
    spring = starts("nyc", datetime(2027, 3, 10, tzinfo=NEW_YORK), 3)
    assert spring == ["2027-03-14 01:00 EST", "2027-03-21 01:00 EDT", "2027-03-28 01:00 EDT"]
    config = parse_config_text(CALENDAR)
    first = next(slots(config, "nyc", datetime(2027, 3, 10, tzinfo=NEW_YORK))).window
    assert first.duration.total_seconds() == 2 * 3600  # 01:00-04:00 loses the skipped hour
    fall = next(slots(config, "nyc", datetime(2027, 11, 5, tzinfo=NEW_YORK))).window
    assert (
        fall.label() == "Sun 11-07 01:00 EDT-04:00 EST"
        and fall.duration.total_seconds() == 4 * 3600
    )
    # The repeated 01:30: both instants are inside the window.
    first_130 = datetime(2027, 11, 7, 5, 30, tzinfo=UTC)  # 01:30 EDT
    second_130 = datetime(2027, 11, 7, 6, 30, tzinfo=UTC)  # 01:30 EST
    assert slot_at(config, "nyc", first_130) is not None
    assert slot_at(config, "nyc", second_130) is not None
    assert slot_at(config, "nyc", datetime(2027, 11, 7, 9, 0, tzinfo=UTC)) is None  # 04:00 EST


BAD_CALENDARS = [
    ('[windows.migration]\ntimezone = "Mars/Base"\n', "windows.migration.timezone: unknown time"),
    (
        '[[blackouts]]\nstart = "2027-01-05"\nend = "2027-01-01"\nreason = "x"\n',
        "blackouts.0.end: must be after start",
    ),
    (
        '[[extra_windows]]\nstart = "2027-02-30T01:00"\nend = "2027-03-01"\n',
        "extra_windows.0.start: '2027-02-30T01:00' is not a date",
    ),
    (
        '[[blackouts]]\nstart = "2027-01-01"\nend = "2027-01-05"\n',
        "blackouts.0: object missing required field `reason`",
    ),
]


@pytest.mark.parametrize(("text", "message"), BAD_CALENDARS)
def test_bad_calendars_are_one_line(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config_text(text)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_window_list_in_three_zones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "cockpit.toml").write_text('[database]\nurl = "sqlite:///c.db"\n' + CALENDAR)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COCKPIT_CONFIG", raising=False)
    monkeypatch.setenv("TZ", "Europe/Paris")
    time.tzset()
    now = datetime(2026, 12, 20, tzinfo=UTC)
    monkeypatch.setattr("cockpit.session.Session", frozen_session(now))
    out = io.StringIO()
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            assert main(["window", "list", "--plan", "migration", "-n", "2"], out=out) == 0
    finally:
        monkeypatch.undo()
        time.tzset()
    lines = out.getvalue().splitlines()
    assert lines[0].startswith(
        "plan migration (own schedule): third wednesday monthly, 01:00-09:00"
    )
    assert lines[1].split() == ["WINDOW", "(Asia/Tokyo)", "UTC", "LOCAL", "(CET)"]
    assert lines[2].split() == [
        *["Wed", "2027-01-20", "01:00-09:00", "JST"],
        *["Tue", "2027-01-19", "16:00-00:00+1d", "UTC"],
        *["Tue", "2027-01-19", "17:00-01:00+1d", "CET"],
        *["BLACKED", "OUT:", "year-end", "freeze"],
    ]
    assert lines[3].startswith("Wed 2027-02-17 01:00-09:00 JST")
    assert lines[4:] == [
        "    01:00-02:00  準備 (Preparation)",
        "    02:00-06:00  データ移行 (Data migration)",
        "    06:00-08:00  アプリケーション移行 (Application migration)",
        "    08:00-09:00  検証 (Verification)",
    ]


def test_screens_read_the_plans_calendar_and_show_another_year() -> None:
    from cockpit.config import LoadedConfig
    from cockpit.window import moment_label
    from screens.text import window_text

    loaded = LoadedConfig(parse_config_text(CALENDAR), None)
    at_six = datetime(2026, 12, 15, 21, 0, tzinfo=UTC)  # Wed 12-16 06:00 JST
    session = Session(loaded=loaded, now=lambda: at_six)
    assert window_text(session, "migration") == "window open, 3h00m left"
    assert window_text(session, "release") == "next Sun 12-27 01:00-05:00 JST (in 10d 19h)"
    new_year = datetime(2026, 12, 28, tzinfo=UTC)
    session = Session(loaded=loaded, now=lambda: new_year)
    assert window_text(session, "release") == "next Wed 2027-02-17 01:00-05:00 JST (in 50d 16h)"
    t0 = datetime(2020, 1, 1, 1, 0, tzinfo=TOKYO)
    assert moment_label(t0, new_year) == "2020-01-01 01:00 JST"
    assert moment_label(t0.replace(year=2026), new_year) == "01-01 01:00 JST"
