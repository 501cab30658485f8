"""Benchmark of key-to-screen latency in the checklist of a 300-item phase, against a bare
Textual OptionList of 300 plain options receiving the same keys, in the same run.

Run from the repository root::

    .venv/bin/python bench/keys.py            # full run: headless, then the pty at 10k and 1M
    .venv/bin/python bench/keys.py --quick    # fewer presses; the pty at 10k events only
    .venv/bin/python bench/keys.py --pty-only --pty-sizes 1000000 --pty-presses 30
    .venv/bin/python bench/keys.py --json     # machine-readable output

Two parts. The headless part (below) times the checklist of a 300-item phase against a bare
OptionList. The pty part (:mod:`keyspty`) times ``j`` / ``k`` on the dashboard and in the
checklist of a real ``cockpit --lang en open`` on a 120x40 pseudo-terminal, on SQLite logs of
10,000 and 1,000,000 events built by bench/scale.py's builder (60 presses of each key on each
screen; its docstring says how a press is timed). The full run takes about 5 minutes, most of
it building and verifying the 1M log and pacing the pty's presses.

What it measures:

1. A plan file with one phase of 300 manual items (Japanese and English titles, as the shipped
   plans have) and the T-0 phase the plan format requires, a SQLite workspace, and a release on
   that plan made with :func:`cockpit.release.create_release`.
2. The cockpit app (:class:`screens.app.CockpitApp`) headless, ``run_test(size=(120, 40))``:
   the dashboard opens the phase's checklist with ``enter``, as an operator does. Then ``j``
   presses (cursor down), ``k`` presses (back up) and ``enter`` presses (mark the item done: a
   thread worker appends the event through :func:`cockpit.actions.decide`, then the screen
   reloads and redraws the list and moves to the next open item).
3. The baseline: a bare Textual ``App`` with one ``OptionList`` of 300 plain options, ``j`` /
   ``k`` bound to its cursor the way the checklist binds them, and ``enter`` marking the option
   (its prompt is replaced) and moving down, with no engine behind it.

How one latency is taken. ``Pilot.press`` is not used as the clock: it sleeps in
``wait_for_idle`` (at least 2 x 20 ms per key) and ``Pilot.pause`` sleeps again, so its wall
time is mostly the pilot's own sleeping. Instead the key event goes to the driver as a terminal
key would (``driver.send_message(events.Key(...))``) and the app's ``App._display`` is wrapped:
each time the compositor hands a frame to the display, the wrapper renders it to the escape
sequences a real terminal would receive (``CompositorUpdate.render_segments``, which the
headless driver skips) and stamps the time. A press's latency is the time from sending the key
to the last frame displayed before the app is quiet again: the expected state is reached (the
highlight moved; for ``enter`` the item is done and the worker finished), no message queue in
the app, the screen or its widgets has unfinished messages, and the screen has nothing left to
lay out or repaint. Polling for quiet happens every millisecond but does not add to the figure,
which is taken from the frame's time stamp.

Also reported: the time to the first frame after the key (the first visible reaction), and
for each press whether it overlapped one of the checklist's periodic refreshes
(``CockpitScreen._tick`` -> ``ChecklistScreen.reload`` every ``refresh_seconds``, 2 s, which
reloads and redraws the whole list; it stays on, as in real use) or a garbage-collector pause
of 5 ms or more in this process (``gc.callbacks``); the p95 of the presses with neither.

The two apps run in 2 interleaved rounds (baseline, then cockpit, twice), each round in a fresh
app, with 5 unmeasured presses of j and of k first. Then, to say where the cockpit's time goes:
the cockpit functions a press runs, wrapped and timed during the measured presses (calls per
press, median and max), and the pieces of a list redraw timed alone (``read_plan`` of the
300-item plan, a cache hit after the first parse; ``load_checklist``; ``Checklist.state`` for
every item; and filling an ``OptionList`` with one ``add_options`` call, as the checklist does,
against 300 ``add_option`` calls).

Targets (checked unless ``--no-check``; the exit status is 1 when one is missed): p95 key-to-
screen latency <= 50 ms for ``j`` and for ``k`` in the 300-item checklist, and in the pty for
``j`` and ``k`` on the dashboard and in the checklist at each log size (issue 16: at 1M).
``enter`` is reported against the same 50 ms but not checked: it writes to the audit log.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import gc
import inspect
import itertools
import math
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import keyspty

# _common puts the repository root first on sys.path: import it before cockpit.
from _common import (
    demo_tables,
    finish,
    open_workspace,
    parser,
    stage,
    table,
    target,
    target_lines,
    textual_machine,
    workspace_config,
)
from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import OptionList

from cockpit.checklist import SETTLED
from cockpit.config import LoadedConfig
from cockpit.operator import Operator
from cockpit.release import create_release
from cockpit.session import Session
from cockpit.store import Store
from screens.app import CockpitApp

TARGET_P95_MS = 50.0
PTY_SIZES = (10_000, 1_000_000)  # events in the log of the pty part (bench/keyspty.py)
ITEMS = 300
SIZE = (120, 40)
PHASE = "p300"
POLL_S = 0.001
SETTLE_TIMEOUT_S = 10.0
WARMUP = 5

OPERATOR = Operator.fixed("alice", "bastion-1")

WORKSPACE_CONFIG = workspace_config(
    "bench/keys.py",
    demo_tables("database", "audit", "change_window"),
    """\
