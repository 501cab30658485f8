"""The pty part of bench/keys.py: ``j`` / ``k`` on the dashboard and in the checklist of a real
``cockpit --lang en open`` on a pseudo-terminal, with a log of 10,000 or 1,000,000 events built
by bench/scale.py's builder (the same log as its figures: 50 releases of the shipped plan, 5
open, notes on the closed ones up to the size).

How one press is timed. The key's byte is written to the terminal's master side, as a terminal
emulator writes it; what the app draws (escape sequences, on the pty) is read as it comes, each
read stamped. The press's latency runs from the write to the last byte written before the
terminal stays quiet for ``QUIET_S`` (the redraw after the highlight moved, and on the
dashboard the release's timeline read in a worker and drawn); the first byte is the first
visible reaction. A press that draws nothing within ``QUIET_S`` is counted as not seen (it
should not happen). The quiet wait is not in the figure: it only spaces the presses, as a
person's are. When the screens redraw on their own (a periodic refresh), a measured press
starts only within ``WINDOW_S`` after such a frame (:meth:`Terminal.between_ticks`).

The session: the app starts, its first frame with data is waited for (the dashboard's phase row
``T-14``) and the terminal quiet; the dashboard's release list gets ``j`` to its last release
and ``k`` back, repeated; ``enter`` opens the checklist of the selected release's next phase;
then ``j`` down its items and ``k`` back, repeated. The process is killed at the end.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import metrics

ROWS, COLS = metrics.ROWS, metrics.COLS
QUIET_S = 0.25
PRESS_TIMEOUT_S = 5.0
START_TIMEOUT_S = 60.0
READY_MARKER = b"T-14"  # the dashboard's timeline: the first frame with data
CHECKLIST_MARKER = b"[x] "  # an item done, as the checklist draws it
WARMUP = 4  # unmeasured presses of each key on each screen
# A measured press starts within WINDOW_S of the last refresh frame (they come every 2 s), else
# the next one is waited for (at most TICK_WAIT_S).
WINDOW_S = 1.3
TICK_WAIT_S = 3.0


def build_log(root: Path, size: int) -> dict[str, Any]:
    """A workspace in ``root`` (a new directory) whose SQLite log holds ``size`` events, built
    by bench/scale.py, then verified once (so the head verified is remembered, as after any
    earlier session: the dashboard verifies only what is new). Also how many rows the
    dashboard's release list and the checklist ``enter`` opens have."""
    import scale

    from cockpit.checklist import load_checklist
    from cockpit.store import Store

    root.mkdir(parents=True)
    url = f"sqlite:///{root / 'cockpit.db'}"
    (root / "cockpit.toml").write_text(scale.CONFIG.format(url=url))
    store = Store(url, checkpoint_file=root / "checkpoint.json").open()
    try:
        built = scale.build(store, size)
        started = time.perf_counter()
        report = store.verify()
        if not report.ok:
            raise SystemExit(f"the built log does not verify: {report.findings[0]}")
        verified = time.perf_counter() - started
        releases = [r for r in store.releases() if r.status == "open"]
        upcoming = load_checklist(store, releases[0].id).next_item()
        if upcoming is None:
            raise SystemExit("the first open release has nothing left to do")
        items = len(upcoming[0].items)
    finally:
        store.close()
    return {
        "events": size,
        "build_s": built,
        "verify_s": verified,
        "releases": len(releases),
        "items": items,
    }


def child_env(config: Path, pycache: Path) -> dict[str, str]:
    """bench/startup.py's child environment (this checkout first on the path, its terminal),
    the workspace's config, and a bytecode cache."""
    import startup

    env = startup.child_env(str(config))
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


