"""Benchmark of the live metrics screen: CPU of the cockpit process and bytes written to the
terminal with 6 live panels at 120x40 and a 2 s refresh, and the time from a sample arriving to
the screen showing it; against the same process with the screen paused and on the dashboard.

Run from the repository root::

    .venv/bin/python bench/metrics.py            # full run (about 2.5 minutes on 2 cores)
    .venv/bin/python bench/metrics.py --quick    # smoke run: short windows (about 1 minute)
    .venv/bin/python bench/metrics.py --host     # 6 panels of this host (/proc): no Prometheus
    .venv/bin/python bench/metrics.py --json     # machine-readable output

What it measures, all in one run:

1. The sources. By default a real Prometheus (Debian's ``prometheus``, started by
   ``tests.services.prometheus_server``, scraping every 1 s) scraping the tests' exporter
   (``tests.exporter.Exporter``: ``prometheus_client`` in this process, 200 requests/s of
   traffic). A thread moves the exporter like a live service: the request rate and the memory
   gauge take a random step every second, and the CPU gauge a distinct new value every 5 s
   (its time is recorded: the end-to-end figure below). The 6 panels are PromQL: error rate,
   p95 latency, CPU, memory, requests/s and scrape duration. With ``--host``: 6 panels of this
   machine instead (cpu, memory, disk:/, network, disk:/tmp, network:lo).
2. A workspace (``cockpit.toml`` + SQLite log) with the demo's settings and roles, a
   ``staging`` environment whose ``metrics`` has those 6 panels and ``refresh_seconds = 2``,
   and a release of the shipped ``release`` plan made with :func:`cockpit.release.create_release`.
3. Run A: the real cockpit, ``python -m cockpit --config FILE --lang en open --release ID``,
   spawned on a pseudo-terminal of 120x40 (``TIOCSWINSZ`` before ``exec``,
   ``TERM=xterm-256color``). The benchmark reads the pty master all the time, stamping every
   chunk, and answers Textual's query for synchronized output as a modern terminal does, so
   every frame arrives between ``ESC[?2026h`` and ``ESC[?2026l`` and frames can be counted.
   It presses ``m`` on the dashboard, waits until the 6 panels show values, lets them run for a
   few seconds, then measures three steady windows in turn:

   - **live**: the metrics screen sampling and drawing (the figures the targets check);
   - **paused**: the same screen after ``space`` (no sampling, nothing redraws): a baseline;
   - **dashboard**: after ``escape`` (the screen is closed and its sampler stopped): a baseline.

   For each window: CPU of the cockpit process (``utime + stime`` of ``/proc/PID/stat``, all
   threads; also the main (UI) thread alone from ``/proc/PID/task/PID/stat``) over the wall
   time, the bytes read from the pty, the frames, and the bytes per refresh (bytes / (window /
   ``refresh_seconds``)); the frames' sizes and how many screen rows each rewrites (cursor moves).
4. Run B, the time from a sample arriving to the screen showing it: the same command through a
   small wrapper (``python -c``, in the child only, nothing patched on disk) that stamps
   ``time.monotonic()`` (one clock for both processes on Linux) when the sampler publishes a
   round (:meth:`Sampler._publish`, the moment the screen can collect it) with the text each
   panel will show. For each panel whose text changed (and is no other panel's), the time runs
   to the end of the first frame (``ESC[?2026l``) read from the pty after the stamp that
   contains that text; a round's figure is that of its last changed panel (the per-panel
   figures are reported too). Panels whose text did not change are left out. CPU and bytes of
   run B are reported too (a check that the wrapper costs nothing visible).
   End to end (Prometheus only, run A's live window): from the exporter's CPU gauge taking a new
   value to the end of the first frame showing it: Prometheus's scrape (<= 1 s), the sampler's
   period (2 s) and the screen's own delay are all in it.

Targets (checked unless ``--no-check``; the exit status is 1 when one is missed), live window:
CPU of the cockpit process <= 3 % of one core; bytes written to the terminal per refresh
<= 2 KB (2,048 bytes). The sample-to-screen time is reported, not checked (no target is set).
"""

