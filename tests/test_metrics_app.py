"""The metrics screen: panels with fixed data (snapshots at 80x24 and 120x40, both languages,
ASCII), and a Pilot test in which a rollback trigger raises the prompt and the decision is
recorded. The sources here are scripted (the engine's own sources are tested against a real
Prometheus, moto and the Kubernetes API test server in test_metrics.py)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from textual.widgets import Input

from cockpit.checklist import load_checklist
from cockpit.metrics import Panel, Sample, Sampler, TriggerEvaluator, panels_from_config
from screens.app import CockpitApp
from screens.metrics import MetricsScreen
from screens.trigger import TriggerScreen
from tests.appfixture import RELEASE_ID, make_app, screen_text, settle, steady_inputs
from widgets.metricpanel import Mark, chart_rows, fixed_scale, mark_row, nice_ceiling, sparkline


class Scripted:
    """A source whose next answers the test sets: panel name -> value (None: no number)."""

    name = "prometheus"

    def __init__(self, values: dict[str, float | None]) -> None:
        self.values = values

    def fetch(self, panels: Sequence[Panel]) -> list[Sample]:
        now = time.time()
        return [Sample(p.name, now, self.values.get(p.name)) for p in panels]

    def history(self, panel: Panel, start: float, end: float, step: float) -> None:
        return None

    def close(self) -> None:
        return None


@pytest.fixture
def build(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Callable[..., CockpitApp]]:
    made: list[CockpitApp] = []

    def build(lang: str = "en", ascii: bool = False) -> CockpitApp:
        app = make_app(monkeypatch, tmp_path, lang, ascii=ascii)
        made.append(app)
        return app

    yield build
    for app in made:
        app.session.store.close()


def sampler_for(app: CockpitApp, source: Scripted, refresh: float = 2.0) -> Sampler:
    panels = panels_from_config(app.session.loaded.environment("staging").metrics)
    return Sampler(
        panels,
        {"prometheus": source},
        refresh=refresh,
        evaluator=TriggerEvaluator(panels, consecutive=3),
    )


async def until(pilot, done: Callable[[], bool], seconds: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    """Let the app run until ``done()`` holds, at most ``seconds`` (then the test's asserts
    say what is missing)."""
    for _ in range(int(seconds * 10)):
        await pilot.pause(0.1)
        if done():
            return


def fixed_sampler(app: CockpitApp) -> Sampler:
    """Twenty samples per panel, the last just now: error rate fine, latency over its warning,
    CPU critical; memory has never answered (NO DATA, not 0)."""
    sampler = sampler_for(app, Scripted({}))
    now = time.time()
    shapes = {
        "error_rate": [0.02 + 0.01 * (i % 4) for i in range(20)],
        "latency_p95": [150 + 5 * i for i in range(20)],
        "cpu": [40 + 3 * i for i in range(19)] + [95],
    }
    for name, values in shapes.items():
        for number, value in enumerate(values):
            gap = name == "cpu" and number in (5, 6)  # two missed samples: gaps, not zeros
            sampler.series[name].add(
                Sample(name, now - 2 * (len(values) - number), None if gap else value)
            )
    return sampler


def test_sparkline_draws_gaps_as_blanks_never_as_the_lowest_bar() -> None:
    assert sparkline([1.0, None, 3.0], 3, scale=(0.0, 3.0)) == "▃ █"
    assert sparkline([None, None], 2) == "  "
    assert sparkline([0.0, None], 2, scale=(0.0, 10.0)) == "▁ "  # a zero is a number: drawn
    assert sparkline([5.0, 5.0], 2, ascii=True, scale=(0.0, 10.0)) == "=="


def test_fixed_scale_is_the_natural_range_or_past_the_threshold() -> None:
    # A percentage of a resource: 0-100 whatever the samples, widened only by one outside it.
    assert fixed_scale([3.0, 3.1], natural=(0.0, 100.0)) == (0.0, 100.0)
    assert fixed_scale([120.0], natural=(0.0, 100.0)) == (0.0, 120.0)
    # Else from zero to 1.5x the lowest threshold (rounded up), or the largest sample.
    assert fixed_scale([150.0, 180.0], thresholds=[200.0, 600.0]) == (0.0, 300.0)
    assert fixed_scale([150.0, 900.0], thresholds=[200.0]) == (0.0, 1000.0)
    assert fixed_scale([0.02, 0.05], thresholds=[0.1, 10.0]) == (0.0, pytest.approx(0.15))
    # No threshold, no sample: still a range, never zero-wide.
    assert fixed_scale([], thresholds=[]) == (0.0, 1.0)
    assert fixed_scale([0.0, 0.0]) == (0.0, 1.0)
    assert fixed_scale([-5.0, 5.0]) == (-5.0, 5.0)
    nice = [nice_ceiling(v) for v in (0.7, 1.0, 1.2, 2.2, 3.0, 7.0, 130.0)]
    assert nice == pytest.approx([0.8, 1.0, 1.5, 2.5, 3.0, 8.0, 150.0])


def test_a_flat_disk_draws_flat_and_little_memory_draws_little() -> None:
    """The issue's two pictures: a flat 24.4 % disk drew a ramp (scaled between its own
    min and max), 3 % memory drew full blocks. On 0-100 % neither can happen."""
    disk = [24.4, 24.41, 24.39, 24.4, 24.42, 24.4]
    rows = chart_rows(disk, 6, 4, scale=(0.0, 100.0))
    assert rows[:3] == [" " * 6] * 3
    assert len(set(rows[3])) == 1  # one bar height across: flat
    memory = chart_rows([3.0, 3.1, 2.9, 3.0], 4, 4, scale=(0.0, 100.0))
    assert memory == ["    ", "    ", "    ", "▁▁▁▁"]
    assert "█" not in "".join(memory)


def test_thresholds_are_marked_by_a_glyph_on_their_row_not_by_colour() -> None:
    marks = [Mark(70.0, "-", "warn 70 %"), Mark(90.0, "=", "crit 90 %")]
    rows = chart_rows([50.0, None, 95.0], 5, 5, scale=(0.0, 100.0), marks=marks)
    assert mark_row(90.0, 0.0, 100.0, 5) == 0 and mark_row(70.0, 0.0, 100.0, 5) == 1
    assert rows[0][0] == "=" and rows[0][3:] == "=="  # the line runs on past the samples
    assert rows[1][0] == "-" and rows[1][2] == "█"
    assert all(row[1] == " " for row in rows)  # a gap is blank all the way up
    ascii_rows = chart_rows([50.0, None, 95.0], 5, 5, ascii=True, scale=(0.0, 100.0), marks=marks)
    assert all(ord(c) < 0x80 for row in ascii_rows for c in row)
    assert ascii_rows[0][2] not in "-="  # a bar's top is never mistaken for a mark


async def test_panels_show_value_state_and_no_data_in_words(build) -> None:
    app = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.push_screen(MetricsScreen(RELEASE_ID, fixed_sampler(app)))
        await settle(pilot)
        text = screen_text(app)
        assert "CRIT" in text and "WARN" in text and "NO DATA" in text
        assert "0.05 %" in text or "0.050 %" in text or "0.05" in text
        assert "go blocked:" in text


async def test_why_go_is_blocked_is_said_in_japanese(build) -> None:
    app = build("ja")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.push_screen(MetricsScreen(RELEASE_ID, fixed_sampler(app)))
        await settle(pilot)
        assert "Go 不可: リリース後監視が開始されていません" in screen_text(app)


@pytest.mark.parametrize(
    ("lang", "said"),
    [("en", "cannot connect"), ("ja", "接続できません")],
)
async def test_a_panel_without_data_says_why_in_the_screens_language(
    build, lang: str, said: str
) -> None:
    """A Prometheus that refuses the connection (a real socket, closed): each panel says so in
    the chart's place, in the screen's language, not only NO DATA."""
    import socket

    from cockpit.metrics.sources.prometheus import PrometheusSource

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    app = build(lang)
    source = PrometheusSource(f"http://127.0.0.1:{closed}", timeout=2.0)
    panels = panels_from_config(app.session.loaded.environment("staging").metrics)
    sampler = Sampler(panels, {"prometheus": source}, refresh=0.5).start()
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            app.push_screen(MetricsScreen(RELEASE_ID, sampler))
            await until(pilot, lambda: said in screen_text(app))
            text = screen_text(app)
            assert "NO DATA" in text
            assert text.count(said) == len(panels), text  # on every panel of that source
            assert f"127.0.0.1:{closed}" in text
    finally:
        sampler.stop()
    state = sampler.states()[panels[0].name]
    assert "cannot connect" in str(state.error)  # the log's words stay English


async def test_a_trigger_raises_the_prompt_and_the_decision_is_recorded(build) -> None:
    app = build()
    source = Scripted({"error_rate": 0.5, "latency_p95": 120.0, "cpu": 30.0, "memory": 40.0})
    sampler = sampler_for(app, source, refresh=0.2).start()
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            app.push_screen(MetricsScreen(RELEASE_ID, sampler))
            await pilot.pause(1.0)
            assert not isinstance(app.screen, TriggerScreen)  # healthy: no prompt
            source.values["error_rate"] = 12.0  # the seeds' error-rate trigger: >= 10 %
            await until(pilot, lambda: isinstance(app.screen, TriggerScreen))
            dialog = app.screen
            assert isinstance(dialog, TriggerScreen)
            assert "error" in dialog.body.lower() and "12" in dialog.body
            fired = [e for e in app.session.store.events(release_id=RELEASE_ID)]
            assert fired[-1].action == "trigger.fired"
            assert len(fired[-1].details_obj["samples"]) == 3
            await pilot.press("ctrl+o")  # no reason yet: nothing is decided
            assert isinstance(app.screen, TriggerScreen)
            dialog.query_one("#reason", Input).value = "a known batch job, errors are retried"
            source.values["error_rate"] = 0.5
            await pilot.press("ctrl+o")
            await asyncio.sleep(0.3)
            await settle(pilot)
            decided = [
                e
                for e in app.session.store.events(release_id=RELEASE_ID)
                if e.action == "trigger.continued"
            ]
            assert len(decided) == 1
            assert decided[0].reason == "a known batch job, errors are retried"
    finally:
        sampler.stop()


async def test_start_the_rollback_from_the_trigger_prompt(build) -> None:
    app = build()
    source = Scripted({"error_rate": 15.0, "latency_p95": 120.0, "cpu": 30.0, "memory": 40.0})
    sampler = sampler_for(app, source, refresh=0.2).start()
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            app.push_screen(MetricsScreen(RELEASE_ID, sampler))
            await until(pilot, lambda: isinstance(app.screen, TriggerScreen))
            dialog = app.screen
            assert isinstance(dialog, TriggerScreen)
            source.values["error_rate"] = 0.5
            dialog.query_one("#reason", Input).value = "errors on checkout"
            await pilot.press("ctrl+r")
            await until(
                pilot,
                lambda: (
                    "rollback.finished"
                    in [e.action for e in app.session.store.events(release_id=RELEASE_ID)]
                ),
            )
            started = [
                e
                for e in app.session.store.events(release_id=RELEASE_ID)
                if e.action == "rollback.started"
            ]
            assert len(started) == 1 and "errors on checkout" in (started[0].reason or "")
            assert "trigger #" in (started[0].reason or "")
    finally:
        sampler.stop()


async def test_a_trigger_dismissed_with_esc_is_settled_later_and_never_fired_twice(build) -> None:
    from cockpit.metrics import unsettled_triggers

    app = build()
    values = {"error_rate": 12.0, "latency_p95": 120.0, "cpu": 30.0, "memory": 40.0}
    first = sampler_for(app, Scripted(dict(values)), refresh=0.2).start()
    again = sampler_for(app, Scripted(dict(values)), refresh=0.2)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            app.push_screen(MetricsScreen(RELEASE_ID, first))
            await until(pilot, lambda: isinstance(app.screen, TriggerScreen))
            await pilot.press("escape")  # later
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, MetricsScreen)
            assert " s settle " in screen_text(app).splitlines()[-1]
            assert "go blocked: " in screen_text(app)
            await pilot.press("escape")  # and back again: a new screen, a new sampler
            await settle(pilot)
            app.push_screen(MetricsScreen(RELEASE_ID, again.start()))
            await pilot.pause(1.5)  # several rounds at the critical level
            assert not isinstance(app.screen, TriggerScreen)
            (fired,) = unsettled_triggers(app.session.store, RELEASE_ID)
            await pilot.press("s")
            await settle(pilot)
            dialog = app.screen
            assert isinstance(dialog, TriggerScreen) and f"(#{fired.seq})" in screen_text(app)
            dialog.query_one("#reason", Input).value = "retries absorb it"
            await pilot.press("ctrl+o")
            await until(pilot, lambda: not unsettled_triggers(app.session.store, RELEASE_ID))
            assert unsettled_triggers(app.session.store, RELEASE_ID) == []
            actions = [e.action for e in app.session.store.events(release_id=RELEASE_ID)]
            assert actions.count("trigger.fired") == 1 and actions.count("trigger.continued") == 1
            await pilot.press("s")  # nothing left to settle
            await settle(pilot)
            assert isinstance(app.screen, MetricsScreen)
    finally:
        first.stop()
        again.stop()


async def test_the_recorded_baseline_is_kept_on_reopen(build) -> None:
    from cockpit.metrics import Baseline, record_baseline

    app = build()
    checklist = load_checklist(app.session.store, RELEASE_ID)
    now = time.time()
    base = Baseline(now - 60, now, {"error_rate": 0.02}, {"error_rate": 30}, {"error_rate": "q"})
    record_baseline(app.session.store, app.session.operator, base, release=checklist.release)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        sampler = fixed_sampler(app)
        app.push_screen(MetricsScreen(RELEASE_ID, sampler))
        await settle(pilot)
        await pilot.pause(0.3)
        assert sampler.baseline is not None and sampler.baseline.value("error_rate") == 0.02
        assert "baseline captured" in screen_text(app).splitlines()[1]


@pytest.mark.parametrize(
    ("lang", "size", "ascii"),
    [
        ("en", (80, 24), False),
        ("ja", (80, 24), False),
        ("en", (120, 40), False),
        ("en", (80, 24), True),
        ("ja", (120, 40), False),
        ("en", (200, 60), False),
        ("ja", (200, 60), False),
    ],
    ids=["en-80x24", "ja-80x24", "en-120x40", "ascii-80x24", "ja-120x40", "en-200x60", "ja-200x60"],
)
def test_metrics_snapshot(snap_compare, build, lang: str, size, ascii: bool) -> None:
    app = build(lang, ascii)

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        app.push_screen(MetricsScreen(RELEASE_ID, fixed_sampler(app)))
        await settle(pilot)
        steady_inputs(app)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


async def test_a_cockpit_that_does_not_drive_records_no_trigger_and_says_so(build) -> None:
    """Every open metrics screen sees the same samples; only the driving cockpit records a
    fired trigger and asks. A follower (here --readonly) says it fired and writes nothing."""
    app = build()
    app.readonly = True
    source = Scripted({"error_rate": 12.0, "latency_p95": 120.0, "cpu": 30.0, "memory": 40.0})
    sampler = sampler_for(app, source, refresh=0.2).start()
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            before = app.session.store.head()[0]
            app.push_screen(MetricsScreen(RELEASE_ID, sampler))
            await until(pilot, lambda: "trigger fired" in screen_text(app), seconds=5)
            assert "the driving cockpit records it and asks" in screen_text(app)
            assert not isinstance(app.screen, TriggerScreen)
            assert app.session.store.head()[0] == before  # nothing written
    finally:
        sampler.stop()