[roles]
approver = ["bob"]

[environments.staging]
description = "Staging"
rehearsal = true
""",
)

# Realistic item titles: the shipped plans' Japanese wording beside the English.
TITLES = [
    ("要件の充足確認", "Requirements are met"),
    ("依存関係の確認", "Dependencies checked"),
    ("データベース変更の確認", "Database changes checked"),
    ("設定変更の確認", "Configuration changes checked"),
    ("テスト結果の確認", "Test results reviewed"),
    ("コードレビュー完了", "Code review complete"),
    ("セキュリティスキャン完了", "Security scan complete"),
    ("カバレッジ90%以上", "Test coverage 90% or more"),
    ("ドキュメント更新", "Documentation updated"),
    ("リリースノート", "Release notes"),
]


def plan_yaml(items: int) -> str:
    lines = [
        "schema_version: 1",
        "name: bench300",
        "title_ja: ベンチマーク手順",
        "title_en: Benchmark procedure",
        "phases:",
        f"  - id: {PHASE}",
        "    offset_days: -1",
        "    title_ja: 大きなフェーズ",
        "    title_en: A large phase",
        "    items:",
    ]
    for n in range(items):
        ja, en = TITLES[n % len(TITLES)]
        lines += [
            f"      - id: p300.item{n:03d}",
            "        kind: manual",
            f"        title_ja: {ja} {n:03d}",
            f"        title_en: {en} ({n:03d})",
        ]
    lines += [
        "  - id: t-0",
        "    offset_days: 0",
        "    title_ja: リリース実施",
        "    title_en: Release",
        "    items:",
        "      - id: t0.deploy",
        "        kind: manual",
        "        title_ja: コードデプロイ",
        "        title_en: Deploy the code",
    ]
    return "\n".join(lines) + "\n"


def build_workspace(root: Path, items: int) -> tuple[Store, LoadedConfig, str]:
    _, loaded, store = open_workspace(root, WORKSPACE_CONFIG)
    plan_file = root / "bench300.yaml"
    plan_file.write_text(plan_yaml(items), encoding="utf-8")
    from cockpit.window import next_window

    tz = ZoneInfo("Asia/Tokyo")  # T-0: the first release window two days from now or later
    t0 = next_window(loaded.config.change_window, datetime.now(tz) + timedelta(days=2)).start
    t0 = t0.astimezone(tz)
    release = create_release(
        Session(store=store, loaded=loaded, operator=OPERATOR),
        plan=str(plan_file),
        environment="staging",
        version="2.0.0",
        t0=t0.strftime("%Y-%m-%dT%H:%M"),
    )
    return store, loaded, release.id


# ---------------------------------------------------------------- instrumentation


class Probe:
    """Frame time stamps from ``App._display``, and the app's quiet state."""

    def __init__(self, app: App[Any]) -> None:
        self.app = app
        self.frames: list[float] = []
        self.bytes = 0
        original = app._display

        def display(screen: Any, renderable: Any) -> None:
            if renderable is not None and not app._batch_count:
                from textual._compositor import CompositorUpdate

                if isinstance(renderable, CompositorUpdate):
                    # What the Linux driver would write; the headless driver skips it.
                    self.bytes += len(renderable.render_segments(app.console))
                original(screen, renderable)
                self.frames.append(time.perf_counter())
                return
            original(screen, renderable)

        app._display = display  # type: ignore[method-assign]

    def quiet(self) -> bool:
        app = self.app
        screen = app.screen
        if (
            screen._dirty_widgets
            or screen._layout_required
            or screen._repaint_required
            or screen._scroll_required
            or screen._recompose_required
        ):
            return False
        for node in (app, screen, *screen.walk_children()):
            queue = node._message_queue
            if getattr(queue, "_unfinished_tasks", queue.qsize()) or node._next_callbacks:
                return False
        # The lease's heartbeat runs as long as the app drives the release: never quiet.
        return not any(
            w.state.name in {"PENDING", "RUNNING"} for w in app.workers if w.group != "heartbeat"
        )

    async def press(self, key: str, reached: Callable[[], bool]) -> tuple[float, float]:
        """Seconds from sending ``key`` to the first frame displayed after it, and to the last
        frame displayed before the app is quiet with ``reached()`` true."""
        app = self.app
        frames = len(self.frames)
        event = events.Key(key, key if len(key) == 1 else None)
        event.set_sender(app)
        started = time.perf_counter()
        assert app._driver is not None
        app._driver.send_message(event)
        deadline = started + SETTLE_TIMEOUT_S
        while True:
            await asyncio.sleep(POLL_S)
            if len(self.frames) > frames and reached() and self.quiet():
                # Quiet twice in a row, a poll apart: nothing was about to start.
                await asyncio.sleep(POLL_S)
                if self.quiet():
                    return self.frames[frames] - started, self.frames[-1] - started
            if time.perf_counter() > deadline:
                raise SystemExit(f"key {key!r}: the screen did not settle in {SETTLE_TIMEOUT_S} s")