from __future__ import annotations

import contextlib
import os
import pty
import random
import re
import select
import signal
import statistics
import struct
import sys
import tempfile
import termios
import threading
import time
from collections.abc import Callable, Iterator
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
    SYNC_START,
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

from cockpit.metrics.model import format_value
from cockpit.operator import Operator
from cockpit.release import create_release
from cockpit.session import Session

TARGET_CPU_PERCENT = 3.0
TARGET_BYTES_PER_REFRESH = 2048
COLS, ROWS = 120, 40
REFRESH = 2.0
CLK_TCK = os.sysconf("SC_CLK_TCK")
START_TIMEOUT_S = 40.0
OPERATOR = Operator.fixed("alice", "bastion-1")

CURSOR_MOVE = re.compile(rb"\x1b\[(\d+);(\d+)H")

PROM_CONFIG = """\
global:
  scrape_interval: 1s
  scrape_timeout: 900ms
scrape_configs:
  - job_name: app
    static_configs: [{{targets: ['{app}']}}]
"""

# name, title, kind, unit, PromQL
PROM_PANELS = [
    (
        "error_rate",
        "Error rate",
        "error_rate",
        "%",
        '100 * sum(irate(http_requests_total{job="app",status="500"}[5s]))'
        ' / sum(irate(http_requests_total{job="app"}[5s]))',
    ),
    (
        "latency_p95",
        "Latency p95",
        "latency",
        "ms",
        "1000 * histogram_quantile(0.95, sum by (le) "
        '(irate(http_request_duration_seconds_bucket{job="app"}[5s])))',
    ),
    ("cpu", "CPU", "cpu", "%", 'max(app_cpu_percent{job="app"})'),
    ("memory", "Memory", "memory", "%", 'max(app_memory_percent{job="app"})'),
    ("requests", "Requests", "count", "req/s", 'sum(irate(http_requests_total{job="app"}[5s]))'),
    ("scrape", "Scrape", "count", "ms", '1000 * max(scrape_duration_seconds{job="app"})'),
]

# name, title, kind, unit, host query, scale
HOST_PANELS = [
    ("cpu", "CPU", "cpu", "%", "cpu", 1.0),
    ("memory", "Memory", "memory", "%", "memory", 1.0),
    ("disk", "Disk /", "resource", "%", "disk:/", 1.0),
    ("network", "Network", "count", "KB/s", "network", 0.001),
    ("disk_tmp", "Disk /tmp", "resource", "%", "disk:/tmp", 1.0),
    ("loopback", "Loopback", "count", "KB/s", "network:lo", 0.001),
]


def workspace_toml(prometheus_url: str | None) -> str:
    """The benchmark's cockpit.toml: the demo's settings and roles, and a staging environment
    with 6 panels refreshed every 2 s (Prometheus at ``prometheus_url``, or this host)."""
    lines = [
        "[environments.staging]",
        'description = "Staging"',
        "rehearsal = true",
        "",
        "[environments.staging.metrics]",
        f"refresh_seconds = {REFRESH:g}",
        "timeout_seconds = 2",
        "stale_after_seconds = 10",
        "no_data_after_seconds = 30",
    ]
    if prometheus_url:
        lines.append(f'prometheus_url = "{prometheus_url}"')
        for name, title, kind, unit, query in PROM_PANELS:
            lines += [
                "",
                "[[environments.staging.metrics.panels]]",
                f'name = "{name}"',
                f'title = "{title}"',
                'source = "prometheus"',
                f"query = '{query}'",
                f'kind = "{kind}"',
                f'unit = "{unit}"',
            ]
    else:
        for name, title, kind, unit, query, scale in HOST_PANELS:
            lines += [
                "",
                "[[environments.staging.metrics.panels]]",
                f'name = "{name}"',
                f'title = "{title}"',
                'source = "host"',
                f'query = "{query}"',
                f'kind = "{kind}"',
                f'unit = "{unit}"',
                f"scale = {scale:g}",
            ]
    return workspace_config(
        "bench/metrics.py",
        demo_tables("database", "audit", "change_window", "roles", operator=OPERATOR.name),
        "\n".join(lines) + "\n",
    )


