"""Benchmark at scale: what users run, on logs of 10,000, 100,000 and 1,000,000 events.

Run from the repository root::

    .venv/bin/python bench/scale.py          # SQLite 10k, 100k, 1M; PostgreSQL 10k, 100k
    .venv/bin/python bench/scale.py --quick  # 10k only, both backends
    .venv/bin/python bench/scale.py --sizes 10000,100000 --no-postgres
    .venv/bin/python bench/scale.py --json

The log: 50 releases (45 closed, 5 open with a few decisions each), then notes on the closed
releases up to the size, so the open releases look the same at every size (as in issue 16).
Rows are written straight into ``events`` with their real hashes (the chain and the database's
trigger checks are the store's), in batches, then ``cockpit db rebuild`` derives the
projections; building 1M events takes well under a minute on SQLite.

Measured at each size, on each backend:

- ``cockpit audit verify`` (a fresh process): wall time and peak RSS (``wait4``, in a
  launcher of its own: :data:`LAUNCH`);
- verify after one append (``Store.verify(since=...)``, what the dashboard runs when the log
  grows), and append + incremental verify per event over 200 appends;
- ``cockpit release list`` (a fresh process, median of 3);
- the dashboard's load (``DashboardScreen.load``: the open releases from the projection, the
  selected release's checklist and its latest events), median of 5;
- the checklist's load (``load_checklist`` of an open release: its summary and item states from
  the projections, the few events judging its approvals reads), median of 5;
- first data: a fresh process that opens the app headless (Textual's ``run_test``), with the
  dashboard's first view read ahead in a forked process as ``cockpit open`` does, until the
  dashboard shows a release's phases and the screen has refreshed since (the bare app: its
  first refresh), against the same for a bare Textual app
  (after the verifies above, as a cockpit leaves a log: the head last verified is remembered,
  so the dashboard verifies only what is new); one warm-up start of each fills a bytecode
  cache both then read (``PYTHONPYCACHEPREFIX``), then the median of 3;
- ``cockpit db rebuild``.

Targets at 1M events (checked unless ``--no-check``; sizes not run are not checked): verify
after one append <= 50 ms; full verify <= 3 s with peak RSS <= 150 MB (SQLite); release list
<= 300 ms; first data <= 2x the bare app (<= 1.5x at 10k).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from _common import ROOT, finish, machine, parser, stage, table, target, target_lines

from cockpit.chain import COLUMNS, GENESIS_HASH, chain_hash, record_bytes
from cockpit.events import NewEvent, canonical
from cockpit.operator import Operator
from cockpit.store import Store
from cockpit.vocabulary import ITEM_DONE, NOTE, RELEASE_CLOSED, RELEASE_CREATED

SIZES = (10_000, 100_000, 1_000_000)
PG_SIZES = (10_000, 100_000)
RELEASES, OPEN = 50, 5
BATCH = 10_000
OPERATOR = Operator.fixed("bench", "bastion-1")
EVIDENCE = canonical(OPERATOR.evidence()).decode()
DONE_ITEMS = ("t14.requirements", "t14.dependencies", "t14.config")

TARGET_INCREMENTAL_S = 0.050
TARGET_VERIFY_S = 3.0
TARGET_VERIFY_RSS_MB = 150
TARGET_LIST_S = 0.300
TARGET_FIRST_DATA = {10_000: 1.5, 1_000_000: 2.0}

CONFIG = """\
# Benchmark workspace made by bench/scale.py.
[database]
url = "{url}"
[audit]
checkpoint = "checkpoint.json"
[change_window]
timezone = "Asia/Tokyo"
[environments.staging]
rehearsal = true
"""


# ---------------------------------------------------------------- the log


def _events(
    total: int,
) -> Iterator[tuple[str | None, str, str | None, str | None, str | None, str]]:
    """(release_id, action, subject, outcome, reason, details) of each event, in order."""
    ids = [f"r-{i:08x}" for i in range(RELEASES)]
    for i, rid in enumerate(ids):
        details = {
            "plan": "release",
            "plan_sha256": "0" * 64,
            "environment": "staging",
            "version": f"1.{i}.0",
            "t0": "2026-12-16T01:00:00+09:00",
            "zone": "Asia/Tokyo",
            "production": False,
        }
        yield (
            rid,
            RELEASE_CREATED,
            f"1.{i}.0 release staging",
            "ok",
            None,
            canonical(details).decode(),
        )
    for rid in ids[OPEN:]:
        yield rid, RELEASE_CLOSED, None, "closed", None, "{}"
    for rid in ids[:OPEN]:
        for item in DONE_ITEMS:
            yield rid, ITEM_DONE, item, "ok", None, "{}"
    n = 0
    made = RELEASES + (RELEASES - OPEN) + OPEN * len(DONE_ITEMS)
    while made + n < total:
        yield (
            ids[OPEN + n % (RELEASES - OPEN)],
            NOTE,
            None,
            None,
            f"note {n} on a closed release",
            "{}",
        )
        n += 1


def rows(total: int) -> Iterator[tuple[Any, ...]]:
    """Stored rows in COLUMNS order with their real hashes."""
    prev = GENESIS_HASH
    base = time.time() - total
    for seq, (rid, action, subject, outcome, reason, details) in enumerate(_events(total), 1):
        at = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(base + seq)) + ".000000Z"
        values: dict[str, Any] = {
            "seq": seq,
            "event_id": f"00000000-0000-4000-8000-{seq:012d}",
            "schema": 1,
            "recorded_at": at,
            "release_id": rid,
            "action": action,
            "subject": subject,
            "outcome": outcome,
            "reason": reason,
            "details": details,
            "rehearsal": True,
            "actor": OPERATOR.actor,
            "actor_evidence": EVIDENCE,
        }
        digest = chain_hash(prev, record_bytes(**values))
        values["prev_hash"], values["hash"], values["signature"] = prev, digest, None
        prev = digest
        yield tuple(values[c] for c in COLUMNS)


def build(store: Store, total: int) -> float:
    """Fill an empty store with ``total`` events, then derive the projections."""
    start = time.perf_counter()
    mark = "?" if store.is_sqlite else "%s"
    sql = f"INSERT INTO events ({', '.join(COLUMNS)}) VALUES ({', '.join([mark] * len(COLUMNS))})"
    batch: list[tuple[Any, ...]] = []
    last: tuple[Any, ...] | None = None

    def flush() -> None:
        with store.engine.begin() as conn:
            cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            cursor.executemany(sql, batch)
            cursor.close()
        batch.clear()

    for row in rows(total):
        batch.append(row)
        last = row
        if len(batch) == BATCH:
            flush()
    if batch:
        flush()
    store.rebuild_projections()
    if last is not None:
        from cockpit.verify import Checkpoint

        store.write_checkpoint(Checkpoint(last[0], last[14]))
    return time.perf_counter() - start


# ---------------------------------------------------------------- measurements


# Runs the command and reports its wall time and peak RSS. A launcher of its own, because the
# peak RSS wait4 gives for a child counts the memory of the process that started it (Linux keeps
# the larger of the old and the new image's high-water mark across exec): started from this
# benchmark, which holds the log it built, "cockpit audit verify" showed this process's RSS.
LAUNCH = """\
import os, subprocess, sys, time
start = time.perf_counter()
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
_, status, usage = os.wait4(proc.pid, 0)
print(time.perf_counter() - start, usage.ru_maxrss, os.waitstatus_to_exitcode(status))
"""


def peak_rss_of(root: Path, *argv: str) -> tuple[float, float]:
    """Wall seconds and the peak RSS (MB) of one ``cockpit`` process (the larger of its own and
    its children's: a full verify of a long SQLite log forks one), measured by wait4 in a small
    launcher (:data:`LAUNCH`)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "cockpit", "--config", str(root / "cockpit.toml"), *argv]
    out = subprocess.run(
        [sys.executable, "-c", LAUNCH, *command],
        capture_output=True,
        text=True,
        env=env,
        cwd=root,
        check=True,
    ).stdout.split()
    seconds, maxrss_kb, code = float(out[0]), int(out[1]), int(out[2])
    if code != 0:
        raise SystemExit(f"cockpit {' '.join(argv)} exited {code}")
    return seconds, maxrss_kb / 1024