async def settle(probe: Probe) -> None:
    while not probe.quiet():
        await asyncio.sleep(POLL_S)


# ---------------------------------------------------------------- the two apps


class Baseline(App[None]):
    """A bare OptionList of plain options, keys bound as the checklist binds them."""

    BINDINGS = [  # noqa: RUF012
        Binding("j", "down", "down"),
        Binding("k", "up", "up"),
    ]

    def __init__(self, items: int) -> None:
        super().__init__()
        self.items = items

    def compose(self) -> ComposeResult:
        yield OptionList(*(f"[ ] option {n:03d}" for n in range(self.items)), id="items")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.highlighted = 0
        options.focus()

    def action_down(self) -> None:
        self.query_one(OptionList).action_cursor_down()

    def action_up(self) -> None:
        self.query_one(OptionList).action_cursor_up()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        options = event.option_list
        index = event.option_index
        options.replace_option_prompt_at_index(index, f"[x] option {index:03d}")
        options.highlighted = index + 1


class Timings:
    """Durations of the cockpit functions a key press runs, filed under the key being measured
    (``phase``), or under ``tick`` when the screen's refresh timer ran them."""

    def __init__(self) -> None:
        self.phase = "setup"
        self.in_tick = False
        self.records: list[tuple[str, str, float]] = []
        self.presses: dict[str, int] = {}
        self.tick_spans: list[tuple[float, float]] = []
        self.tick_screens: list[str] = []
        self.tick_timers: list[int] = []  # interval timers calling _tick on the checklist
        self._restore: list[tuple[Any, str, Any]] = []

    def wrap(self, owner: Any, attr: str, label: str) -> None:
        original = getattr(owner, attr)
        records = self.records

        main = threading.main_thread()

        @functools.wraps(original)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            on_main = threading.current_thread() is main
            phase = "tick" if self.in_tick and on_main else self.phase
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                records.append((phase, label, time.perf_counter() - start))

        setattr(owner, attr, wrapper)
        self._restore.append((owner, attr, original))

    def install(self) -> None:
        import cockpit.checklist as engine
        import screens.checklist as checklist
        from screens.common import CockpitScreen

        screen = checklist.ChecklistScreen
        self.wrap(screen, "reload", "ChecklistScreen.reload")
        self.wrap(screen, "_draw", "  ChecklistScreen._draw")
        self.wrap(screen, "_draw_detail", "ChecklistScreen._draw_detail")
        self.wrap(checklist, "load_checklist", "load_checklist")
        self.wrap(engine, "load_checklist", "load_checklist")
        self.wrap(engine, "read_plan", "  read_plan")
        self.wrap(checklist, "decide", "decide (worker thread)")
        self.wrap(Store, "append", "  Store.append")
        self.wrap(Store, "events", "  Store.events")
        # The periodic refresh: CockpitScreen._tick is what set_interval calls.
        original = CockpitScreen._tick

        def tick(screen: Any) -> None:
            if screen.app.screen is not screen:
                return original(screen)
            self.in_tick = True
            start = time.perf_counter()
            try:
                return original(screen)
            finally:
                self.in_tick = False
                self.tick_spans.append((start, time.perf_counter()))
                self.tick_screens.append(type(screen).__name__)

        CockpitScreen._tick = tick  # type: ignore[method-assign]
        self._restore.append((CockpitScreen, "_tick", original))

    def restore(self) -> None:
        for owner, attr, original in reversed(self._restore):
            setattr(owner, attr, original)

    def overlapping(self, start: float, end: float) -> bool:
        return any(s < end and e > start for s, e in self.tick_spans)

    def summary(self) -> dict[str, Any]:
        labels = list(dict.fromkeys(label for _, label, _ in self.records))
        out = {}
        for label in labels:
            mine = [(phase, d) for phase, name, d in self.records if name == label]
            per_key = {}
            for key in ("j", "k", "enter", "tick"):
                durations = [d for phase, d in mine if phase == key]
                presses = self.presses.get(key, 0) if key != "tick" else len(self.tick_spans)
                if durations and presses:
                    per_key[key] = {
                        "calls_per_press": len(durations) / presses,
                        "median_ms": statistics.median(durations) * 1000,
                        "max_ms": max(durations) * 1000,
                    }
            out[label] = per_key
        return out