def build_workspace(root: Path, prometheus_url: str | None) -> tuple[Path, str]:
    """The workspace's cockpit.toml and the id of a release to staging."""
    config_file, loaded, store = open_workspace(root, workspace_toml(prometheus_url))
    try:
        t0 = (datetime.now(ZoneInfo("Asia/Tokyo")) + timedelta(days=2)).replace(
            hour=1, minute=0, second=0, microsecond=0
        )
        release = create_release(
            Session(store=store, loaded=loaded, operator=OPERATOR),
            plan="release",
            environment="staging",
            version="2.0.0",
            t0=t0.strftime("%Y-%m-%dT%H:%M"),
        )
    finally:
        store.close()
    return config_file, release.id


# ---------------------------------------------------------------- the live service


class Service:
    """The exporter moving like a live service: request rate and memory take a random step every
    second; the CPU gauge takes a distinct new value every ``step_s`` (times recorded)."""

    def __init__(self, exporter: Any, step_s: float = 5.0) -> None:
        self.exporter = exporter
        self.step_s = step_s
        self.cpu_steps: list[tuple[float, str]] = []  # (monotonic time, text as shown)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="service")
        self._random = random.Random(7)

    def start(self) -> Service:
        self.exporter.set(error_ratio=0.0005, latency=0.08, rps=200.0, cpu=20.0, memory=55.0)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        rps, memory, step = 200.0, 55.0, 0
        next_cpu = time.monotonic()
        while not self._stop.wait(1.0):
            rps = min(250.0, max(150.0, rps + self._random.uniform(-15, 15)))
            memory = min(65.0, max(50.0, memory + self._random.uniform(-1.5, 1.5)))
            values: dict[str, float] = {"rps": rps, "memory": round(memory, 1)}
            if time.monotonic() >= next_cpu:
                # 20.0 .. 44.9 %, never the previous value; one decimal, as the panel shows it.
                step += 1
                cpu = 20.0 + (step * 3.7) % 25.0
                values["cpu"] = round(cpu, 1)
                next_cpu += self.step_s
            self.exporter.set(**values)
            if "cpu" in values:
                self.cpu_steps.append((time.monotonic(), format_value(values["cpu"], "%")))


@contextlib.contextmanager
def prometheus_service(quiet: bool) -> Iterator[tuple[str, Service]]:
    """The tests' exporter, moved by :class:`Service`, scraped by a real Prometheus; yields
    Prometheus's URL once it has scraped the exporter."""
    import shutil

    from tests.exporter import Exporter
    from tests.services import prometheus_server

    if not shutil.which("prometheus"):
        raise SystemExit("prometheus is missing: run `bash .ci/install`, or use --host")
    from cockpit.metrics.sources import PrometheusSource

    with Exporter() as exporter:
        service = Service(exporter).start()
        try:
            with contextlib.ExitStack() as stack:
                with stage("Prometheus: start, first scrapes", quiet):
                    url = stack.enter_context(
                        prometheus_server(PROM_CONFIG.format(app=exporter.target))
                    )
                    source = PrometheusSource(url, timeout=2)
                    deadline = time.monotonic() + 30
                    # The rates need two scrapes (a new target is applied after up to 5 s).
                    query = 'count(irate(http_requests_total{job="app"}[5s]))'
                    while source.query(query)[0] != 2:
                        if time.monotonic() > deadline:
                            raise SystemExit("prometheus did not scrape the exporter in 30 s")
                        time.sleep(0.25)
                    source.close()
                yield url, service
        finally:
            service.stop()