FIRST_DATA = """\
import asyncio, sys, time
t0 = float(sys.argv[2])
sys.path.insert(0, sys.argv[1])
bare = sys.argv[3] == "bare"

async def refreshed(app):
    # The screen's next refresh: what is in its widgets now is in a frame (not pilot.pause(),
    # which waits until the app is idle: the cockpit's load goes on after its first data).
    done = asyncio.Event()
    app.screen.call_after_refresh(done.set)
    await done.wait()

async def main():
    if bare:
        from textual.app import App
        from textual.widgets import Static

        class Bare(App):
            def compose(self):
                yield Static("Release Cockpit")

        app = Bare()
        async with app.run_test(size=(100, 30)):
            await refreshed(app)
            print(time.time() - t0)
        return
    from cockpit.cli.app_cmds import read_dashboard_ahead
    from cockpit.session import Session

    session = Session(config_path=sys.argv[4])
    ahead = read_dashboard_ahead(session, None)  # as `cockpit open` does, before Textual
    from screens.app import CockpitApp

    app = CockpitApp(session, refresh_seconds=3600, read_ahead=ahead)
    async with app.run_test(size=(100, 30)):
        while not getattr(getattr(app.screen, "_drawn", None), "rows", None):
            await asyncio.sleep(0.005)
        await refreshed(app)
        print(time.time() - t0)

asyncio.run(main())
"""