class GcPauses:
    """Garbage-collector pauses in this process (``gc.callbacks``), to tell them from the app."""

    def __init__(self) -> None:
        self.spans: list[tuple[float, float, int]] = []
        self._started: tuple[float, int] | None = None
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = (time.perf_counter(), info["generation"])
        elif self._started is not None:
            start, generation = self._started
            self.spans.append((start, time.perf_counter(), generation))
            self._started = None

    def within(self, start: float, end: float) -> float:
        """Seconds of collection inside ``[start, end]``."""
        return sum(min(e, end) - max(s, start) for s, e, _ in self.spans if s < end and e > start)

    def remove(self) -> None:
        gc.callbacks.remove(self._callback)


GC = GcPauses()
GC_PAUSE_S = 0.005

# key -> (first frame, last frame, overlapped a refresh tick, seconds of GC inside)
Samples = dict[str, list[tuple[float, float, bool, float]]]


def _samples() -> Samples:
    return {"j": [], "k": [], "enter": []}


async def _press(
    probe: Probe,
    key: str,
    reached: Callable[[], bool],
    out: Samples | None,
    timings: Timings | None,
) -> None:
    if timings is not None:
        timings.phase = key if out is not None else "warm-up"
    start = time.perf_counter()
    first, last = await probe.press(key, reached)
    if out is not None:
        overlapped = timings is not None and timings.overlapping(start, start + last)
        out[key].append((first, last, overlapped, GC.within(start, start + last)))
        if timings is not None:
            timings.presses[key] = timings.presses.get(key, 0) + 1
    if timings is not None:
        timings.phase = "idle"


async def _navigate(
    probe: Probe, options: OptionList, plan: dict[str, int], out: Samples, timings: Timings | None
) -> None:
    """Warm-up presses, then ``plan['j']`` presses of j and as many of k, each one checked."""
    for key, step, count, keep in (
        ("j", 1, WARMUP, False),
        ("k", -1, WARMUP, False),
        ("j", 1, plan["j"], True),
        ("k", -1, plan["k"], True),
    ):
        for _ in range(count):
            target = (options.highlighted or 0) + step

            def moved(target: int = target) -> bool:
                return options.highlighted == target

            await _press(probe, key, moved, out if keep else None, timings)


async def run_baseline(items: int, plan: dict[str, int]) -> tuple[Samples, int]:
    app = Baseline(items)
    out = _samples()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        probe = Probe(app)
        options = app.query_one(OptionList)
        await settle(probe)
        await _navigate(probe, options, plan, out, None)
        for _ in range(plan["enter"]):
            index = options.highlighted or 0

            def marked(index: int = index) -> bool:
                prompt = str(options.get_option_at_index(index).prompt)
                return prompt.startswith("[x]") and options.highlighted == index + 1

            await _press(probe, "enter", marked, out, None)
    return out, probe.bytes