# ---------------------------------------------------------------- the cockpit on a pty


def child_env() -> dict[str, str]:
    drop = {"COLUMNS", "LINES", "NO_COLOR", "COLORTERM"}
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TEXTUAL", "COCKPIT_")) and k not in drop
    }
    env["TERM"] = "xterm-256color"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return env


def cockpit_args(config_file: Path, release_id: str) -> list[str]:
    return ["--config", str(config_file), "--lang", "en", "open", "--release", release_id]


# Run B: the sampler's publish stamped with the text each panel will show; then the real CLI.
PUBLISH_WRAPPER = r"""
import sys, time
sys.path.insert(0, sys.argv[2])
from cockpit.metrics import sampler as _sampler
from cockpit.metrics.model import format_value
_log = open(sys.argv[1], "w", buffering=1)
_original = _sampler.Sampler._publish
def _publish(self, update):
    at = time.monotonic()
    _original(self, update)
    for s in update.samples:
        unit = self._panel_by_name[s.panel].unit
        text = "" if s.value is None else (s.text or format_value(s.value, unit))
        _log.write(f"{at:.6f}\t{update.seconds:.6f}\t{s.panel}\t{text}\n")
_sampler.Sampler._publish = _publish
from cockpit.cli import main
sys.argv = ["cockpit", *sys.argv[3:]]
sys.exit(main())
"""


def _strip_ansi(data: bytes) -> str:
    text = data.decode("utf-8", "replace")
    return re.sub(r"\x1b(\[[0-9;?>$]*[A-Za-z~]|\][^\x07]*\x07|.)", "", text)


