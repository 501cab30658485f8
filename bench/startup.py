"""Benchmark of opening the cockpit: time to the first full frame on a terminal, against a bare
Textual app started the same way, in the same run.

Run from the repository root::

    .venv/bin/python bench/startup.py            # full run (about 40 s on 2 cores)
    .venv/bin/python bench/startup.py --quick    # smoke run: 3 starts of each, no breakdown
    .venv/bin/python bench/startup.py --json     # machine-readable output

What it measures, all in one run:

1. A workspace (``cockpit.toml`` + SQLite log) with 50 releases of the shipped ``release`` plan
   and 10,000 events, built once before any timing with the real engine:
   :func:`cockpit.release.create_release` for each release, then :meth:`Store.append_many` of
   the item events the engine records (``item.done``, ``item.skipped``, ``check.started`` +
   ``item.done`` / ``check.failed``, ``gate.approved`` by a second operator, notes,
   ``release.closed``). 40 releases are closed, 10 open at various stages.
2. Time to first paint of real processes on a pseudo-terminal, the way an operator starts it:
   ``cockpit --lang en open`` (the console script, ``COCKPIT_CONFIG`` pointing at the workspace)
   and a bare Textual app (Header + Footer only) run with ``python -c``. Each is spawned with
   ``pty.fork`` at 80x24 (``TIOCSWINSZ`` in the child before ``exec``), ``TERM=xterm-256color``;
   the clock runs from just before the fork until the first full frame has been written: the
   marker text, then the end of the frame it is in. The benchmark answers Textual's query for
   synchronized output (``CSI ? 2026 $ p``) as a modern terminal does, so each frame ends with
   ``CSI ? 2026 l``; a frame drawn before the answer arrived ends at the cursor move to the last
   row (Textual writes a whole frame top to bottom). (Before 839a188 only the last-row move was
   looked for: a frame that repaints a few rows, as the data frame does once the dashboard's
   chrome is drawn, was counted only when a later frame reached the last row.) The markers:
   the dashboard's "Timeline" title (the target's figure), and also "Timeline" then a "T-14"
   phase row, which exists only once the engine's data is drawn (a frame with data: the
   dashboard's first view is read in a process ``cockpit open`` forks as it starts, and drawn in
   the first frame when it has come by then, else as it comes or by the load after the frame);
   the bare app's Header title. Then the process group is killed. One unmeasured start of each
   app first, then N starts of each, interleaved (the order alternates every round); median,
   best and worst.
3. Where the cockpit's time goes (not with ``--quick``):

   - a traced start: the same command run through a small wrapper that stamps the wall clock
     (from the fork) at the imports, ``Store.open``, ``DashboardScreen.compose``/``on_mount``,
     every ``DashboardScreen.reload``, ``_load_release`` and ``show``, ``Store.events``, the verify
     thread, and each ``App._display`` (the frame handed to the terminal); median of 3 starts;
   - interpreter start (``python -c pass``) and the imports, with a plain timer (best of 5) and
     with ``python -X importtime`` on the real start (self time summed per top-level package);
   - each engine step of the start path alone in a fresh process (median of 5), and
     the dashboard's load (``reload`` -> ``load`` in a worker -> ``show``) and the read of a
     highlighted release (``_load_release``, in a worker on j/k)
     timed in a headless app;
   - what-if starts: the cockpit with one cause of delay patched out in the child process only
     (never on disk), to show what each is worth.

Targets (checked unless ``--no-check``; the exit status is 1 when one is missed): median time
to the first frame of the cockpit <= 1.3 x the bare Textual app's median, and to its first frame
with data (what an operator waits for) <= 1.5 x.
"""

from __future__ import annotations

import json
import os
import pty
import random
import re
import select
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from contextlib import suppress
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

# _common puts the repository root first on sys.path: import it before cockpit.
from _common import (
    ROOT,
    SYNC_ANSWER,
    SYNC_END,
    SYNC_QUERY,
    demo_tables,
    finish,
    ms,
    open_workspace,
    parser,
    stage,
    table,
    target,
    target_lines,
    textual_machine,
    workspace_config,
)

from cockpit.events import NewEvent
from cockpit.operator import Operator
from cockpit.plan import CheckItem, GateItem, read_plan
from cockpit.release import Release, create_release, fold
from cockpit.session import Session
from cockpit.store import Store

TARGET_RATIO = 1.3
TARGET_DATA_RATIO = 1.5  # the first frame with data, at 10,000 events (issue 16)
RELEASES = 50
EVENTS = 10_000
COLS, ROWS = 80, 24
TIMEOUT_S = 30.0

PREPARER = Operator.fixed("alice", "bastion-1")
APPROVER = Operator.fixed("bob", "bastion-2")

# The demo's settings and roles (PREPARER is its release manager, APPROVER an approver), and its
# two environments without their git repository.
WORKSPACE_CONFIG = workspace_config(
    "bench/startup.py",
    demo_tables(
        "database",
        "audit",
        "change_window",
        "roles",
        "environments.staging",
        "environments.production",
        operator=PREPARER.name,
    ),
)
# The demo signs every decision in staging with keys this workspace does not have: left out.
WORKSPACE_CONFIG = "".join(
    line for line in WORKSPACE_CONFIG.splitlines(keepends=True) if not line.startswith("sign_all")
)

