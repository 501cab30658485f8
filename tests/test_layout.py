"""The whole screen (issue 18): the dashboard's Health line and, from 120x40, its longer names and
the current phase's open items; the runbook's metrics line and its preview beside the log; metric
panels that grow with the terminal; dialogs sized to their content. At 80x24 nothing is cut that
was shown before. The metrics come from a real source (the host's /proc) where a value is needed,
and from a series the test fills where the picture must be fixed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import msgspec
import pytest
from textual.widgets import Log, Static

from cockpit.config import PanelConfig
from cockpit.i18n import CATALOG
from cockpit.metrics import Panel, Sample, Series, panel_state
from screens.app import CockpitApp
from screens.dashboard import DashboardScreen
from screens.decision import DecisionScreen
from screens.health import health_text
from screens.metrics import MetricsScreen
from screens.runbook import RunbookScreen
from tests.appfixture import RELEASE_ID, make_app, screen_text, settle
from tests.test_metrics_app import fixed_sampler
from widgets.metricpanel import MetricPanel


@pytest.fixture
def build(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Callable[..., CockpitApp]]:
    made: list[CockpitApp] = []

    def build(lang: str = "en", **options: bool) -> CockpitApp:
        app = make_app(monkeypatch, tmp_path, lang, **options)
        made.append(app)
        return app

    yield build
    for app in made:
        app.session.store.close()


def host_metrics(app: CockpitApp) -> None:
    """Staging's panels: this machine's memory and CPU (a real source, read from /proc)."""
    envs = app.session.loaded.config.environments
    metrics = msgspec.structs.replace(
        envs["staging"].metrics,
        panels=[
            PanelConfig(name="memory", query="memory", source="host", kind="memory", unit="%"),
            PanelConfig(name="cpu", query="cpu", source="host", kind="cpu", unit="%"),
        ],
        refresh_seconds=0.5,
    )
    envs["staging"] = msgspec.structs.replace(envs["staging"], metrics=metrics)


def t(lang: str = "en") -> Callable[..., str]:
    return lambda key, **kw: CATALOG[key][lang].format(**kw)


# ---------------------------------------------------------------------------- the dashboard


async def test_dashboard_at_80x24_keeps_all_it_showed_and_adds_the_health_line(build) -> None:
    app = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        lines = screen_text(app).splitlines()
        text = "\n".join(lines)
        for phase in ("T-14", "T-7", "T-3", "T-1", "T-0"):
            assert f" {phase} " in text or f">{phase} " in text
        for label in ("Window", "Audit", "Next", "Recent decisions", "t14.database"):
            assert label in text
        # The staging of the fixture has only Prometheus panels and no Prometheus: said so.
        assert lines[-2].startswith(" Health  no metrics source")
        assert "Open from T-14" not in text  # 24 rows: no room for the open items


async def test_dashboard_at_120x40_uses_the_space(build) -> None:
    app = build()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert "Open from T-14 on (" in text
        assert "[ ] T-14 Configuration changes checked  (設定変更の確認)  manual" in text
        assert "[ ] T-7  " in text  # the next phase's items too, as the rows allow
        assert "done      t14.requirements (Requirements are" in text  # its title too
        assert "T-0 12-16" in text.splitlines()[2]  # the release's T-0 in the list
        assert "Release content fixed " in text  # the whole title, not cut at 14 cells
        assert "Health  no metrics source" in text


async def test_dashboard_health_line_reads_a_real_source_and_says_how_fresh(build) -> None:
    app = build("ja")
    host_metrics(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        for _ in range(50):
            await pilot.pause(0.1)
            if "前に更新" in screen_text(app):
                break
        health = next(line for line in screen_text(app).splitlines() if "健全性" in line)
        fresh = "最新" in health or "前に更新" in health
        assert "memory" in health and "%" in health and fresh, health
        # Another screen on top: the dashboard's sampler pauses (that screen samples itself).
        await pilot.press("d")
        await settle(pilot)
        assert screen.health.sampler is not None and screen.health.sampler.paused
        await pilot.press("escape")
        await settle(pilot)
        assert not screen.health.sampler.paused


def _state(level_age: float, value: float = 50.0, name: str = "cpu"):  # type: ignore[no-untyped-def]
    panel = Panel(
        name=name, title=name.upper(), source="host", query=name, unit="%", warning=70, critical=90
    )
    series = Series(name)
    now = time.time()
    series.add(Sample(name, now - level_age, value))
    return panel_state(panel, series, now, stale_after=10, no_data_after=3600)


def test_health_text_says_stale_none_and_what_is_wrong_first() -> None:
    assert health_text(t(), None, 80).plain == "no metrics source"
    assert health_text(t(), {}, 80).plain == "waiting for the first samples"
    stale = health_text(t(), {"cpu": _state(200)}, 80).plain
    assert stale.endswith("metrics stale 3m20s"), stale
    states = {
        "mem": _state(1, 30.0, "mem"),
        "cpu": _state(1, 95.0, "cpu"),
        "disk": _state(1, 20.0, "disk"),
    }
    line = health_text(t(), states, 200).plain
    assert line.startswith("CPU 95 % CRIT")  # the one in trouble first
    assert line.endswith("live")  # young values: no age ticking every second
    # Too narrow for all: the ones fine are counted, trouble and freshness stay.
    narrow = health_text(t(), states, 40).plain
    assert narrow == "CPU 95 % CRIT \u00b7 2 more ok \u00b7 live"
    ja = health_text(t("ja"), states, 40).plain
    assert "ほか 2 件 ok" in ja and "最新" in ja
    older = {name: _state(7, 30.0, name) for name in states}
    assert health_text(t(), older, 200).plain.endswith("updated 7s ago")
    assert "7秒前に更新" in health_text(t("ja"), older, 200, lang="ja").plain


# ---------------------------------------------------------------------------- the runbook


async def test_runbook_shows_the_metrics_line_and_at_120_the_preview_beside_the_log(build) -> None:
    app = build(t0_ready=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RunbookScreen)
        preview, log = screen.query_one("#preview", Static), screen.query_one("#log", Log)
        assert preview.display and log.display  # both in sight
        assert log.region.x > preview.region.right - 1  # side by side, the log to the right
        assert [str(line) for line in log.lines] == ["(no run of this step recorded)"]
        text = screen_text(app)
        assert " no metrics source" in text.splitlines()[-3]
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        await pilot.pause(0.1)
        assert not log.display  # 80 columns: one at a time, as before
        assert "no metrics source" in screen_text(app).splitlines()[-3]


async def test_runbook_metrics_line_names_an_unsettled_trigger(build) -> None:
    from cockpit.metrics import Fired, record_trigger

    app = build(t0_ready=True)
    session = app.session
    from cockpit.checklist import load_checklist

    release = load_checklist(session.store, RELEASE_ID).release
    now = time.time()
    fired = Fired(
        panel="cpu",
        rule="cpu >= 90 % for 3 samples",
        source="host",
        query="cpu",
        unit="%",
        baseline=None,
        threshold=90.0,
        samples=((now - 2, 95.0), (now - 1, 96.0), (now, 97.0)),
        at=now,
    )
    event = record_trigger(session.store, session.operator, fired, release=release)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        line = screen_text(app).splitlines()[-3]
        assert f"trigger #{event.seq} unsettled (s on metrics)" in line


# ---------------------------------------------------------------------------- metrics


async def test_metric_panels_grow_with_the_terminal_with_axis_and_threshold(build) -> None:
    app = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.push_screen(MetricsScreen(RELEASE_ID, fixed_sampler(app)))
        await settle(pilot)
        await pilot.pause(0.2)
        text = screen_text(app)
        small = [p.size for p in app.screen.query(MetricPanel)]
        assert all(size.height >= 4 for size in small)  # a chart of rows, not one line
        assert "warn 70 %" in text and "crit 90 %" in text  # CPU's levels, on their rows
        assert "40s ago" in text and "now" in text  # the time span under the chart
        assert "Error rate" in text and "NO DATA" in text  # all that 80x24 showed before
        await pilot.resize_terminal(200, 60)
        await settle(pilot)
        await pilot.pause(0.2)
        text = screen_text(app)
        wide = [p.size for p in app.screen.query(MetricPanel)]
    assert max(s.height for s in wide) > max(s.height for s in small)
    assert max(s.width for s in wide) > max(s.width for s in small)
    assert "100 %" in text and "0 %" in text  # the scale's top and bottom
    row = next(line for line in text.splitlines() if "crit 90 %" in line and "┃" in line)
    assert "=" in row  # the critical level is a glyph on its row, not a colour


async def test_metric_charts_in_ascii_are_ascii_and_their_marks_stay_marks(build) -> None:
    """--ascii: the charts themselves are ASCII (the terminal filter has nothing to map; the
    bytes of a real run are checked in test_terminal.py), a bar's top is never - or =."""
    app = build(ascii=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.push_screen(MetricsScreen(RELEASE_ID, fixed_sampler(app)))
        await settle(pilot)
        cpu = app.screen.query_one("#panel-cpu", MetricPanel)
        chart = cpu.query_one(".spark", Static).render()
        plain = str(chart)
        assert all(ord(c) < 0x80 for c in plain), plain
        rows = plain.splitlines()
        assert any(row.lstrip("=").startswith(("=", "|", "#", ".")) for row in rows)
        assert sum("crit 90 %" in row for row in rows) == 1
        marked = next(row for row in rows if "crit 90 %" in row)
        assert set(marked.split(" crit")[0].strip()) <= {"=", "|", "#", ".", ":", " "}


# ---------------------------------------------------------------------------- dialogs


async def test_dialogs_size_to_their_content(build) -> None:
    app = build()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, DecisionScreen)
        dialog = app.screen.query_one("#dialog")
        # Title, label, the input, the keys, and the border: no blank error row.
        assert dialog.outer_size.height == 6, dialog.outer_size
        await pilot.press("enter")  # no note: the error line appears
        await asyncio.sleep(0.05)
        await settle(pilot)
        assert dialog.outer_size.height == 7
        assert "a reason is required" in screen_text(app) or "required" in screen_text(app)


