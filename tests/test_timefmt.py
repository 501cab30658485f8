"""One time convention: every moment people read is in the change window's zone with the zone
named, and one event reads the same date, time and zone on the dashboard, in the audit viewer
(its lines and its detail pane), in ``audit tail`` and in the Markdown and CSV exports; ``Z``
shows UTC in the TUI; data (JSON Lines, ``recorded_at``) stays RFC 3339 UTC."""

from __future__ import annotations

import contextlib
import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from textual.widgets import Static

import cockpit.store
from cockpit.cli import main
from cockpit.timefmt import TimeFormat
from screens.audit import AuditScreen
from tests.appfixture import CONFIG, make_app, screen_text, settle

TOKYO = TimeFormat("Asia/Tokyo")


def test_a_moment_is_written_in_the_zone_with_the_zone_named() -> None:
    logged = "2026-11-20T16:30:05.123456Z"  # 01:30 the next day in Tokyo
    assert TOKYO.show(logged) == "11-21 01:30 JST"
    assert TOKYO.show(logged, "stamp") == "11-21 01:30:05 JST"
    assert TOKYO.show(logged, "full") == "2026-11-21 01:30:05 JST"
    assert TOKYO.show(logged, "minute") == "2026-11-21 01:30 JST"
    assert TOKYO.show(logged, "clock") == "01:30 JST"
    assert TOKYO.show(logged, "day") == "11-21"
    assert TOKYO.show(None) == TOKYO.show("") == ""
    utc = TOKYO.toggled()
    assert (utc.utc, utc.name, TOKYO.name) == (True, "UTC", "Asia/Tokyo")
    assert utc.show(logged, "stamp") == "11-20 16:30:05 UTC"
    assert utc.toggled() == TOKYO
    # The year, when the moment is not in now's year (in the shown zone).
    new_year = datetime(2026, 12, 31, 16, 0, tzinfo=UTC)  # 2027-01-01 01:00 JST
    assert TOKYO.short(new_year, now=datetime(2026, 12, 1, tzinfo=UTC)) == "2027-01-01 01:00 JST"
    assert TOKYO.short(new_year, now=datetime(2027, 1, 5, tzinfo=UTC)) == "01-01 01:00 JST"
    # A zone with summer time names the one in force at the moment.
    berlin = TimeFormat("Europe/Berlin")
    assert berlin.show("2026-07-01T10:00:00Z") == "07-01 12:00 CEST"
    assert berlin.show("2026-12-01T10:00:00Z") == "12-01 11:00 CET"


def cli(*argv: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(list(argv), out=out)
    assert code == 0, err.getvalue()
    return out.getvalue()


async def test_one_event_reads_the_same_everywhere(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    app = make_app(monkeypatch, tmp_path)
    # A note recorded at 16:30:05 UTC on 11-20: 01:30 on 11-21 in the window's zone (Tokyo).
    # Before, the audit viewer said 11-20 16:30 (UTC, unnamed) and the dashboard 11-21 01:30.
    monkeypatch.setattr(cockpit.store, "now_utc", lambda: "2026-11-20T16:30:05.000000Z")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("n", *"paged the DBA", "enter")
        await settle(pilot)
        dashboard = screen_text(app)
        # The list's heading names the zone once; its rows keep the room for what was done.
        assert "Recent decisions (JST)" in dashboard, dashboard
        assert "11-21 01:30 alice (claimed) note" in dashboard, dashboard
        assert "T-0 12-16 01:00 JST" in dashboard

        await pilot.press("l")
        await settle(pilot)
        assert isinstance(app.screen, AuditScreen)
        viewer = screen_text(app)
        assert "#5    11-21 01:30:05 JST alice@bastion-1 (claimed) note" in viewer, viewer
        # At 120 columns the selected event (the newest: the view follows the tail) is below.
        pane = str(app.screen.query_one("#detail-text", Static).content)
        assert "recorded: 2026-11-21 01:30:05 JST  (2026-11-20T16:30:05.000000Z)" in pane

        await pilot.press("Z")  # UTC, everywhere, and back
        await settle(pilot)
        assert "#5    11-20 16:30:05 UTC alice@bastion-1" in screen_text(app)
        assert "Z JST" in screen_text(app)  # the footer says what Z goes back to
        assert "recorded: 2026-11-20 16:30:05 UTC" in str(
            app.screen.query_one("#detail-text", Static).content
        )
        # Switched back on another screen (the runbook, from the palette): on return too.
        await pilot.press("colon", *"open the runbook", "enter")
        await settle(pilot)
        assert "T-0 12-15 16:00 UTC" in screen_text(app)
        await pilot.press("Z", "escape")
        await settle(pilot)
        assert isinstance(app.screen, AuditScreen)
        assert "#5    11-21 01:30:05 JST alice@bastion-1" in screen_text(app)
        await pilot.press("Z")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert "Recent decisions (UTC)" in screen_text(app)
        assert "11-20 16:30 alice (claimed) note" in screen_text(app)
        assert "T-0 12-15 16:00 UTC" in screen_text(app)
        assert "next Tue 12-15 16:00-20:00 UTC" in screen_text(app)  # the window too
        await pilot.press("Z")
        await settle(pilot)
        assert "11-21 01:30 alice (claimed) note" in screen_text(app)
        assert "Recent decisions (JST)" in screen_text(app)
    app.session.store.close()

    # The same log, from the command line.
    (tmp_path / "cockpit.toml").write_text(CONFIG + '[database]\nurl = "sqlite:///cockpit.db"\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COCKPIT_CONFIG", raising=False)
    monkeypatch.delenv("COCKPIT_DATABASE_URL", raising=False)
    tail = cli("audit", "tail", "-n", "1")
    assert tail.startswith("#5    11-21 01:30:05 JST alice@bastion-1 (claimed) note"), tail
    md = cli("audit", "export", "--format", "md")
    assert "| seq | recorded (Asia/Tokyo) | actor |" in md
    assert "| 5 | 2026-11-21 01:30:05 JST | alice@bastion-1 (claimed) | note (rehearsal) |" in md
    rows = list(csv.DictReader(io.StringIO(cli("audit", "export", "--format", "csv"))))
    assert rows[-1]["recorded (Asia/Tokyo)"] == "2026-11-21 01:30:05 JST"
    assert rows[-1]["recorded_at"] == "2026-11-20T16:30:05.000000Z"  # the data, as logged
    jsonl = [json.loads(line) for line in cli("audit", "export").splitlines()]
    assert jsonl[-1]["recorded_at"] == "2026-11-20T16:30:05.000000Z"
    show = cli("release", "show", "r-1a2b3c4d")
    assert "T-0       2026-12-16 01:00 JST" in show
    assert "due 12-16 01:00 JST" in show