class Terminal:
    """A process on a pty of COLS x ROWS; everything it writes, stamped by chunk."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        pid, fd = pty.fork()
        if pid == 0:  # the child: size the terminal it is about to draw on, then become the app
            try:
                import fcntl

                fcntl.ioctl(1, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
                os.execve(argv[0], argv, env)
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        self.buffer = bytearray()
        self.ends: list[int] = []  # end offset of each chunk
        self.times: list[float] = []  # monotonic time each chunk was read
        self.answered = False
        self.exited = False

    def pump(self, seconds: float) -> None:
        """Read whatever the app writes for ``seconds``."""
        self.pump_until(lambda: False, seconds)

    def pump_until(self, done: Callable[[], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not done():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            if self.exited:
                raise SystemExit(f"the cockpit exited; output: {self.tail()!r}")
            ready, _, _ = select.select([self.fd], [], [], min(left, 0.05))
            if not ready:
                continue
            try:
                chunk = os.read(self.fd, 1 << 16)
            except OSError:  # EIO: the child closed the terminal (it exited)
                chunk = b""
            now = time.monotonic()
            if not chunk:
                self.exited = True
                continue
            self.buffer += chunk
            self.ends.append(len(self.buffer))
            self.times.append(now)
            if not self.answered and SYNC_QUERY in self.buffer:
                self.answered = True
                os.write(self.fd, SYNC_ANSWER)
        return True

    def send(self, keys: bytes) -> None:
        os.write(self.fd, keys)

    def seen(self, text: str, start: int = 0) -> bool:
        return text in _strip_ansi(bytes(self.buffer[start:]))

    def time_at(self, offset: int) -> float:
        """When the byte at ``offset`` was read."""
        from bisect import bisect_right

        return self.times[bisect_right(self.ends, offset)]

    def first_chunk_after(self, moment: float) -> int:
        """Offset of the first byte read at or after ``moment``."""
        from bisect import bisect_left

        index = bisect_left(self.times, moment)
        return self.ends[index - 1] if index > 0 else 0

    def tail(self) -> str:
        return _strip_ansi(bytes(self.buffer[-3000:])).strip()[-600:]

    def close(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        while True:  # drain, so the child is never stuck writing
            try:
                if not select.select([self.fd], [], [], 0)[0] or not os.read(self.fd, 1 << 16):
                    break
            except OSError:
                break
        os.waitpid(self.pid, 0)
        os.close(self.fd)


def cpu_ticks(pid: int, tid: int | None = None) -> int:
    """utime + stime of a process (all its threads) or of one of its threads, in clock ticks."""
    path = f"/proc/{pid}/stat" if tid is None else f"/proc/{pid}/task/{tid}/stat"
    with open(path, encoding="ascii") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # fields 14 and 15 of stat(5)


def frames_in(data: bytes) -> list[bytes]:
    """The frames (between SYNC_START and SYNC_END) in ``data``."""
    out = []
    position = 0
    while True:
        start = data.find(SYNC_START, position)
        if start < 0:
            return out
        end = data.find(SYNC_END, start)
        if end < 0:
            return out
        out.append(data[start : end + len(SYNC_END)])
        position = end + len(SYNC_END)


def measure_window(term: Terminal, seconds: float, name: str) -> dict[str, Any]:
    """CPU, bytes and frames of the cockpit over ``seconds`` of steady state."""
    start_offset = len(term.buffer)
    wall0, ticks0, main0 = time.monotonic(), cpu_ticks(term.pid), cpu_ticks(term.pid, term.pid)
    threads0 = len(os.listdir(f"/proc/{term.pid}/task"))
    term.pump(seconds)
    wall = time.monotonic() - wall0
    ticks, main = cpu_ticks(term.pid) - ticks0, cpu_ticks(term.pid, term.pid) - main0
    data = bytes(term.buffer[start_offset:])
    frames = frames_in(data)
    sizes = [len(f) for f in frames]
    rows = [len({m.group(1) for m in CURSOR_MOVE.finditer(f)}) for f in frames]
    refreshes = wall / REFRESH
    return {
        "window": name,
        "seconds": wall,
        "cpu_s": ticks / CLK_TCK,
        "cpu_percent": 100.0 * ticks / CLK_TCK / wall,
        "main_thread_cpu_percent": 100.0 * main / CLK_TCK / wall,
        "threads": threads0,
        "bytes": len(data),
        "bytes_per_s": len(data) / wall,
        "bytes_per_refresh": len(data) / refreshes,
        "frames": len(frames),
        "frames_per_refresh": len(frames) / refreshes,
        "frame_bytes_p50": statistics.median(sizes) if sizes else 0,
        "frame_bytes_max": max(sizes) if sizes else 0,
        "rows_per_frame_p50": statistics.median(rows) if rows else 0,
        "rows_per_frame_max": max(rows) if rows else 0,
        "_start": start_offset,
        "_end": len(term.buffer),
    }


def open_metrics(term: Terminal, panel_markers: list[str]) -> None:
    """Wait for the dashboard with the release, press ``m``, wait for every panel's value."""
    if not term.pump_until(lambda: term.seen("2.0.0"), START_TIMEOUT_S):
        raise SystemExit(f"no dashboard with the release; output: {term.tail()!r}")
    term.pump(0.5)
    for _ in range(20):  # the dashboard takes m once its checklist is loaded
        mark = len(term.buffer)
        term.send(b"m")
        if term.pump_until(lambda mark=mark: term.seen("Metrics", mark), 1.0):  # type: ignore[misc]
            break
    else:
        raise SystemExit(f"m did not open the metrics screen; output: {term.tail()!r}")

    def values_shown() -> bool:
        shown = _strip_ansi(bytes(term.buffer[mark:]))
        return all(marker in shown for marker in panel_markers)

    if not term.pump_until(values_shown, 20):
        raise SystemExit(f"the panels did not show values within 20 s; output: {term.tail()!r}")