async def test_dialogs_keep_their_height_after_the_runbook_was_open(build) -> None:
    """A screen's .tcss applies app-wide once loaded: the runbook's ``#body``/``#preview``
    (``height: 1fr``) stretched the trigger dialog and a run's confirmation to the whole
    height, blank rows under the text. Each dialog stays as tall as its content."""
    from screens.trigger import TriggerScreen

    app = build(t0_ready=True)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        await pilot.press("enter")  # confirm step 1: a dialog with its preview
        await settle(pilot)
        assert isinstance(app.screen, DecisionScreen)
        dialog = app.screen.query_one("#dialog")
        preview = app.screen.query_one("#preview", Static)
        lines = len(str(preview.render()).splitlines())
        assert preview.outer_size.height == lines
        assert dialog.outer_size.height < 20, dialog.outer_size
        await pilot.press("escape")
        await settle(pilot)
        trigger = TriggerScreen("Rollback trigger fired (#9)", "rule: cpu\nReason:", "esc later")
        app.push_screen(trigger)
        await settle(pilot)
        # Border, title, two body lines, the reason, the keys.
        assert trigger.query_one("#dialog").outer_size.height == 7


def test_health_text_says_why_a_source_never_answered_in_the_screens_language() -> None:
    from cockpit.metrics.sources.base import SourceError, failed_samples

    panel = Panel(name="cpu", title="CPU", source="host", query="cpu", unit="%")
    series = Series("cpu")
    refused = SourceError.said("msrc.host_iface", iface="eth9")
    series.add(failed_samples([panel], time.time(), refused)[0])
    states = {"cpu": panel_state(panel, series, time.time())}
    assert health_text(t(), states, 80).plain == "NO DATA: host: no network interface 'eth9'"
    ja = health_text(t("ja"), states, 80, lang="ja").plain
    assert ja == "データなし: host: ネットワークインターフェース 'eth9' がありません"
    assert states["cpu"].error == "host: no network interface 'eth9'"  # the log's words