def first_data(root: Path, bare: bool) -> float:
    """Seconds from spawn to the dashboard showing a release (or a bare app's first frame).
    Both read bytecode from one cache beside the workspaces, as installed code does (the
    caller's PYTHONDONTWRITEBYTECODE would have the cockpit's modules compiled at every start,
    not Textual's)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env |= {"PYTHONPATH": str(ROOT), "PYTHONPYCACHEPREFIX": str(root.parent / "pycache")}
    env |= {"COLUMNS": "100", "LINES": "30"}  # the headless app's size, for the read-ahead
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            FIRST_DATA,
            str(ROOT),
            repr(time.time()),
            "bare" if bare else "app",
            str(root / "cockpit.toml"),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=root,
        check=True,
    )
    return float(out.stdout.split()[-1])


def dashboard_load(store: Store) -> float:
    """The engine work of DashboardScreen.load, off the UI thread: open releases from the
    projection, the first one's checklist and its latest events."""
    from cockpit.checklist import load_checklist

    start = time.perf_counter()
    releases = [r for r in store.releases() if r.status == "open"]
    load_checklist(store, releases[0].id)
    store.events(release_id=releases[0].id, last=16)
    return time.perf_counter() - start


def checklist_load(store: Store) -> float:
    """The engine work of the checklist screen's load: an open release's checklist (its summary
    and item states from the projections, the few events judging them reads)."""
    from cockpit.checklist import load_checklist

    release_id = next(r.id for r in store.releases() if r.status == "open")
    start = time.perf_counter()
    load_checklist(store, release_id)
    return time.perf_counter() - start