def latency_to_screen(
    term: Terminal, stamps: list[tuple[float, str, str]], start: float, end: float
) -> list[tuple[float, str, float]]:
    """For each (time, panel, text) between ``start`` and ``end`` whose text differs from the
    panel's previous one and from every other panel's: seconds to the end of the first frame
    read after ``time`` that contains the text."""
    shown: dict[str, str] = {}
    out: list[tuple[float, str, float]] = []
    data = bytes(term.buffer)
    for at, panel, text in stamps:
        before, shown[panel] = shown.get(panel), text
        if not text or text == before or not start <= at <= end:
            continue
        others = {t for p, t in shown.items() if p != panel}
        if text in others:
            continue
        found = data.find(text.encode(), term.first_chunk_after(at))
        if found < 0:
            continue
        closing = data.find(SYNC_END, found)
        if closing < 0:
            continue
        out.append((at, panel, term.time_at(closing) - at))
    return out


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    import math

    ordered = sorted(values)
    return ordered[max(1, min(len(ordered), math.ceil(q / 100 * len(ordered)))) - 1]


def latency_summary(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "p50_ms": statistics.median(values) * 1000,
        "p95_ms": percentile(values, 95) * 1000,
        "min_ms": min(values) * 1000,
        "max_ms": max(values) * 1000,
    }


def public(window: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in window.items() if not k.startswith("_")}


def run_a(
    config_file: Path,
    release_id: str,
    markers: list[str],
    windows: dict[str, float],
    service: Service | None,
    quiet: bool,
) -> dict[str, Any]:
    """Live, paused and dashboard windows in one cockpit process."""
    argv = [sys.executable, "-m", "cockpit", *cockpit_args(config_file, release_id)]
    term = Terminal(argv, child_env())
    out: dict[str, Any] = {}
    try:
        with stage("run A: start, open the metrics screen, settle", quiet):
            open_metrics(term, markers)
            term.pump(windows["settle"])
        with stage(f"run A: live window ({windows['live']:g} s)", quiet):
            live0 = time.monotonic()
            live = measure_window(term, windows["live"], "live")
            live1 = time.monotonic()
        term.send(b" ")
        with stage(f"run A: paused window ({windows['paused']:g} s)", quiet):
            term.pump_until(lambda: term.seen("PAUSED", live["_end"]), 5)
            term.pump(2.5)
            paused = measure_window(term, windows["paused"], "paused")
        term.send(b" ")
        term.pump(1.0)
        term.send(b"\x1b")
        with stage(f"run A: dashboard window ({windows['dashboard']:g} s)", quiet):
            mark = len(term.buffer)
            term.pump_until(lambda: term.seen("Timeline", mark), 5)
            term.pump(2.5)
            dashboard = measure_window(term, windows["dashboard"], "dashboard")
        out["windows"] = [public(live), public(paused), public(dashboard)]
        if service is not None:
            stamps = [(at, "cpu", text) for at, text in service.cpu_steps]
            found = latency_to_screen(term, stamps, live0, live1 - 4.0)
            out["end_to_end"] = latency_summary([s for _, _, s in found])
            out["end_to_end"]["steps"] = sum(1 for at, _, _ in stamps if live0 <= at <= live1 - 4.0)
        out["argv"] = " ".join(["python", *argv[1:]]).replace(str(config_file), "FILE")
    finally:
        term.close()
    return out