BARE_TITLE = "Bare Textual"
BARE_APP = f"""\
from textual.app import App
from textual.widgets import Footer, Header


class Bare(App[None]):
    TITLE = {BARE_TITLE!r}

    def compose(self):
        yield Header()
        yield Footer()


Bare().run(mouse=False)
"""

# Frames waited for: the markers, in order, then the end of the frame they are in (the frame
# has been written through). "frame" is the first paint of the dashboard (its "Timeline" title);
# "data" is the first frame with a timeline row ("T-14"), which needs the engine's data.
COCKPIT_MILESTONES = {"frame": (b"Timeline",), "data": (b"Timeline", b"T-14")}
BARE_MILESTONES = {"frame": (BARE_TITLE.encode(),)}
LAST_ROW = re.compile(rb"\x1b\[%d;\d+H" % ROWS)


# ---------------------------------------------------------------- workspace


def _release_plan(index: int, count: int, open_count: int) -> dict[str, Any]:
    """Version, environment, T-0 and fate of the ``index``-th release, oldest first: each
    version is rehearsed on staging, then released on production, every two weeks."""
    closed = index < count - open_count
    tz = ZoneInfo("Asia/Tokyo")
    first_open_pair = (count - open_count) // 2
    t0 = (datetime.now(tz) + timedelta(days=14 * (index // 2 - first_open_pair + 1))).replace(
        hour=1, minute=0, second=0, microsecond=0
    )
    return {
        "version": f"1.{index // 2}.0",
        "environment": "staging" if index % 2 == 0 else "production",
        "t0": t0,  # moved to the start of the next release window by build_workspace
        "closed": closed,
        # Open releases are at different stages, from just started to nearly done.
        "progress": 1.0 if closed else (index - (count - open_count) + 1) / (open_count + 1),
    }


def _blocks(
    release: Release, budget: int, closed: bool, progress: float, rng: random.Random
) -> list[list[tuple[Operator, str, dict[str, Any]]]]:
    """The events of one release as blocks that stay together (a check's intent and outcome).

    Each event is ``(operator, action, fields)``; ``fields["details"]["intent_seq"] = -1``
    means "the seq of the event just before", filled in at append time.
    """
    loaded = read_plan(release.plan)
    base = {"release_id": release.id, "rehearsal": release.rehearsal}
    items = list(loaded.plan.items())
    settle = len(items) if closed else int(len(items) * progress)
    blocks: list[list[tuple[Operator, str, dict[str, Any]]]] = []

    def decided(phase_id: str) -> dict[str, Any]:
        return {"plan": release.plan, "plan_sha256": loaded.sha256, "phase": phase_id}

    def check_run(item: CheckItem, phase_id: str, ok: bool) -> list[Any]:
        # A check the plan leaves to the environment (issue 15) has no probe of its own here.
        probe = item.check.name if item.check is not None else "by hand"
        started = {**decided(phase_id), "probe": probe}
        result: dict[str, Any] = {"intent_seq": -1, "probe": probe}
        if ok:
            outcome = ("item.done", {"outcome": "ok", "details": {**result, "clean": True}})
        else:
            result["error"] = "2 uncommitted changes: CHANGES.txt, app/settings.py"
            outcome = ("check.failed", {"outcome": "failed", "details": result})
        return [
            (PREPARER, "check.started", {**base, "subject": item.id, "details": started}),
            (PREPARER, outcome[0], {**base, "subject": item.id, **outcome[1]}),
        ]

    for phase, item in items[:settle]:
        if isinstance(item, CheckItem):
            blocks.append(check_run(item, phase.id, ok=True))
        elif isinstance(item, GateItem):
            details = decided(phase.id)
            blocks.append(
                [
                    (
                        APPROVER,
                        "gate.approved",
                        {**base, "subject": item.id, "outcome": "approved", "details": details},
                    )
                ]
            )
        elif rng.random() < 0.05:
            blocks.append(
                [
                    (
                        PREPARER,
                        "item.skipped",
                        {
                            **base,
                            "subject": item.id,
                            "outcome": "skipped",
                            "reason": "covered by the CI pipeline",
                            "details": decided(phase.id),
                        },
                    )
                ]
            )
        else:
            blocks.append(
                [
                    (
                        PREPARER,
                        "item.done",
                        {**base, "subject": item.id, "outcome": "ok", "details": decided(phase.id)},
                    )
                ]
            )
    used = sum(len(b) for b in blocks) + (1 if closed else 0)
    checks = [(p, i) for p, i in items if isinstance(i, CheckItem)]
    filler = budget - used
    extra: list[list[Any]] = []
    while filler > 0:
        # A check that failed before it passed, or an operator's logbook entry.
        if filler >= 2 and checks and rng.random() < 0.4:
            phase, item = rng.choice(checks)
            extra.append(check_run(item, phase.id, ok=False))
            filler -= 2
        else:
            text = rng.choice(
                (
                    "waiting for the security team's sign-off on the dependency update",
                    "staging smoke tests green, 412 passed",
                    "release notes reviewed with support",
                    "rolled the config change back on one node and forward again",
                    "DB migration dry run took 4 min on a copy of production",
                )
            )
            extra.append([(PREPARER, "note", {**base, "reason": text, "details": {}})])
            filler -= 1
    for block in extra:
        if block[0][1] == "check.started":
            # A failed run goes before that check's successful run, if it has one.
            subject = block[0][2]["subject"]
            passed = [i for i, b in enumerate(blocks) if b[0][2].get("subject") == subject]
            where = passed[0] if passed else rng.randrange(len(blocks) + 1)
        else:
            where = rng.randrange(len(blocks) + 1)
        blocks.insert(where, block)
    if closed:
        blocks.append([(PREPARER, "release.closed", {**base, "outcome": "ok", "details": {}})])
    return blocks


def _append_blocks(store: Store, blocks: list[list[Any]]) -> int:
    """Append the events, one transaction per run of events by the same operator."""
    flat = [event for block in blocks for event in block]
    written = 0
    start = 0
    while start < len(flat):
        who = flat[start][0]
        end = start
        while end < len(flat) and flat[end][0] is who:
            end += 1
        head = store.head()[0]
        batch = []
        for offset, (_, action, fields) in enumerate(flat[start:end]):
            details = dict(fields.get("details", {}))
            if details.get("intent_seq") == -1:
                details["intent_seq"] = head + offset  # the event just before this one
            batch.append(NewEvent(action=action, **{**fields, "details": details}))
        store.append_many(batch, who)
        written += len(batch)
        start = end
    return written


def build_workspace(root: Path, releases: int, events: int) -> dict[str, Any]:
    """A cockpit.toml and SQLite log with ``releases`` releases and ``events`` events."""
    from cockpit.checklist import SETTLED, Checklist, fold_items
    from cockpit.window import next_window

    started = time.perf_counter()
    config_file, loaded, store = open_workspace(root, WORKSPACE_CONFIG)
    rng = random.Random(20261216)
    open_count = max(1, min(10, releases // 5))
    shapes = [_release_plan(i, releases, open_count) for i in range(releases)]
    for shape in shapes:  # T-0 in a release window; made three weeks before (past ones too)
        start = next_window(loaded.config.change_window, shape["t0"]).start
        shape["t0"] = start.astimezone(shape["t0"].tzinfo).strftime("%Y-%m-%dT%H:%M")
        shape["made"] = start - timedelta(days=21)
    made: list[Release] = []
    for shape in shapes:
        made.append(
            create_release(
                Session(store=store, loaded=loaded, operator=PREPARER),
                plan="release",
                environment=shape["environment"],
                version=shape["version"],
                t0=shape["t0"],
                now=shape["made"],
            )
        )
    remaining = events - releases
    total = releases
    for index, (release, shape) in enumerate(zip(made, shapes, strict=True)):
        budget = remaining // releases + (1 if index < remaining % releases else 0)
        blocks = _blocks(release, budget, shape["closed"], shape["progress"], rng)
        total += _append_blocks(store, blocks)
    head = store.head()[0]
    report = store.verify()
    # Sanity: the engine reads these events as the checklist states they are meant to be.
    by_release: dict[str, list[Any]] = {}
    for event in store.events():
        by_release.setdefault(event.release_id or "", []).append(event)
    folded = fold(store.events())
    settled = []
    for release, shape in zip(made, shapes, strict=True):
        checklist = Checklist(
            folded[release.id], read_plan(release.plan), fold_items(by_release[release.id])
        )
        count = sum(
            1
            for _, item in checklist.plan.plan.items()
            if checklist.state(item.id).status in SETTLED
        )
        settled.append(count)
        if shape["closed"] and (checklist.release.status != "closed" or checklist.next_item()):
            raise SystemExit(f"workspace: closed release {release.id} is not fully settled")
    store.close()
    if not report.ok or head != total or total != events:
        raise SystemExit(f"workspace: built {total} events (head {head}), verify {report.problem}")
    return {
        "config": str(config_file),
        "releases": releases,
        "open_releases": open_count,
        "events": total,
        "settled_items_open": settled[-open_count:],
        "db_mb": (root / "cockpit.db").stat().st_size / 1e6,
        "build_s": time.perf_counter() - started,
    }


# ---------------------------------------------------------------- processes on a pty


# Where the children keep their bytecode (set in main): a process started by an operator reads
# cached .pyc files, so the children must too, even when the caller's environment says
# PYTHONDONTWRITEBYTECODE (then the project's own modules would be compiled at every start).
PYCACHE: Path | None = None


def child_env(config: str | None, *, bytecode: bool = True) -> dict[str, str]:
    drop = {"COLUMNS", "LINES", "NO_COLOR", "COLORTERM", "PYTHONDONTWRITEBYTECODE"}
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TEXTUAL", "COCKPIT_", "PYTHONPYCACHEPREFIX")) and k not in drop
    }
    env["TERM"] = "xterm-256color"
    # The code next to this script, ahead of any installed copy (an editable install's finder
    # comes after sys.path).
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    if not bytecode:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    elif PYCACHE is not None:
        env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    if config:
        env["COCKPIT_CONFIG"] = config
    return env


def cockpit_argv(extra: list[str] | None = None) -> list[str]:
    """``cockpit --lang en open``: the venv's console script, as an operator runs it (through
    the interpreter when interpreter options are given)."""
    script = Path(sys.executable).parent / "cockpit"
    command = ["--lang", "en", "open"]
    if not script.exists():
        return [sys.executable, *(extra or []), "-m", "cockpit", *command]
    if extra:
        return [sys.executable, *extra, str(script), *command]
    return [str(script), *command]


def bare_argv(extra: list[str] | None = None) -> list[str]:
    return [sys.executable, *(extra or []), "-c", BARE_APP]


def _strip_ansi(data: bytes) -> str:
    text = data.decode("utf-8", "replace")
    return re.sub(r"\x1b(\[[0-9;?>$]*[A-Za-z~]|\][^\x07]*\x07|.)", "", text)


def first_frame(
    argv: list[str],
    env: dict[str, str],
    milestones: dict[str, tuple[bytes, ...]],
    *,
    timeout: float = TIMEOUT_S,
    output: bytearray | None = None,
) -> dict[str, float]:
    """Seconds from spawning ``argv`` on a fresh 80x24 pty until each milestone's frame has been
    written in full (its markers in order, then the cursor move to the last row); the process is
    killed once every milestone is reached. Textual draws on stderr, so whatever else the
    process writes there shows up in ``output`` too."""
    started = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:  # the child: size the terminal it is about to draw on, then become the app
        try:
            import fcntl

            fcntl.ioctl(1, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
            os.execve(argv[0], argv, env)
        finally:
            os._exit(127)
    buffer = bytearray()
    reached: dict[str, float] = {}
    try:
        deadline = started + timeout
        while len(reached) < len(milestones) and time.perf_counter() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.05)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 1 << 16)
            except OSError:  # EIO: the child closed the terminal (it exited)
                chunk = b""
            now = time.perf_counter()
            if not chunk:
                break
            buffer += chunk
            if SYNC_QUERY in chunk:
                os.write(fd, SYNC_ANSWER)
            for name, markers in milestones.items():
                if name not in reached and _frame_done(buffer, markers):
                    reached[name] = now - started
    finally:
        with suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
        while True:  # drain, so the child is never stuck writing
            try:
                if not select.select([fd], [], [], 0)[0] or not os.read(fd, 1 << 16):
                    break
            except OSError:
                break
        os.waitpid(pid, 0)
        os.close(fd)
    if output is not None:
        output += buffer
    if len(reached) < len(milestones):
        tail = _strip_ansi(bytes(buffer[-2000:])).strip()[-600:]
        shown = " ".join(a if len(a) < 60 else a[:20] + "..." for a in argv)
        missing = ", ".join(sorted(set(milestones) - set(reached)))
        raise SystemExit(
            f"no frame ({missing}) from {shown} within {timeout:.0f} s; output: {tail!r}"
        )
    return reached


def _frame_done(buffer: bytearray, markers: tuple[bytes, ...]) -> bool:
    position = 0
    for marker in markers:
        found = buffer.find(marker, position)
        if found < 0:
            return False
        position = found + len(marker)
    return buffer.find(SYNC_END, position) >= 0 or LAST_ROW.search(buffer, position) is not None


def _stats(values: list[float]) -> dict[str, Any]:
    return {
        "median_s": statistics.median(values),
        "best_s": min(values),
        "worst_s": max(values),
        "runs_s": values,
    }


def bench_first_frame(config: str, runs: int, quiet: bool) -> dict[str, Any]:
    apps = {
        "cockpit": (cockpit_argv(), child_env(config), COCKPIT_MILESTONES),
        "bare": (bare_argv(), child_env(None), BARE_MILESTONES),
    }
    times: dict[str, dict[str, list[float]]] = {
        name: {m: [] for m in milestones} for name, (_, _, milestones) in apps.items()
    }
    with stage(f"first frame: 1 warm-up + {runs} starts of each app, interleaved", quiet):
        for argv, env, milestones in apps.values():
            first_frame(argv, env, milestones)  # warm-up: bytecode caches, page cache
        for run in range(runs):
            order = ["cockpit", "bare"] if run % 2 == 0 else ["bare", "cockpit"]
            for name in order:
                argv, env, milestones = apps[name]
                for milestone, seconds in first_frame(argv, env, milestones).items():
                    times[name][milestone].append(seconds)
    out: dict[str, Any] = {
        name: {m: _stats(values) for m, values in per.items()} for name, per in times.items()
    }
    bare_s = out["bare"]["frame"]["median_s"]
    out["ratio_of_medians"] = out["cockpit"]["frame"]["median_s"] / bare_s
    # The frame an operator waits for: the one with the engine's data (both are checked).
    out["data_ratio_of_medians"] = out["cockpit"]["data"]["median_s"] / bare_s
    out["cockpit_argv"] = "COCKPIT_CONFIG=... " + " ".join(apps["cockpit"][0])
    return out


# ---------------------------------------------------------------- where the time goes

OWN_PACKAGES = {"cockpit", "screens", "widgets", "checklists"}


def parse_importtime(text: str) -> dict[str, Any]:
    """Self time per top-level package and the slowest top-level imports, from -X importtime."""
    per_package: dict[str, int] = {}
    top: list[tuple[str, int]] = []
    total = 0
    for line in text.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( +)(\S+)", line)
        if not match:
            continue
        self_us, cumulative, indent, name = (
            int(match[1]),
            int(match[2]),
            len(match[3]),
            match[4],
        )
        total += self_us
        root = name.split(".")[0]
        per_package[root] = per_package.get(root, 0) + self_us
        if indent <= 2:
            top.append((name, cumulative))
    own = sum(v for k, v in per_package.items() if k in OWN_PACKAGES)
    ranked = sorted(
        ((k, v) for k, v in per_package.items() if k not in OWN_PACKAGES),
        key=lambda kv: -kv[1],
    )
    return {
        "total_s": total / 1e6,
        "own_code_s": own / 1e6,
        "packages_s": {k: v / 1e6 for k, v in ranked},
        "top_level_s": {k: v / 1e6 for k, v in sorted(top, key=lambda kv: -kv[1])[:8]},
        "modules": sum(1 for line in text.splitlines() if line.startswith("import time:")) - 1,
    }


TIMED_IMPORTS = {
    # What `cockpit open` imports before its first frame (cli, config, store, app, dashboard).
    "cockpit": "import cockpit.cli, cockpit.config, cockpit.store, cockpit.operator, "
    "cockpit.i18n, screens.app, screens.dashboard",
    "bare": "from textual.app import App; from textual.widgets import Footer, Header",
    "python": "pass",
}


def timed_imports(repeat: int) -> dict[str, float]:
    """Best of ``repeat`` fresh processes: seconds to run each import line (a plain timer)."""
    out = {}
    for name, statement in TIMED_IMPORTS.items():
        code = (
            f"import time\n_s = time.perf_counter()\n{statement}\nprint(time.perf_counter() - _s)"
        )
        best = min(
            float(
                subprocess.run(
                    [sys.executable, "-c", code],
                    capture_output=True,
                    text=True,
                    check=True,
                    cwd=ROOT,
                    env=child_env(None),
                ).stdout
            )
            for _ in range(repeat)
        )
        out[name] = best
    return out


def interpreter_start(repeat: int) -> float:
    """Best of ``repeat``: wall seconds of ``python -c pass`` (interpreter and site start)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True, env=child_env(None))
        best = min(best, time.perf_counter() - start)
    return best


ENGINE_PROBE = r"""
import asyncio, json, sys, time
sys.path.insert(0, sys.argv[1])
t = time.perf_counter
out = {}
s = t(); import cockpit.cli; out["import_cli"] = t() - s
s = t(); import cockpit.config; out["import_config"] = t() - s
s = t()
from cockpit.config import checkpoint_path, database_url, load_config
loaded = load_config(None)
out["load_config"] = t() - s
s = t(); import cockpit.store; out["import_store"] = t() - s
s = t()
from cockpit.store import Store
url = database_url(loaded)
store = Store(url, checkpoint_file=checkpoint_path(loaded, url),
              busy_timeout_ms=loaded.config.database.busy_timeout_ms).open()
out["store_open"] = t() - s
s = t(); import screens.app, screens.dashboard; out["import_app"] = t() - s
from cockpit.checklist import load_checklist
from cockpit.release import all_releases
s = t(); all_releases(store); out["all_releases"] = t() - s
s = t(); releases = all_releases(store, summary=True); out["all_releases_summary"] = t() - s
first = next(r for r in releases if r.status == "open")
s = t(); load_checklist(store, first.id); out["load_checklist"] = t() - s
s = t(); store.verify(); out["verify"] = t() - s

from cockpit.session import Session
from screens.app import CockpitApp
from cockpit.operator import current_operator
from screens.dashboard import DashboardScreen
# DashboardScreen.reload only starts the load worker (a thread); the data is drawn by show on
# the UI thread. A load is timed from reload() to the end of show.
loads, started = [], []
original_reload, original_apply = DashboardScreen.reload, DashboardScreen.show
def reload(self):
    started.append(t()); original_reload(self)
def apply(self, *args):
    original_apply(self, *args); loads.append(t() - started[-1])
DashboardScreen.reload, DashboardScreen.show = reload, apply
async def headless():
    app = CockpitApp(Session(store=store, loaded=loaded, operator=current_operator(), lang="en"),
                     refresh_seconds=3600)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        while not loads:
            await pilot.pause(0.01)
        screen = app.screen
        for _ in range(5):
            screen.reload()
            await screen.workers.wait_for_complete()
            await pilot.pause()
        out["dashboard_reload_first"] = loads[0]
        out["dashboard_reload"] = sorted(loads[1:])[len(loads[1:]) // 2]
        selects = []
        ids = [r.id for r in screen.releases]
        for i in range(5):
            s = t(); screen._load_release(ids[i % len(ids)], 10); selects.append(t() - s)
        out["dashboard_select"] = sorted(selects)[len(selects) // 2]
asyncio.run(headless())
print(json.dumps(out))
"""

# Runs one app the way the benchmark starts it, writing wall-clock marks to a file as it goes
# (the process is killed at its first frame, so every mark is written at once).
TRACE_WRAPPER = r"""
import functools, os, sys, time
_log = open(sys.argv[2], "w", buffering=1)
_seen = {}
_app = os.getpid()
def mark(name):
    if os.getpid() != _app:  # the process `cockpit open` forks to read the first view
        name = "(read-ahead) " + name
    _seen[name] = _seen.get(name, 0) + 1
    _log.write(f"{time.time():.6f}\t{name}\t{_seen[name]}\n")
mark("interpreter ready")

def wrap(owner, attr, label, limit=1):
    original = getattr(owner, attr)
    @functools.wraps(original)  # Textual reads handler signatures
    def wrapper(*args, **kwargs):
        if _seen.get(label + " start", 0) >= limit:
            return original(*args, **kwargs)
        mark(label + " start")
        try:
            return original(*args, **kwargs)
        finally:
            mark(label + " end")
    setattr(owner, attr, wrapper)

def patch(name, module):
    if name == "textual.app":
        wrap(module.App, "run", "App.run")
        original = module.App._display
        def display(self, screen, renderable):
            if renderable is None or _seen.get("App._display end", 0) >= 3:
                return original(self, screen, renderable)
            mark("App._display start")
            original(self, screen, renderable)
            mark("App._display end")
        module.App._display = display
    elif name == "cockpit.store":
        wrap(module.Store, "open", "Store.open")
        wrap(module.Store, "verify", "Store.verify (thread)")
        wrap(module.Store, "events", "Store.events", limit=12)
    elif name == "screens.common":
        # Handlers are wrapped on the class that defines them: a wrapper put on a subclass
        # would be dispatched by Textual in addition to the base class's handler.
        wrap(module.CockpitScreen, "on_mount", "CockpitScreen.on_mount", limit=3)
        wrap(module.CockpitScreen, "on_screen_resume", "CockpitScreen.on_screen_resume")
    elif name == "screens.dashboard":
        wrap(module.DashboardScreen, "compose", "DashboardScreen.compose")
        wrap(module.DashboardScreen, "on_mount", "DashboardScreen.on_mount")
        wrap(module.DashboardScreen, "reload", "DashboardScreen.reload", limit=5)
        wrap(module.DashboardScreen, "_load_release", "DashboardScreen._load_release", limit=5)
        wrap(module.DashboardScreen, "show", "DashboardScreen.show (data drawn)", limit=3)
    elif name == "screens.dashboard_view":
        wrap(module, "first_view", "first_view")
    elif name == "screens.firstview":
        wrap(module.FirstView, "take", "FirstView.take (for the first frame)")

WATCH = {"cockpit.cli", "cockpit.config", "cockpit.store", "screens.app", "screens.common",
         "screens.dashboard", "screens.dashboard_view", "screens.firstview", "textual.app"}

class Hook:
    def find_spec(self, name, path=None, target=None):
        if name not in WATCH:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                break
        else:
            return None
        original = spec.loader.exec_module
        def exec_module(module):
            mark(f"import {name} start")
            original(module)
            mark(f"import {name} end")
            patch(name, module)
        spec.loader.exec_module = exec_module
        return spec

sys.meta_path.insert(0, Hook())
if sys.argv[1] == "cockpit":
    sys.path.insert(0, sys.argv[3])
    from cockpit.cli import main
    sys.argv = ["cockpit", "--lang", "en", "open"]
    sys.exit(main())
else:
    exec(sys.argv[3])
"""


def start_timeline(config: str, work: Path, repeat: int) -> dict[str, Any]:
    """Median wall-clock offsets (from the fork) of marks inside each app as it starts on the
    pty: imports, Store.open, DashboardScreen.reload, the verify thread, the first frames."""
    out: dict[str, Any] = {}
    for name, env, milestones, payload in (
        ("cockpit", child_env(config), COCKPIT_MILESTONES, str(ROOT)),
        ("bare", child_env(None), BARE_MILESTONES, BARE_APP),
    ):
        trace = work / f"trace-{name}.tsv"
        argv = [sys.executable, "-c", TRACE_WRAPPER, name, str(trace), payload]
        marks: dict[str, list[float]] = {}
        frames = []
        for _ in range(repeat):
            spawned = time.time()
            frames.append(first_frame(argv, env, milestones)["frame"])
            for line in trace.read_text(encoding="utf-8").splitlines():
                stamp, label, count = line.split("\t")
                key = label if count == "1" else f"{label} #{count}"
                marks.setdefault(key, []).append(float(stamp) - spawned)
        median = {k: statistics.median(v) for k, v in marks.items() if len(v) == repeat}
        spans = []
        for key, begin in median.items():
            label, _, count = key.partition(" #")
            if not label.endswith(" start"):
                continue
            closing = label.removesuffix(" start") + " end" + (f" #{count}" if count else "")
            shown = label.removesuffix(" start") + (f" #{count}" if count else "")
            spans.append((shown, begin, median.get(closing)))
        spans.sort(key=lambda span: span[1])
        out[name] = {
            "interpreter_ready_s": median.get("interpreter ready"),
            "spans_s": [{"what": w, "start": b, "end": e} for w, b, e in spans],
            "first_frame_s": statistics.median(frames),
        }
    return out


# What-if starts (diagnosis only; the app is patched in the child process, never on disk).
# Patches must not import the engine up front: the first frame is drawn before it is imported,
# so the verify patch is applied by an import hook when cockpit.store is first imported.
WHAT_IF = {
    "as shipped (python -c wrapper)": "",
    "Store.verify thread idle during start": """
import importlib.util, time
class _PatchStore:
    def find_spec(self, name, path=None, target=None):
        if name != "cockpit.store":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        exec_module = spec.loader.exec_module
        def patched(module):
            exec_module(module)
            module.Store.verify = lambda self, checkpoint=None, **_: time.sleep(3600)
        spec.loader.exec_module = patched
        return spec
sys.meta_path.insert(0, _PatchStore())
""",
}


def what_if(config: str, runs: int) -> dict[str, dict[str, float]]:
    """Median time to first frame and to the frame with data of the cockpit with one cause of
    delay patched out; and, for comparison, with no bytecode cache for the project's own modules
    (what a start costs in an environment with PYTHONDONTWRITEBYTECODE=1 and an editable
    install)."""
    out = {}
    variants = [(name, patch, True) for name, patch in WHAT_IF.items()]
    variants.append(("no .pyc for cockpit's own modules", "", False))
    for name, patch, bytecode in variants:
        env = child_env(config, bytecode=bytecode)
        code = (
            f"import sys\nsys.path.insert(0, {str(ROOT)!r})\n{patch}\n"
            "from cockpit.cli import main\n"
            "sys.argv = ['cockpit', '--lang', 'en', 'open']\nsys.exit(main())\n"
        )
        argv = [sys.executable, "-c", code]
        first_frame(argv, env, COCKPIT_MILESTONES)  # warm-up
        starts = [first_frame(argv, env, COCKPIT_MILESTONES) for _ in range(runs)]
        out[name] = {key: statistics.median(s[key] for s in starts) for key in COCKPIT_MILESTONES}
    return out


def engine_work(config: str, repeat: int) -> dict[str, float]:
    """Median over ``repeat`` fresh processes of each step of the start path, run in order."""
    runs = []
    env = child_env(config)
    env["TERM"] = "dumb"
    for _ in range(repeat):
        done = subprocess.run(
            [sys.executable, "-c", ENGINE_PROBE, str(ROOT)],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
        )
        if done.returncode != 0:
            raise SystemExit(f"engine probe failed: {done.stderr.strip()[-800:]}")
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def import_profile(config: str) -> dict[str, Any]:
    """``-X importtime`` of the real start of each app on the pty, up to its first frame (the
    report shares stderr, and so the pty, with the frame: its lines are picked out)."""
    out = {}
    for name, argv, env, milestones in (
        ("cockpit", cockpit_argv(["-X", "importtime"]), child_env(config), COCKPIT_MILESTONES),
        ("bare", bare_argv(["-X", "importtime"]), child_env(None), BARE_MILESTONES),
    ):
        captured = bytearray()
        first_frame(argv, env, milestones, output=captured)
        text = captured.decode("utf-8", "replace").replace("\r", "")
        out[name] = parse_importtime(text)
    return out


# ---------------------------------------------------------------- output


def render(result: dict[str, Any]) -> str:
    m, w, f = result["machine"], result["workspace"], result["first_frame"]
    head = (
        f"Startup benchmark: {m['cpus']} CPUs, Python {m['python']}, Textual {m['textual']}, "
        f"{COLS}x{ROWS} pty, TERM=xterm-256color\n"
        f"Workspace: {w['releases']} releases ({w['open_releases']} open), {w['events']:,} events, "
        f"{w['db_mb']:.1f} MB SQLite, built in {w['build_s']:.1f} s\n"
        "Children read bytecode from a cache in the work directory (PYTHONPYCACHEPREFIX), as an "
        "installed cockpit would; load average at the start: "
        f"{m['load_average_at_start']}\n"
    )
    c, bare = f["cockpit"], f["bare"]
    runs = len(c["frame"]["runs_s"])

    def stat_row(label: str, s: dict[str, Any], note: str) -> tuple[str, ...]:
        return (label, ms(s["median_s"]), ms(s["best_s"]), ms(s["worst_s"]), note)

    rows: list[tuple[str, ...]] = [("Time to first full frame", "Median", "Best", "Worst", "Notes")]
    rows.append(
        stat_row(
            "cockpit --lang en open",
            c["frame"],
            f"{runs} starts; 'Timeline' (dashboard), then row {ROWS} written",
        )
    )
    rows.append(
        stat_row("  same starts, frame with data", c["data"], "'Timeline', 'T-14' (a phase row)")
    )
    rows.append(
        stat_row(
            "bare Textual app (Header + Footer)",
            bare["frame"],
            f"{runs} starts, interleaved; its title, then row {ROWS}",
        )
    )
    rows.append(
        ("Cockpit / bare (medians)", f"{f['ratio_of_medians']:.2f}x", "", "", "target <= 1.3x")
    )
    rows.append(
        (
            "  frame with data / bare (medians)",
            f"{f['data_ratio_of_medians']:.2f}x",
            "",
            "",
            f"target <= {TARGET_DATA_RATIO}x",
        )
    )
    lines = [head, table(rows)]

    b = result.get("breakdown")
    if b:
        tl = b["timeline"]
        rows = [("Cockpit start, traced (ms from fork)", "Start", "End", "Took")]
        ready = tl["cockpit"]["interpreter_ready_s"]
        rows.append(("interpreter ready", "", f"{ready * 1000:,.0f}", ""))
        for span in tl["cockpit"]["spans_s"]:
            end = span["end"]
            rows.append(
                (
                    span["what"],
                    f"{span['start'] * 1000:,.0f}",
                    "" if end is None else f"{end * 1000:,.0f}",
                    "(running)" if end is None else f"{(end - span['start']) * 1000:,.0f}",
                )
            )
        rows.append(
            ("first frame seen on the pty", "", f"{tl['cockpit']['first_frame_s'] * 1000:,.0f}", "")
        )
        lines += ["", table(rows)]
        bare_spans = ", ".join(
            f"{s['what']} {s['start'] * 1000:,.0f}"
            + ("" if s["end"] is None else f"-{s['end'] * 1000:,.0f}")
            for s in tl["bare"]["spans_s"]
        )
        lines.append(
            f"(median of 3 traced starts. Bare app: interpreter ready "
            f"{tl['bare']['interpreter_ready_s'] * 1000:,.0f}, {bare_spans}; "
            f"frame on the pty {tl['bare']['first_frame_s'] * 1000:,.0f})"
        )

        e, ti = b["engine"], b["timed_imports"]
        rows = [("Start-path costs (fresh process)", "Time", "Notes")]
        rows.append(("python -c pass", ms(b["interpreter_s"]), f"best of {b['repeat']}"))
        rows.append(
            (
                "imports, plain timer",
                ms(ti["cockpit"]),
                f"best of {b['repeat']}: cli, config, store, app, dashboard; "
                f"bare app's: {ms(ti['bare'])}",
            )
        )
        steps = [
            ("import cockpit.cli", "import_cli", ""),
            ("import cockpit.config", "import_config", "msgspec, tomllib"),
            ("load_config()", "load_config", ""),
            ("import cockpit.store", "import_store", "SQLAlchemy"),
            ("Store(...).open()", "store_open", "engine, schema revision check"),
            ("import screens.app, screens.dashboard", "import_app", "Textual, plan, yaml"),
            ("all_releases(store)", "all_releases", f"Store.events() + fold, {w['events']:,} rows"),
            ("all_releases(store, summary=True)", "all_releases_summary", "lifecycle events only"),
            ("load_checklist(first open)", "load_checklist", "release's events + plan"),
            ("Store.verify()", "verify", "the dashboard's verify_chain thread"),
            ("dashboard load, on mount", "dashboard_reload_first", "reload -> worker -> show"),
            ("dashboard load, again", "dashboard_reload", "each tick (2 s), each resume"),
            (
                "DashboardScreen._load_release",
                "dashboard_select",
                "each release highlighted (j/k), in a worker",
            ),
        ]
        for label, key, note in steps:
            rows.append((f"  {label}", ms(e[key]), f"median of {b['repeat']}; {note}".rstrip("; ")))
        lines += ["", table(rows)]

        ic, ib = b["importtime"]["cockpit"], b["importtime"]["bare"]
        rows = [("-X importtime, start to first frame", "cockpit", "bare")]
        rows.append(("modules imported", str(ic["modules"]), str(ib["modules"])))
        rows.append(("self time, all (inflated by -X)", ms(ic["total_s"]), ms(ib["total_s"])))
        rows.append(("  cockpit, screens, widgets", ms(ic["own_code_s"]), "-"))
        for name, value in list(ic["packages_s"].items())[:8]:
            rows.append((f"  {name}", ms(value), ms(ib["packages_s"].get(name, 0.0))))
        lines += ["", table(rows)]

        shipped = b["what_if"]["as shipped (python -c wrapper)"]
        rows = [("What if (patched in the child only)", "First frame", "With data", "vs shipped")]
        for name, value in b["what_if"].items():
            delta = (
                ""
                if value is shipped
                else f"{(value['frame'] - shipped['frame']) * 1000:+,.0f} / "
                f"{(value['data'] - shipped['data']) * 1000:+,.0f} ms"
            )
            rows.append((name, ms(value["frame"]), ms(value["data"]), delta))
        lines += ["", table(rows), f"(median of {b['what_if_runs']} starts each)"]

    lines += ["", "Targets:", *target_lines(result["targets"])]
    return "\n".join(lines)


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    options = parser(__doc__, quick_help="3 starts of each app, no breakdown")
    options.add_argument("--runs", type=int, help="starts of each app (default 7, quick 3)")
    options.add_argument("--releases", type=int, default=RELEASES, help="releases in the log")
    options.add_argument("--events", type=int, default=EVENTS, help="events in the log")
    options.add_argument("--no-breakdown", action="store_true", help="skip 'where the time goes'")
    options.add_argument("--keep", metavar="DIR", help="build the workspace here and keep it")
    args = options.parse_args(argv)
    runs = args.runs or (3 if args.quick else 7)
    quiet = args.json
    if args.events < args.releases * 2:
        options.error("--events must be at least twice --releases")

    result: dict[str, Any] = {"machine": textual_machine(), "quick": args.quick}
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="cockpit-bench-"))
    global PYCACHE
    PYCACHE = work / "pycache"
    try:
        with stage(f"build workspace: {args.releases} releases, {args.events} events", quiet):
            result["workspace"] = build_workspace(work / "ws", args.releases, args.events)
        config = result["workspace"]["config"]
        result["first_frame"] = bench_first_frame(config, runs, quiet)
        if not (args.quick or args.no_breakdown):
            repeat = 5
            breakdown: dict[str, Any] = {"repeat": repeat, "what_if_runs": runs}
            with stage("where the time goes: imports, engine, traced starts, what-ifs", quiet):
                breakdown["interpreter_s"] = interpreter_start(repeat)
                breakdown["timed_imports"] = timed_imports(repeat)
                breakdown["importtime"] = import_profile(config)
                breakdown["engine"] = engine_work(config, repeat)
                breakdown["timeline"] = start_timeline(config, work, 3)
                breakdown["what_if"] = what_if(config, runs)
            result["breakdown"] = breakdown
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    ratio = result["first_frame"]["ratio_of_medians"]
    data_ratio = result["first_frame"]["data_ratio_of_medians"]
    result["targets"] = [
        target(
            "cockpit / bare Textual, time to first frame (medians)",
            round(ratio, 3),
            f"<= {TARGET_RATIO}",
            ratio <= TARGET_RATIO,
        ),
        target(
            "cockpit / bare Textual, time to the first frame with data (medians)",
            round(data_ratio, 3),
            f"<= {TARGET_DATA_RATIO}",
            data_ratio <= TARGET_DATA_RATIO,
        ),
    ]
    return finish(result, args.json, args.no_check, render)


if __name__ == "__main__":
    sys.exit(main())