def incremental(store: Store, appends: int) -> dict[str, float]:
    report = store.verify()
    if not report.ok:
        raise SystemExit(f"the built log does not verify: {report.findings[0]}")
    since = (report.head_seq, report.head_hash)
    store.append(NewEvent(action=NOTE, reason="one more"), OPERATOR)
    start = time.perf_counter()
    after = store.verify(since=since)
    one = time.perf_counter() - start
    if not after.ok or after.count != 1:
        raise SystemExit(f"incremental verify: {after.findings} ({after.count} rows)")
    since = (after.head_seq, after.head_hash)
    start = time.perf_counter()
    for n in range(appends):
        store.append(NewEvent(action=NOTE, reason=f"while open {n}"), OPERATOR)
        again = store.verify(since=since)
        since = (again.head_seq, again.head_hash)
    per_event = (time.perf_counter() - start) / appends
    return {"verify_after_one_append_s": one, "append_and_verify_per_event_s": per_event}


def measure(root: Path, store: Store, size: int, quiet: bool, backend: str) -> dict[str, Any]:
    out: dict[str, Any] = {"events": size}
    with stage(f"{backend} {size:,}: build", quiet):
        out["build_s"] = build(store, size)
    with stage(f"{backend} {size:,}: db rebuild", quiet):
        start = time.perf_counter()
        store.rebuild_projections()
        out["rebuild_s"] = time.perf_counter() - start
    with stage(f"{backend} {size:,}: audit verify", quiet):
        out["verify_full_s"], out["verify_full_rss_mb"] = peak_rss_of(root, "audit", "verify")
    with stage(f"{backend} {size:,}: release list x3", quiet):
        out["release_list_s"] = statistics.median(
            peak_rss_of(root, "release", "list")[0] for _ in range(3)
        )
    with stage(f"{backend} {size:,}: dashboard load x5", quiet):
        out["dashboard_load_s"] = statistics.median(dashboard_load(store) for _ in range(5))
    with stage(f"{backend} {size:,}: checklist load x5", quiet):
        out["checklist_load_s"] = statistics.median(checklist_load(store) for _ in range(5))
    with stage(f"{backend} {size:,}: incremental verify", quiet):
        out |= incremental(store, 200)
    # After a verify, as a cockpit leaves the log (the head it verified is remembered): the
    # dashboard then verifies only what is new.
    with stage(f"{backend} {size:,}: first data", quiet):
        first_data(root, bare=False)  # warm-up: fills the bytecode cache
        first_data(root, bare=True)
        out["first_data_s"] = statistics.median(first_data(root, bare=False) for _ in range(3))
        out["bare_app_s"] = statistics.median(first_data(root, bare=True) for _ in range(3))
    return out


# ---------------------------------------------------------------- output


# (label, key, unit) of each row of the table.
ROWS = (
    ("build (direct inserts + rebuild)", "build_s", "s"),
    ("cockpit db rebuild (projections)", "rebuild_s", "s"),
    ("cockpit audit verify (process)", "verify_full_s", "s"),
    ("  its peak RSS", "verify_full_rss_mb", "MB"),
    ("verify after one append", "verify_after_one_append_s", "ms"),
    ("append + verify, per event (200)", "append_and_verify_per_event_s", "ms"),
    ("cockpit release list (process)", "release_list_s", "ms"),
    ("dashboard load (engine)", "dashboard_load_s", "ms"),
    ("checklist load (engine)", "checklist_load_s", "ms"),
    ("first data (process, headless)", "first_data_s", "ms"),
    ("bare Textual app, first frame", "bare_app_s", "ms"),
)


def _cell(value: float, unit: str) -> str:
    if unit == "ms":
        return f"{value * 1000:,.1f} ms"
    return f"{value:,.0f} MB" if unit == "MB" else f"{value:,.2f} s"


def render(result: dict[str, Any]) -> str:
    lines = ["Scale: what users run, by log size", ""]
    for backend in ("sqlite", "postgres"):
        runs = result.get(backend)
        if not runs:
            continue
        rows: list[tuple[str, ...]] = [("", *(f"{r['events']:,}" for r in runs))]
        rows += [(name, *(_cell(r[key], unit) for r in runs)) for name, key, unit in ROWS]
        ratios = (f"{r['first_data_s'] / r['bare_app_s']:.2f}x" for r in runs)
        rows.append(("first data / bare app", *ratios))
        lines += [f"{backend}:", table(rows), ""]
    lines += target_lines(result["targets"])
    return "\n".join(lines)


def targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for r in result.get("sqlite", []):
        size = r["events"]
        ratio = r["first_data_s"] / r["bare_app_s"]
        if size in TARGET_FIRST_DATA:
            bound = TARGET_FIRST_DATA[size]
            found.append(
                target(
                    f"first data / bare app at {size:,}",
                    round(ratio, 2),
                    f"<= {bound}x",
                    ratio <= bound,
                )
            )
        if size != 1_000_000:
            continue
        found += [
            target(
                "verify after one append at 1M (ms)",
                round(r["verify_after_one_append_s"] * 1000, 1),
                f"<= {TARGET_INCREMENTAL_S * 1000:.0f}",
                r["verify_after_one_append_s"] <= TARGET_INCREMENTAL_S,
            ),
            target(
                "full verify at 1M (s)",
                round(r["verify_full_s"], 2),
                f"<= {TARGET_VERIFY_S}",
                r["verify_full_s"] <= TARGET_VERIFY_S,
            ),
            target(
                "full verify peak RSS at 1M (MB)",
                round(r["verify_full_rss_mb"]),
                f"<= {TARGET_VERIFY_RSS_MB}",
                r["verify_full_rss_mb"] <= TARGET_VERIFY_RSS_MB,
            ),
            target(
                "release list at 1M (ms)",
                round(r["release_list_s"] * 1000),
                f"<= {TARGET_LIST_S * 1000:.0f}",
                r["release_list_s"] <= TARGET_LIST_S,
            ),
        ]
    return found


def run_size(root: Path, url: str, size: int, quiet: bool, backend: str) -> dict[str, Any]:
    """A workspace in ``root`` on the empty database ``url``, filled and measured."""
    root.mkdir()
    (root / "cockpit.toml").write_text(CONFIG.format(url=url))
    store = Store(url, checkpoint_file=root / "checkpoint.json").open()
    try:
        return measure(root, store, size, quiet, backend)
    finally:
        store.close()


def main(argv: list[str] | None = None) -> int:
    options = parser(__doc__, quick_help="10,000 events only")
    options.add_argument("--sizes", help="comma-separated SQLite sizes (default 10k,100k,1M)")
    options.add_argument("--pg-sizes", help="comma-separated PostgreSQL sizes (default 10k,100k)")
    options.add_argument("--no-postgres", action="store_true", help="skip PostgreSQL")
    args = options.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else list(SIZES)
    pg_sizes = [int(s) for s in args.pg_sizes.split(",")] if args.pg_sizes else list(PG_SIZES)
    if args.quick:
        sizes, pg_sizes = [10_000], [10_000]
    quiet = args.json
    result: dict[str, Any] = {"machine": machine(), "sizes": sizes, "pg_sizes": pg_sizes}
    work = Path(tempfile.mkdtemp(prefix="cockpit-scale-"))
    try:
        result["sqlite"] = []
        for size in sizes:
            root = work / f"sqlite-{size}"
            url = f"sqlite:///{root / 'cockpit.db'}"
            result["sqlite"].append(run_size(root, url, size, quiet, "SQLite"))
            shutil.rmtree(root, ignore_errors=True)
        if args.no_postgres or not pg_sizes:
            result["postgres_skipped"] = "--no-postgres"
        else:
            from tests.services import create_database, postgres_server

            result["postgres"] = []
            with postgres_server() as admin:
                for size in pg_sizes:
                    url = create_database(admin, f"scale_{size}")
                    measured = run_size(work / f"pg-{size}", url, size, quiet, "PostgreSQL")
                    result["postgres"].append(measured)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result["targets"] = targets(result)
    return finish(result, args.json, args.no_check, render)


if __name__ == "__main__":
    sys.exit(main())