def run_b(
    config_file: Path,
    release_id: str,
    markers: list[str],
    seconds: float,
    work: Path,
    quiet: bool,
) -> dict[str, Any]:
    """Sample-to-screen times: the sampler's publish stamped in the child, frames on the pty."""
    log = work / "published.tsv"
    argv = [
        sys.executable,
        "-c",
        PUBLISH_WRAPPER,
        str(log),
        str(ROOT),
        *cockpit_args(config_file, release_id),
    ]
    term = Terminal(argv, child_env())
    try:
        with stage(f"run B: sample-to-screen ({seconds:g} s, publish stamped)", quiet):
            open_metrics(term, markers)
            term.pump(3.0)
            start = time.monotonic()
            window = measure_window(term, seconds, "live, run B")
            end = time.monotonic()
            term.pump(1.0)  # the frames of the last rounds in the window
    finally:
        term.close()
    stamps: list[tuple[float, str, str]] = []
    rounds: list[float] = []
    for line in log.read_text(encoding="utf-8").splitlines():
        at, took, panel, text = line.split("\t")
        stamps.append((float(at), panel, text))
        if start <= float(at) <= end:
            rounds.append(float(took))
    found = latency_to_screen(term, stamps, start, end - 1.0)
    # A round is shown when the last of its changed panels is: one figure per round.
    per_round: dict[float, float] = {}
    per_panel: dict[str, list[float]] = {}
    for at, panel, seconds_ in found:
        per_round[at] = max(per_round.get(at, 0.0), seconds_)
        per_panel.setdefault(panel, []).append(seconds_)
    return {
        "window": public(window),
        "latency": latency_summary(list(per_round.values())),
        "per_panel": {p: latency_summary(v) for p, v in per_panel.items()},
        "round_ms_p50": statistics.median(rounds) * 1000 if rounds else None,
        "round_ms_max": max(rounds) * 1000 if rounds else None,
    }


# ---------------------------------------------------------------- output