class Terminal(metrics.Terminal):
    """bench/metrics.py's pty (COLS x ROWS, chunks stamped with ``time.monotonic``, Textual's
    synchronized-output query answered), with key presses timed to the quiet after them."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        super().__init__(argv, env)
        self.tick_at: float | None = None  # when the last refresh frame (output unasked) began
        self.ticks = 0
        self.still = False  # no refresh frames come: presses are not paced

    def more(self, wait: float) -> bool:
        """Whether the app wrote anything within ``wait`` seconds."""
        seen = len(self.times)
        return self.pump_until(lambda: len(self.times) > seen, wait)

    def until_quiet(self, quiet: float, timeout: float) -> list[float]:
        """The time stamps of the chunks read until nothing comes for ``quiet`` seconds (or
        ``timeout`` passes)."""
        first = len(self.times)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.more(quiet):
                break
        return self.times[first:]

    def wait_for(self, marker: bytes, timeout: float, after: int = 0) -> None:
        """Until ``marker`` is drawn (after the first ``after`` bytes)."""
        if not self.pump_until(lambda: self.buffer.find(marker, after) >= 0, timeout):
            raise SystemExit(f"no {marker!r} within {timeout:.0f} s: {self.tail()!r}")

    def between_ticks(self) -> None:
        """Wait, if needed, until a press and its frames fit before the screen's next refresh
        frame: the screens redraw every ``refresh_seconds`` (2 s) on their own, and a press
        whose frames ran into one would be timed to the end of that redraw."""
        if self.still:
            return
        if self.tick_at is not None and time.monotonic() - self.tick_at < WINDOW_S:
            return
        seen = len(self.times)
        if not self.more(TICK_WAIT_S):
            # No refresh frame came: the screen redraws only when the log changes (and every
            # 30 s for its countdowns), so presses need no pacing.
            self.still = True
            return
        self.tick_at = self.times[seen]
        self.ticks += 1
        self.until_quiet(QUIET_S, PRESS_TIMEOUT_S)

    def press(self, key: bytes, *, paced: bool = False) -> tuple[float, float] | None:
        """(first byte, last byte before quiet) in seconds after the key; None if nothing.
        ``paced``: between two refresh frames (:meth:`between_ticks`)."""
        if paced:
            self.between_ticks()
        sent = time.monotonic()
        self.send(key)
        stamps = self.until_quiet(QUIET_S, PRESS_TIMEOUT_S)
        return (stamps[0] - sent, stamps[-1] - sent) if stamps else None


@contextmanager
def cockpit(config: Path, pycache: Path) -> Iterator[Terminal]:
    from startup import cockpit_argv

    term = Terminal(cockpit_argv(), child_env(config, pycache))
    try:
        yield term
    finally:
        term.close()


def _presses(term: Terminal, rows: int, presses: int) -> dict[str, Any]:
    """From the top of a list of ``rows`` rows, j down to its end, then k back up, until each
    key has been pressed ``presses`` times (after WARMUP unmeasured presses of each); presses
    that drew nothing are dropped and counted under "unseen"."""
    out: dict[str, Any] = {"j": [], "k": [], "unseen": 0}
    steps = max(rows - 1, 1)
    for _ in range(steps):  # to the top of the list, wherever the cursor starts
        term.press(b"k")
    for measured in (False, True):
        wanted = presses if measured else WARMUP
        done = 0
        while done < wanted:
            for key in ("j", "k"):
                for _ in range(min(steps, wanted - done)):
                    got = term.press(key.encode(), paced=measured)
                    if not measured:
                        continue
                    if got is None:
                        out["unseen"] += 1
                    else:
                        out[key].append(got)
            done += min(steps, wanted - done)
    return out


def session(config: Path, pycache: Path, *, releases: int, items: int, presses: int) -> dict:
    """One app on the pty: the dashboard's j/k over ``releases`` rows, then the checklist's
    over ``items`` rows, ``presses`` of each key on each."""
    with cockpit(config, pycache) as term:
        started = time.monotonic()
        term.wait_for(READY_MARKER, START_TIMEOUT_S)
        first_data = time.monotonic() - started
        term.until_quiet(1.0, 30.0)  # the dashboard's verify of what is new, and its redraw
        dashboard = _presses(term, releases, presses)
        mark = len(term.buffer)
        sent = time.monotonic()
        term.send(b"\r")  # open the checklist of the release's next phase
        term.wait_for(CHECKLIST_MARKER, START_TIMEOUT_S, after=mark)
        opened = time.monotonic() - sent
        term.until_quiet(1.0, 30.0)
        checklist = _presses(term, items, presses)
    return {
        "first_data_s": first_data,
        "checklist_opened_s": opened,
        "dashboard": dashboard,
        "checklist": checklist,
        "refresh_frames_waited_for": term.ticks,
    }


def summarise(presses: dict[str, Any]) -> dict[str, Any]:
    from keys import percentile

    found: dict[str, Any] = {"unseen": presses["unseen"]}
    for key in ("j", "k"):
        last = [x[1] * 1000 for x in presses[key]]
        first = [x[0] * 1000 for x in presses[key]]
        found[key] = {
            "presses": len(last),
            "p50_ms": statistics.median(last) if last else 0.0,
            "p95_ms": percentile(last, 95) if last else 0.0,
            "max_ms": max(last) if last else 0.0,
            "first_p50_ms": statistics.median(first) if first else 0.0,
        }
    return found


if __name__ == "__main__":  # a quick look: python bench/keyspty.py SIZE WORKDIR
    import json

    size, work = int(sys.argv[1]), Path(sys.argv[2])
    rows = build_log(work, size) if not (work / "cockpit.toml").exists() else {}
    print(rows)
    got: dict[str, Any] = session(
        work / "cockpit.toml",
        work / "pycache",
        releases=rows.get("releases", 5),
        items=rows.get("items", 4),
        presses=int(sys.argv[3]) if len(sys.argv) > 3 else 20,
    )
    print(json.dumps({k: summarise(v) if isinstance(v, dict) else v for k, v in got.items()}))


# ---------------------------------------------------------------- run, targets, output
# (called by bench/keys.py)


def run(sizes: list[int], presses: int, work: Path, quiet: bool) -> list[dict[str, Any]]:
    """For each size: build the log, one app session on the pty; the figures."""
    import shutil

    from _common import stage

    found = []
    for size in sizes:
        root = work / f"pty-{size}"
        with stage(f"pty, {size:,} events: build the log (bench/scale.py's builder)", quiet):
            rows = build_log(root, size)
        if size == sizes[0]:  # one start first: the bytecode cache is filled, as installed
            with cockpit(root / "cockpit.toml", work / "pycache") as term:
                term.wait_for(READY_MARKER, START_TIMEOUT_S)
        with stage(f"pty, {size:,} events: j/k on the dashboard, then the checklist", quiet):
            got = session(
                root / "cockpit.toml",
                work / "pycache",
                releases=rows["releases"],
                items=rows["items"],
                presses=presses,
            )
        found.append(
            {
                **rows,
                "first_data_s": got["first_data_s"],
                "checklist_opened_s": got["checklist_opened_s"],
                "refresh_frames_waited_for": got["refresh_frames_waited_for"],
                "dashboard": summarise(got["dashboard"]),
                "checklist": summarise(got["checklist"]),
            }
        )
        shutil.rmtree(root, ignore_errors=True)
    return found


def targets(runs: list[dict[str, Any]], bound_ms: float) -> list[dict[str, Any]]:
    from _common import target

    return [
        target(
            f"pty p95 '{key}' on the {screen}, {r['events']:,} events",
            round(r[screen][key]["p95_ms"], 1),
            f"<= {bound_ms:g} ms",
            r[screen][key]["p95_ms"] <= bound_ms and r[screen]["unseen"] == 0,
        )
        for r in runs
        for screen in ("dashboard", "checklist")
        for key in ("j", "k")
    ]


def render(runs: list[dict[str, Any]]) -> str:
    from _common import table

    rows: list[tuple[str, ...]] = [
        ("Events", "Screen", "Key", "N", "p50", "p95", "max", "1st byte p50", "Not seen")
    ]
    for r in runs:
        for screen, rows_on in (("dashboard", r["releases"]), ("checklist", r["items"])):
            for key in ("j", "k"):
                s = r[screen][key]
                rows.append(
                    (
                        f"{r['events']:,}",
                        f"{screen} ({rows_on} rows)",
                        key,
                        str(s["presses"]),
                        f"{s['p50_ms']:.1f} ms",
                        f"{s['p95_ms']:.1f} ms",
                        f"{s['max_ms']:.1f} ms",
                        f"{s['first_p50_ms']:.1f} ms",
                        str(r[screen]["unseen"]),
                    )
                )
    builds = "; ".join(
        f"{r['events']:,}: built in {r['build_s']:.1f} s, verified in {r['verify_s']:.1f} s, "
        f"first data on the pty {r['first_data_s'] * 1000:.0f} ms, checklist open "
        f"{r['checklist_opened_s'] * 1000:.0f} ms after enter, "
        f"{r['refresh_frames_waited_for']} refresh frames waited for"
        for r in runs
    )
    return "\n".join(
        [
            f"In a real pty ({COLS}x{ROWS}, `cockpit --lang en open`, TERM=xterm-256color): key "
            "written to the terminal -> last byte drawn before "
            f"{QUIET_S * 1000:.0f} ms of quiet; presses spaced between the screens' 2 s refresh "
            "frames",
            table(rows),
            f"({builds})",
        ]
    )