async def run_cockpit(
    store: Store, loaded: LoadedConfig, release_id: str, plan: dict[str, int], timings: Timings
) -> tuple[Samples, int, float]:
    """The measured presses in the phase's checklist; also the seconds spent on that screen."""
    from screens.checklist import ChecklistScreen

    app = CockpitApp(
        Session(store=store, loaded=loaded, operator=OPERATOR, lang="en"), release_id=release_id
    )
    out = _samples()
    async with app.run_test(size=SIZE) as pilot:
        # Screens read the log in workers: wait for the dashboard's data, then the checklist's.
        while getattr(app.screen, "checklist", None) is None:
            await pilot.pause(0.01)
        await pilot.press("enter")  # the dashboard opens the phase of the next open item
        while getattr(app.screen, "checklist", None) is None or not isinstance(
            app.screen, ChecklistScreen
        ):
            await pilot.pause(0.01)
        opened = time.perf_counter()
        screen = app.screen
        if not isinstance(screen, ChecklistScreen) or screen.phase_id != PHASE:
            raise SystemExit(f"expected the {PHASE} checklist, got {screen!r}")
        finite = [w for w in app.workers if w.group != "heartbeat"]
        if finite:  # (none: wait_for_complete would wait for every worker, the heartbeat too)
            await app.workers.wait_for_complete(finite)
        probe = Probe(app)
        options = screen.query_one("#items", OptionList)
        if options.option_count < len(screen.phase.items):
            raise SystemExit(f"the checklist shows {options.option_count} options")
        timings.tick_timers.append(
            sum(
                1
                for timer in getattr(screen, "_timers", ())
                if getattr(getattr(timer._callback, "__func__", None), "__name__", "") == "tick"
            )
        )
        await settle(probe)
        await _navigate(probe, options, plan, out, timings)
        for _ in range(plan["enter"]):
            index = options.highlighted or 0
            item_id = screen.phase.items[index].id

            def done(item_id: str = item_id, index: int = index) -> bool:
                checklist = screen.checklist
                return (
                    checklist is not None
                    and checklist.state(item_id).status in SETTLED
                    and options.highlighted == index + 1
                )

            await _press(probe, "enter", done, out, timings)
        on_screen = time.perf_counter() - opened
    return out, probe.bytes, on_screen


# ---------------------------------------------------------------- diagnosis