def render(result: dict[str, Any]) -> str:
    m = result["machine"]
    source = "host (/proc)" if result["host"] else "Prometheus + exporter"
    lines = [
        f"Metrics screen benchmark: {m['cpus']} CPUs, Python {m['python']}, Textual "
        f"{m['textual']}, pty {COLS}x{ROWS}, 6 panels from {source}, refresh {REFRESH:g} s\n",
        f"Command: {result['a']['argv']}\n",
    ]
    rows: list[tuple[str, ...]] = [
        (
            "Window",
            "Seconds",
            "CPU",
            "UI thread",
            "Bytes/s",
            "Bytes/refresh",
            "Frames/refresh",
            "Frame p50/max",
            "Rows/frame p50/max",
        )
    ]
    windows = [*result["a"]["windows"], result["b"]["window"]]
    for w in windows:
        rows.append(
            (
                w["window"],
                f"{w['seconds']:.1f}",
                f"{w['cpu_percent']:.2f} %",
                f"{w['main_thread_cpu_percent']:.2f} %",
                f"{w['bytes_per_s']:,.0f}",
                f"{w['bytes_per_refresh']:,.0f}",
                f"{w['frames_per_refresh']:.2f}",
                f"{w['frame_bytes_p50']:,.0f} / {w['frame_bytes_max']:,.0f}",
                f"{w['rows_per_frame_p50']:g} / {w['rows_per_frame_max']:g}",
            )
        )
    lines += [table(rows), "(CPU: percent of one core, all threads; run B has the stamp wrapper)"]
    r = result["ratios"]

    def times(value: float | None) -> str:
        return "- (0 in the baseline)" if value is None else f"{value:.1f}x"

    lines.append(
        f"Live / paused: CPU {times(r['cpu_live_over_paused'])}, bytes "
        f"{times(r['bytes_live_over_paused'])}; live / dashboard: CPU "
        f"{times(r['cpu_live_over_dashboard'])}, bytes {times(r['bytes_live_over_dashboard'])}"
    )
    rows = [("Sample to screen", "N", "p50", "p95", "min", "max")]

    def row(label: str, s: dict[str, Any]) -> tuple[str, ...]:
        if not s.get("n"):
            return (label, "0", "-", "-", "-", "-")
        return (
            label,
            str(s["n"]),
            f"{s['p50_ms']:.0f} ms",
            f"{s['p95_ms']:.0f} ms",
            f"{s['min_ms']:.0f} ms",
            f"{s['max_ms']:.0f} ms",
        )

    b = result["b"]
    rows.append(row("round published -> its changed panels on screen", b["latency"]))
    for panel, s in b["per_panel"].items():
        rows.append(row(f"  {panel} (each changed value)", s))
    if "end_to_end" in result["a"]:
        rows.append(row("exporter gauge set -> frame (cpu)", result["a"]["end_to_end"]))
    lines += ["", table(rows)]
    if b["round_ms_p50"] is not None:
        lines.append(
            f"A sampler round (the 6 queries, before publish): median {b['round_ms_p50']:.1f} ms, "
            f"max {b['round_ms_max']:.1f} ms."
        )
    lines += ["", "Targets:", *target_lines(result["targets"])]
    for note in result["notes"]:
        lines.append(f"  [info] {note}")
    return "\n".join(lines)


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    options = parser(__doc__, quick_help="short windows (about 1 minute)")
    options.add_argument(
        "--host", action="store_true", help="6 panels of this host instead of Prometheus"
    )
    options.add_argument("--seconds", type=float, help="the live window (default 60, quick 20)")
    args = options.parse_args(argv)
    quiet = args.json
    live = args.seconds or (20.0 if args.quick else 60.0)
    windows = {
        "settle": 4.0 if args.quick else 8.0,
        "live": live,
        "paused": 8.0 if args.quick else 16.0,
        "dashboard": 8.0 if args.quick else 16.0,
    }
    latency_s = 12.0 if args.quick else 30.0
    if args.host:
        markers = [f"{title}" for _, title, *_ in HOST_PANELS] + ["KB/s"]
    else:
        markers = [title for _, title, *_ in PROM_PANELS] + ["req/s"]
    result: dict[str, Any] = {"machine": textual_machine(), "quick": args.quick, "host": args.host}
    work = Path(tempfile.mkdtemp(prefix="cockpit-bench-metrics-"))
    try:
        with contextlib.ExitStack() as stack:
            service: Service | None = None
            url = None
            if not args.host:
                url, service = stack.enter_context(prometheus_service(quiet))
            config_file, release_id = build_workspace(work, url)
            result["a"] = run_a(config_file, release_id, markers, windows, service, quiet)
            result["b"] = run_b(config_file, release_id, markers, latency_s, work, quiet)
    finally:
        import shutil

        shutil.rmtree(work, ignore_errors=True)

    live_w, paused_w, dash_w = result["a"]["windows"]

    def ratio(a: float, b: float) -> float | None:
        return a / b if b else None

    result["ratios"] = {
        "cpu_live_over_paused": ratio(live_w["cpu_percent"], paused_w["cpu_percent"]),
        "bytes_live_over_paused": ratio(live_w["bytes"], paused_w["bytes"]),
        "cpu_live_over_dashboard": ratio(live_w["cpu_percent"], dash_w["cpu_percent"]),
        "bytes_live_over_dashboard": ratio(live_w["bytes"], dash_w["bytes"]),
    }
    result["targets"] = [
        target(
            "CPU of the cockpit process, 6 live panels (% of one core)",
            round(live_w["cpu_percent"], 2),
            f"<= {TARGET_CPU_PERCENT:g}",
            live_w["cpu_percent"] <= TARGET_CPU_PERCENT,
        ),
        target(
            "bytes written to the terminal per refresh",
            round(live_w["bytes_per_refresh"]),
            f"<= {TARGET_BYTES_PER_REFRESH}",
            live_w["bytes_per_refresh"] <= TARGET_BYTES_PER_REFRESH,
        ),
    ]
    result["notes"] = [
        f"load average when the run started: {result['machine']['load_average_at_start']}",
        f"load average at the end: {[round(x, 2) for x in os.getloadavg()]}",
    ]
    return finish(result, args.json, args.no_check, render)


if __name__ == "__main__":
    sys.exit(main())