def _median_ms(func: Callable[[], Any], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


async def diagnose(store: Store, release_id: str) -> dict[str, Any]:
    """The pieces of a redraw of the 300-item list and of a decision, each timed alone in this
    process (median of 5): parsing the plan, folding the checklist, looking up every item's
    state, and filling an OptionList with one ``add_options`` call (as
    ``ChecklistScreen._draw`` does) or with one ``add_option`` call per item."""
    from rich.cells import set_cell_size
    from rich.text import Text
    from textual.widgets.option_list import Option

    from cockpit.checklist import load_checklist
    from cockpit.plan import read_plan

    checklist = load_checklist(store, release_id)
    phase = checklist.plan.plan.phase(PHASE)
    plan_path = checklist.release.plan
    out: dict[str, Any] = {
        "read_plan_ms": _median_ms(lambda: read_plan(plan_path)),
        "load_checklist_ms": _median_ms(lambda: load_checklist(store, release_id)),
        "state_of_every_item_ms": _median_ms(
            lambda: [checklist.state(item.id) for item in phase.items]
        ),
        "plan_item_of_every_item_ms": _median_ms(
            lambda: [checklist.plan.plan.item(item.id) for item in phase.items]
        ),
    }

    def prompts() -> list[Option]:
        made = []
        for item in phase.items:
            text = Text(" [ ] ", no_wrap=True, overflow="ellipsis")
            text.append(set_cell_size(item.title_en, 30) + " ")
            text.append(set_cell_size(item.title_ja, 30) + " ", style="dim")
            text.append("manual")
            made.append(Option(text, id=item.id))
        return made

    app = Baseline(0)
    one_by_one, batched = [], []
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        options = app.query_one(OptionList)
        for _ in range(5):
            made = prompts()
            start = time.perf_counter()
            options.clear_options()
            for option in made:
                options.add_option(option)
            one_by_one.append(time.perf_counter() - start)
            await pilot.pause()
            made = prompts()
            start = time.perf_counter()
            options.clear_options()
            options.add_options(made)
            batched.append(time.perf_counter() - start)
            await pilot.pause()
    out["add_option_x300_ms"] = statistics.median(one_by_one) * 1000
    out["add_options_once_ms"] = statistics.median(batched) * 1000
    return out


# ---------------------------------------------------------------- statistics and output


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


def summary(samples: list[tuple[float, float, bool, float]]) -> dict[str, Any]:
    last = [s[1] for s in samples]
    first = [s[0] for s in samples]
    calm = [s[1] for s in samples if not s[2] and s[3] < GC_PAUSE_S]
    return {
        "n": len(samples),
        "p50_ms": statistics.median(last) * 1000,
        "p95_ms": percentile(last, 95) * 1000,
        "max_ms": max(last) * 1000,
        "mean_ms": statistics.fmean(last) * 1000,
        "first_frame_p50_ms": statistics.median(first) * 1000,
        "first_frame_p95_ms": percentile(first, 95) * 1000,
        "overlapped_tick": sum(1 for s in samples if s[2]),
        "with_gc_pause": sum(1 for s in samples if s[3] >= GC_PAUSE_S),
        "p95_calm_ms": percentile(calm, 95) * 1000 if calm else None,
        "raw_ms": [round(v * 1000, 3) for v in last],
        "gc_ms": [round(s[3] * 1000, 3) for s in samples],
    }


def render(result: dict[str, Any]) -> str:
    lines = [render_headless(result)] if "cockpit" in result else []
    if result.get("pty"):
        lines.append(keyspty.render(result["pty"]))
    lines += ["", "Targets:", *target_lines(result["targets"], unit=" ms")]
    for note in result["notes"]:
        lines.append(f"  [info] {note}")
    return "\n".join(lines)


def render_headless(result: dict[str, Any]) -> str:
    m = result["machine"]
    head = (
        f"Key latency benchmark: {m['cpus']} CPUs, Python {m['python']}, Textual {m['textual']}, "
        f"headless {SIZE[0]}x{SIZE[1]}, {result['items']}-item phase, "
        f"{result['rounds']} interleaved rounds (baseline, cockpit)\n"
    )
    rows: list[tuple[str, ...]] = [
        ("Key", "App", "N", "p50", "p95", "max", "p95 ratio", "1st frame p50", "Notes")
    ]
    for key in ("j", "k", "enter"):
        c, b = result["cockpit"][key], result["baseline"][key]

        def note(s: dict[str, Any], ticks: bool) -> str:
            parts = [f"{s['overlapped_tick']} with a refresh tick"] if ticks else []
            parts.append(f"{s['with_gc_pause']} with a GC pause")
            if s["p95_calm_ms"] is not None:
                parts.append(f"p95 of the rest {s['p95_calm_ms']:.1f} ms")
            return ", ".join(parts)

        for app, s, ratio, text in (
            ("cockpit", c, f"{c['p95_ms'] / b['p95_ms']:.2f}x", note(c, True)),
            ("baseline", b, "", note(b, False)),
        ):
            rows.append(
                (
                    key if app == "cockpit" else "",
                    app,
                    str(s["n"]),
                    f"{s['p50_ms']:.1f} ms",
                    f"{s['p95_ms']:.1f} ms",
                    f"{s['max_ms']:.1f} ms",
                    ratio,
                    f"{s['first_frame_p50_ms']:.1f} ms",
                    text,
                )
            )
    lines = [head, table(rows)]

    lines.append(
        f"Baseline: a bare OptionList of {result['items']} plain options. GC pause: at least "
        f"{GC_PAUSE_S * 1000:g} ms of collection in this process during the press."
    )
    t = result["ticks"]
    if t["count"]:
        lines.append(
            f"\nRefresh ticks that reloaded the checklist (CockpitScreen._tick -> "
            f"ChecklistScreen.reload): {t['count']} in {t['seconds']:.1f} s on that screen, one "
            f"every {t['seconds'] / t['count']:.2f} s with refresh_seconds = "
            f"{t['refresh_seconds']:g}. Each took median {t['p50_ms']:.1f} ms, max "
            f"{t['max_ms']:.1f} ms on the UI thread."
        )
        if t["in_pairs"]:
            lines.append(
                f"{t['in_pairs']} ticks started within 0.5 s of the previous one (median "
                f"{t['pair_gap_p50_ms']:.0f} ms after it): the ticks come in pairs."
            )
    g = result["gc"]
    lines.append(
        f"GC during the runs: {g['collections']} collections, {g['gen2']} of generation 2 "
        f"(median {g['gen2_p50_ms']:.1f} ms, max {g['gen2_max_ms']:.1f} ms)."
    )
    rows = [
        (
            "Cockpit functions (time each)",
            "per j",
            "per k",
            "per enter",
            "per tick",
            "median",
            "max",
        )
    ]
    order = [
        "ChecklistScreen.reload",
        "load_checklist",
        "  read_plan",
        "  Store.events",
        "  ChecklistScreen._draw",
        "ChecklistScreen._draw_detail",
        "decide (worker thread)",
        "  Store.append",
    ]
    functions = result["functions"]
    for label in order + [name for name in functions if name not in order]:
        per_key = functions.get(label)
        if not per_key:
            continue
        every = [v for v in per_key.values()]
        rows.append(
            (
                label,
                *(
                    f"{per_key[key]['calls_per_press']:.1f}" if key in per_key else "-"
                    for key in ("j", "k", "enter", "tick")
                ),
                f"{statistics.median(v['median_ms'] for v in every):.1f} ms",
                f"{max(v['max_ms'] for v in every):.1f} ms",
            )
        )
    lines += ["", table(rows), "(calls per press or tick; median of the per-key medians)"]

    d = result["diagnosis"]
    rows = [("Pieces, timed alone (median of 5)", "Time", "Notes")]
    rows.append(
        (
            "read_plan(300-item plan)",
            f"{d['read_plan_ms']:.1f} ms",
            "file read; parse cached by bytes",
        )
    )
    rows.append(
        ("load_checklist(release)", f"{d['load_checklist_ms']:.1f} ms", "read_plan + log folds")
    )
    rows.append(
        (
            "Checklist.state x 300",
            f"{d['state_of_every_item_ms']:.1f} ms",
            "item index lookups; _draw makes about 3 passes",
        )
    )
    rows.append(
        (
            "Plan.item x 300",
            f"{d['plan_item_of_every_item_ms']:.1f} ms",
            "linear scan; not on the draw path (why_not, decide)",
        )
    )
    rows.append(
        (
            "OptionList: clear + 300 add_option",
            f"{d['add_option_x300_ms']:.1f} ms",
            "one update per option",
        )
    )
    rows.append(
        (
            "OptionList: clear + 1 add_options",
            f"{d['add_options_once_ms']:.1f} ms",
            "as ChecklistScreen._draw fills the list",
        )
    )
    lines += ["", table(rows)]
    timers = sorted(set(result["tick_timers_on_checklist"]))
    lines.append(
        f"Interval timers calling CockpitScreen._tick on each ChecklistScreen: "
        f"{', '.join(map(str, timers))}\n"
    )
    return "\n".join(lines)


# ---------------------------------------------------------------- main


async def bench(args: argparse.Namespace, work: Path, quiet: bool) -> dict[str, Any]:
    store, loaded, release_id = build_workspace(work, args.items)
    rounds = args.rounds
    per_round = {
        "j": args.presses // rounds,
        "k": args.presses // rounds,
        "enter": args.enter // rounds,
    }
    if per_round["j"] + WARMUP >= args.items - args.enter:
        raise SystemExit("too many presses for the phase: the cursor would reach its end")
    cockpit, baseline = _samples(), _samples()
    frame_bytes = {"cockpit": 0, "baseline": 0}
    timings = Timings()
    timings.install()
    on_screen = 0.0
    try:
        for number in range(rounds):
            with stage(f"round {number + 1}/{rounds}: baseline", quiet):
                got, written = await run_baseline(args.items, per_round)
            for key in got:
                baseline[key] += got[key]
            frame_bytes["baseline"] += written
            gc.collect()
            with stage(f"round {number + 1}/{rounds}: cockpit", quiet):
                got, written, seconds = await run_cockpit(
                    store, loaded, release_id, per_round, timings
                )
            for key in got:
                cockpit[key] += got[key]
            frame_bytes["cockpit"] += written
            on_screen += seconds
            gc.collect()
        with stage("diagnosis: the pieces of a redraw, timed alone", quiet):
            diagnosis = await diagnose(store, release_id)
    finally:
        timings.restore()
        store.close()
    mine = [
        span
        for span, name in zip(timings.tick_spans, timings.tick_screens, strict=True)
        if name == "ChecklistScreen"
    ]
    tick_ms = [(e - s) * 1000 for s, e in mine]
    starts = sorted(s for s, _ in mine)
    # Two interval timers per screen would show as ticks in pairs, a reload or so apart.
    close = [b - a for a, b in itertools.pairwise(starts) if b - a < 0.5]
    gen2 = [(e - s) * 1000 for s, e, g in GC.spans if g == 2]
    return {
        "items": args.items,
        "rounds": rounds,
        "presses_per_round": per_round,
        "cockpit": {key: summary(values) for key, values in cockpit.items()},
        "baseline": {key: summary(values) for key, values in baseline.items()},
        "frame_bytes": frame_bytes,
        "ticks": {
            "count": len(tick_ms),
            "seconds": on_screen,
            "refresh_seconds": inspect.signature(CockpitApp).parameters["refresh_seconds"].default,
            "p50_ms": statistics.median(tick_ms) if tick_ms else 0.0,
            "max_ms": max(tick_ms) if tick_ms else 0.0,
            "in_pairs": len(close),
            "pair_gap_p50_ms": statistics.median(close) * 1000 if close else None,
        },
        "gc": {
            "collections": len(GC.spans),
            "gen2": len(gen2),
            "gen2_p50_ms": statistics.median(gen2) if gen2 else 0.0,
            "gen2_max_ms": max(gen2) if gen2 else 0.0,
        },
        "functions": timings.summary(),
        "tick_timers_on_checklist": timings.tick_timers,
        "diagnosis": diagnosis,
    }


def main(argv: list[str] | None = None) -> int:
    options = parser(__doc__, quick_help="40 j/k and 6 enter presses; pty: 10k events, 20 j/k")
    options.add_argument("--presses", type=int, help="j presses, and k presses (default 200)")
    options.add_argument("--enter", type=int, help="enter presses (default 30)")
    options.add_argument("--items", type=int, default=ITEMS, help="items in the phase")
    options.add_argument("--rounds", type=int, default=2, help="interleaved rounds (default 2)")
    options.add_argument("--pty-sizes", help="log sizes in the pty (default 10000,1000000)")
    options.add_argument("--pty-presses", type=int, help="pty: j, and k, per screen (default 60)")
    options.add_argument("--no-pty", action="store_true", help="only the headless checklist")
    options.add_argument("--pty-only", action="store_true", help="only the pty part")
    args = options.parse_args(argv)
    args.presses = args.presses or (40 if args.quick else 200)
    args.enter = args.enter or (6 if args.quick else 30)
    sizes = [int(x) for x in args.pty_sizes.split(",")] if args.pty_sizes else list(PTY_SIZES)
    if args.quick and not args.pty_sizes:
        sizes = [10_000]
    pty_presses = args.pty_presses or (20 if args.quick else 60)
    quiet = args.json
    # The apps read TERM for their colour system: frames are rendered as for the terminal
    # bench/startup.py uses.
    os.environ["TERM"] = "xterm-256color"
    os.environ.pop("NO_COLOR", None)

    work = Path(tempfile.mkdtemp(prefix="cockpit-bench-keys-"))
    result: dict[str, Any] = {"machine": textual_machine(), "quick": args.quick}
    try:
        if not args.pty_only:
            result.update(asyncio.run(bench(args, work, quiet)))
        if not args.no_pty:
            result["pty"] = keyspty.run(sizes, pty_presses, work, quiet)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    result["targets"], result["notes"] = [], []
    if "cockpit" in result:
        c, b = result["cockpit"], result["baseline"]
        result["targets"] = [
            target(
                f"p95 '{key}' key-to-screen, {args.items}-item checklist",
                round(c[key]["p95_ms"], 1),
                f"<= {TARGET_P95_MS:g} ms",
                c[key]["p95_ms"] <= TARGET_P95_MS,
            )
            for key in ("j", "k")
        ]
        result["notes"] = [
            f"p95 'enter' key-to-screen: {c['enter']['p95_ms']:.1f} ms "
            f"({'within' if c['enter']['p95_ms'] <= TARGET_P95_MS else 'over'} "
            f"{TARGET_P95_MS:g} ms; not checked: it appends to the audit log)",
            "p95 ratios, cockpit / baseline: "
            + ", ".join(f"{k} {c[k]['p95_ms'] / b[k]['p95_ms']:.2f}x" for k in ("j", "k", "enter"))
            + "; p50 ratios: "
            + ", ".join(f"{k} {c[k]['p50_ms'] / b[k]['p50_ms']:.2f}x" for k in ("j", "k", "enter")),
        ]
    if result.get("pty"):
        result["targets"] += keyspty.targets(result["pty"], TARGET_P95_MS)
    result["notes"].append(
        f"load average when the run started: {result['machine']['load_average_at_start']}; "
        f"at the end: {[round(x, 2) for x in os.getloadavg()]}"
    )
    return finish(result, args.json, args.no_check, render)


if __name__ == "__main__":
    sys.exit(main())
