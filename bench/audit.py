"""Benchmark of the audit log: durable appends per second and time to verify the chain.

Run from the repository root::

    .venv/bin/python bench/audit.py            # full run (40 to 60 s on 2 cores)
    .venv/bin/python bench/audit.py --quick    # smoke run with small N
    .venv/bin/python bench/audit.py --json     # machine-readable output

What it measures, all in one run (so figures are compared against a baseline on the same
machine at the same moment):

1. Durable appends per second through the real :class:`cockpit.store.Store`, one event per
   ``Store.append`` (one transaction each), on SQLite (WAL, ``synchronous=FULL``,
   ``BEGIN IMMEDIATE``, checkpoint file checked before and rewritten after every append, not
   fsynced) and on PostgreSQL (the throwaway test server from
   :func:`tests.services.postgres_server`, which runs with ``fsync=off``: its figure is an upper
   bound, not a durable rate).
2. A baseline: raw ``sqlite3`` inserts of a row of the same size with the same pragmas and one
   ``BEGIN IMMEDIATE ... COMMIT`` per insert, and the cockpit's rate as a ratio of it. Baseline
   and cockpit run interleaved in rounds so drift in disk latency hits both alike.
3. Time to verify 100,000 events (``Store.verify``, which reads every row and recomputes the
   chain), best of 3, on SQLite and, when it fits in about a minute, on PostgreSQL.

Targets (checked unless ``--no-check``; the exit status is 1 when one is missed):
>= 1,000 appends/s on SQLite with full sync, and verify 100,000 events in <= 2 s.
"""

from __future__ import annotations

import gc
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# _common puts the repository root first on sys.path: import it before cockpit.
from _common import finish, machine, parser, stage, table, target, target_lines

from cockpit.events import COLUMNS, NewEvent
from cockpit.operator import Operator
from cockpit.store import Store, read_checkpoint

TARGET_APPENDS_PER_S = 1_000
TARGET_VERIFY_S = 2.0
TARGET_VERIFY_EVENTS = 100_000
BUILD_BATCH = 1_000
PG_VERIFY_BUDGET_S = 60.0

OPERATOR = Operator.fixed("bench")


# ---------------------------------------------------------------- workload


def make_event(i: int) -> NewEvent:
    """A realistic event: a command the cockpit ran, with its argv, the commit and exit code."""
    sha = f"{(i * 2654435761) & 0xFFFFFFFF:08x}" * 5  # 40 hex digits, varies per event
    return NewEvent(
        action="note",
        release_id=f"2024.{i % 12 + 1:02d}.{i % 7}",
        subject="deploy/api",
        outcome="ok",
        reason=f"benchmark event {i}",
        details={
            "argv": ["git", "tag", "-s", f"v2024.{i % 12 + 1}.{i % 7}", sha],
            "sha": sha,
            "exit_code": 1 if i % 7 == 0 else 0,
            "duration_ms": 100 + i % 900,
        },
    )


def workload(start: int, count: int) -> list[NewEvent]:
    return [make_event(i) for i in range(start, start + count)]


# ---------------------------------------------------------------- helpers


def sqlite_store(
    directory: Path, name: str, *, checkpoint: bool = True, pragmas: dict[str, Any] | None = None
) -> Store:
    return Store(
        f"sqlite:///{directory / (name + '.db')}",
        checkpoint_file=directory / (name + ".checkpoint") if checkpoint else None,
        sqlite_pragmas=pragmas or {},
    ).open()


def time_appends(store: Store, events: list[NewEvent]) -> float:
    """Seconds to append ``events`` one per transaction."""
    append = store.append
    start = time.perf_counter()
    for new in events:
        append(new, OPERATOR)
    return time.perf_counter() - start


class RawSqlite:
    """The baseline: plain sqlite3, same pragmas, one BEGIN IMMEDIATE ... COMMIT per insert."""

    def __init__(self, path: Path, template: tuple[Any, ...]) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "busy_timeout=10000"):
            self.conn.execute(f"PRAGMA {pragma}")
        self.conn.execute(
            "CREATE TABLE events (seq INTEGER PRIMARY KEY, event_id VARCHAR(36) UNIQUE NOT NULL, "
            + ", ".join(f"{c} TEXT" for c in COLUMNS[2:])
            + ")"
        )
        self.template = template
        marks = ", ".join("?" * len(COLUMNS))
        self.sql = f"INSERT INTO events ({', '.join(COLUMNS)}) VALUES ({marks})"
        self.seq = 0

    def run(self, count: int) -> float:
        rows = []
        for _ in range(count):
            self.seq += 1
            row = list(self.template)
            row[0], row[1] = self.seq, f"{self.seq:036d}"
            rows.append(tuple(row))
        execute, sql = self.conn.execute, self.sql
        start = time.perf_counter()
        for row in rows:
            execute("BEGIN IMMEDIATE")
            execute(sql, row)
            execute("COMMIT")
        return time.perf_counter() - start

    def close(self) -> None:
        self.conn.close()


def fdatasync_seconds(path: Path, count: int) -> float:
    """Context: seconds for ``count`` 256-byte overwrites + fdatasync (the storage's sync cost)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        record = b"x" * 256
        start = time.perf_counter()
        for _ in range(count):
            os.pwrite(fd, record, 0)
            os.fdatasync(fd)
        return time.perf_counter() - start
    finally:
        os.close(fd)


def check_chain(store: Store, expected: int, what: str) -> None:
    """Stop unless ``store`` verifies with ``expected`` events."""
    report = store.verify()
    if not report.ok or report.count != expected:
        raise SystemExit(f"{what} left a bad chain: {report.problem}")


def build_log(store: Store, total: int, budget_s: float | None = None) -> tuple[int, float]:
    """Fill ``store`` with ``total`` events via append_many; stop early if over budget."""
    start = time.perf_counter()
    done = 0
    while done < total:
        size = min(BUILD_BATCH, total - done)
        store.append_many(workload(done, size), OPERATOR)
        done += size
        if budget_s is not None and time.perf_counter() - start > budget_s:
            break
    return done, time.perf_counter() - start


def time_verify(
    store: Store, checkpoint_file: Path | None, expected: int, repeat: int = 3
) -> dict[str, Any]:
    """Best of ``repeat`` runs of Store.verify (reads every row, recomputes every hash)."""
    checkpoint = read_checkpoint(checkpoint_file) if checkpoint_file else None
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        report = store.verify(checkpoint)
        times.append(time.perf_counter() - start)
        if not report.ok or report.count != expected:
            raise SystemExit(f"verify failed: {report.problem} (count {report.count}/{expected})")
    # Where the time goes, each part best of ``repeat``: reading rows vs walking the chain.
    # Store.verify runs with the garbage collector off; so do the parts, to add up to it.
    from cockpit.events import verify_rows

    read, walk = [], []
    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeat):
            start = time.perf_counter()
            rows = store.rows()
            read.append(time.perf_counter() - start)
            start = time.perf_counter()
            verify_rows(rows, checkpoint)
            walk.append(time.perf_counter() - start)
            del rows
    finally:
        if enabled:
            gc.enable()
    read_s, walk_s = min(read), min(walk)
    return {
        "events": expected,
        "best_s": min(times),
        "runs_s": times,
        "read_rows_s": read_s,
        "hash_walk_s": walk_s,
    }


# ---------------------------------------------------------------- benchmarks


def bench_sqlite(work: Path, n: int, rounds: int, quiet: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    cockpit = sqlite_store(work, "appends")
    time_appends(cockpit, workload(0, 20))  # warm-up: engine, schema check, checkpoint fd
    template = cockpit.rows()[-1]
    baseline = RawSqlite(work / "baseline.db", template)
    baseline.run(20)

    # Informational breakdown, same store code with durability pieces removed.
    no_ckpt = sqlite_store(work, "no_checkpoint", checkpoint=False)
    no_sync = sqlite_store(work, "no_sync", checkpoint=False, pragmas={"synchronous": "OFF"})
    for store in (no_ckpt, no_sync):
        time_appends(store, workload(0, 20))

    per_round = [n // rounds + (1 if r < n % rounds else 0) for r in range(rounds)]
    totals = {
        "baseline": 0.0,
        "cockpit": 0.0,
        "no_checkpoint": 0.0,
        "no_sync": 0.0,
        "fdatasync": 0.0,
    }
    with stage(f"SQLite appends, {n} per variant in {rounds} interleaved rounds", quiet):
        offset = 20
        for count in per_round:
            events = workload(offset, count)
            totals["baseline"] += baseline.run(count)
            totals["cockpit"] += time_appends(cockpit, events)
            totals["no_checkpoint"] += time_appends(no_ckpt, events)
            totals["no_sync"] += time_appends(no_sync, events)
            totals["fdatasync"] += fdatasync_seconds(work / "fsync.probe", count)
            offset += count
    for store in (cockpit, no_ckpt, no_sync):
        check_chain(store, n + 20, "append benchmark")
    baseline.close()
    for store in (cockpit, no_ckpt, no_sync):
        store.close()

    rate = {k: n / v for k, v in totals.items()}
    out.update(
        {
            "n": n,
            "row_bytes": sum(len(str(v)) for v in template),
            "appends_per_s": rate["cockpit"],
            "append_ms": 1000 / rate["cockpit"],
            "baseline_inserts_per_s": rate["baseline"],
            "baseline_insert_ms": 1000 / rate["baseline"],
            "ratio_to_baseline": rate["cockpit"] / rate["baseline"],
            "no_checkpoint_appends_per_s": rate["no_checkpoint"],
            "no_sync_appends_per_s": rate["no_sync"],
            "fdatasync_per_s": rate["fdatasync"],
        }
    )
    return out


def bench_sqlite_verify(work: Path, events: int, quiet: bool) -> dict[str, Any]:
    store = sqlite_store(work, "verify")
    with stage(f"SQLite build {events} events (append_many x {BUILD_BATCH})", quiet):
        built, build_s = build_log(store, events)
    with stage("SQLite verify, best of 3", quiet):
        result = time_verify(store, store.checkpoint_file, built)
    store.close()
    result["build_s"] = build_s
    result["db_mb"] = (work / "verify.db").stat().st_size / 1e6
    return result


def bench_postgres(work: Path, n: int, verify_events: int, quiet: bool) -> dict[str, Any]:
    from tests.services import create_database, postgres_server

    out: dict[str, Any] = {"fsync": "off"}
    with postgres_server() as admin:
        url = create_database(admin, "bench_appends")
        store = Store(url, checkpoint_file=work / "pg.checkpoint").open()
        time_appends(store, workload(0, 20))  # warm-up
        with stage(f"PostgreSQL appends, {n}", quiet):
            seconds = time_appends(store, workload(20, n))
        check_chain(store, n + 20, "PostgreSQL append benchmark")
        store.close()
        out.update({"n": n, "appends_per_s": n / seconds, "append_ms": 1000 * seconds / n})

        url = create_database(admin, "bench_verify")
        store = Store(url, checkpoint_file=work / "pg_verify.checkpoint").open()
        with stage(f"PostgreSQL build {verify_events} events", quiet):
            built, build_s = build_log(store, verify_events, budget_s=PG_VERIFY_BUDGET_S / 2)
        if built < verify_events:
            out["verify"] = {
                "skipped": f"building took over {PG_VERIFY_BUDGET_S / 2:.0f} s "
                f"({built} of {verify_events} events)"
            }
        else:
            with stage("PostgreSQL verify, best of 3", quiet):
                out["verify"] = time_verify(store, store.checkpoint_file, built)
            out["verify"]["build_s"] = build_s
        store.close()
    return out


# ---------------------------------------------------------------- output


def audit_machine() -> dict[str, Any]:
    import sqlalchemy

    info = machine(sqlite=sqlite3.sqlite_version, sqlalchemy=sqlalchemy.__version__)
    try:
        import psycopg

        info["psycopg"] = psycopg.__version__
    except ImportError:
        pass
    return info


def render(result: dict[str, Any]) -> str:
    s, v, pg = result["sqlite"], result["sqlite_verify"], result.get("postgres")
    rows: list[tuple[str, ...]] = [("Measure", "Result", "Notes")]
    rows.append(
        (
            f"SQLite durable appends (N={s['n']})",
            f"{s['appends_per_s']:,.0f} /s",
            f"{s['append_ms']:.3f} ms each; FULL sync + checkpoint write",
        )
    )
    rows.append(
        (
            "Baseline raw sqlite3 inserts",
            f"{s['baseline_inserts_per_s']:,.0f} /s",
            f"{s['baseline_insert_ms']:.3f} ms each; same pragmas, ~{s['row_bytes']} B row",
        )
    )
    rows.append(("Cockpit / baseline", f"{s['ratio_to_baseline']:.2f}x", "same run, interleaved"))
    rows.append(
        (
            "  (info) appends, no checkpoint file",
            f"{s['no_checkpoint_appends_per_s']:,.0f} /s",
            "synchronous=FULL",
        )
    )
    rows.append(
        (
            "  (info) appends, synchronous=OFF",
            f"{s['no_sync_appends_per_s']:,.0f} /s",
            "no checkpoint: CPU + SQLite cost only",
        )
    )
    rows.append(
        (
            "  (info) storage fdatasync",
            f"{s['fdatasync_per_s']:,.0f} /s",
            "256 B overwrite + fdatasync, no SQLite",
        )
    )
    label = f"SQLite verify {v['events']:,} events"
    note = (
        f"best of 3; parts: read rows {v['read_rows_s']:.2f} s, hash walk {v['hash_walk_s']:.2f} s"
    )
    rows.append((label, f"{v['best_s']:.2f} s", note))
    if v["events"] != TARGET_VERIFY_EVENTS:
        rows.append(
            (
                f"  projected to {TARGET_VERIFY_EVENTS:,}",
                f"{v['best_s'] * TARGET_VERIFY_EVENTS / v['events']:.2f} s",
                "linear",
            )
        )
    if pg is None:
        rows.append(("PostgreSQL", "skipped", result.get("postgres_skipped", "")))
    else:
        rows.append(
            (
                f"PostgreSQL appends (N={pg['n']})",
                f"{pg['appends_per_s']:,.0f} /s",
                f"{pg['append_ms']:.3f} ms each; server fsync=off: upper bound",
            )
        )
        pv = pg["verify"]
        if "skipped" in pv:
            rows.append(("PostgreSQL verify", "skipped", pv["skipped"]))
        else:
            rows.append(
                (
                    f"PostgreSQL verify {pv['events']:,} events",
                    f"{pv['best_s']:.2f} s",
                    f"best of 3; parts: read rows {pv['read_rows_s']:.2f} s, "
                    f"hash walk {pv['hash_walk_s']:.2f} s",
                )
            )
    m = result["machine"]
    head = (
        f"Audit log benchmark: {m['cpus']} CPUs, Python {m['python']}, SQLite {m['sqlite']}, "
        f"SQLAlchemy {m['sqlalchemy']}\n"
    )
    lines = [head, table(rows), "", "Targets:", *target_lines(result["targets"])]
    if pg is not None:
        lines.append(
            "\nNote: the PostgreSQL test server runs with fsync=off, so its append rate "
            "is an upper bound, not a durable rate."
        )
    return "\n".join(lines)


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    options = parser(__doc__, quick_help="small N for a smoke run")
    options.add_argument("--no-postgres", action="store_true", help="skip PostgreSQL")
    options.add_argument("--sqlite-n", type=int, help="SQLite appends (default 3000, quick 300)")
    options.add_argument("--pg-n", type=int, help="PostgreSQL appends (default 2000, quick 200)")
    options.add_argument(
        "--verify-events", type=int, help="events in the verify log (default 100000, quick 10000)"
    )
    args = options.parse_args(argv)
    sqlite_n = args.sqlite_n or (300 if args.quick else 3000)
    pg_n = args.pg_n or (200 if args.quick else 2000)
    verify_events = args.verify_events or (10_000 if args.quick else TARGET_VERIFY_EVENTS)
    quiet = args.json

    result: dict[str, Any] = {"machine": audit_machine(), "quick": args.quick}
    work = Path(tempfile.mkdtemp(prefix="cockpit-bench-"))
    try:
        result["sqlite"] = bench_sqlite(work, sqlite_n, rounds=3, quiet=quiet)
        result["sqlite_verify"] = bench_sqlite_verify(work, verify_events, quiet)
        if args.no_postgres:
            result["postgres_skipped"] = "--no-postgres"
        else:
            try:
                result["postgres"] = bench_postgres(work, pg_n, verify_events, quiet)
            except (RuntimeError, OSError) as exc:  # no PostgreSQL binaries on this machine
                result["postgres_skipped"] = str(exc)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    s, v = result["sqlite"], result["sqlite_verify"]
    verify_100k = v["best_s"] * TARGET_VERIFY_EVENTS / v["events"]
    result["targets"] = [
        target(
            "SQLite durable appends/s",
            round(s["appends_per_s"]),
            f">= {TARGET_APPENDS_PER_S}",
            s["appends_per_s"] >= TARGET_APPENDS_PER_S,
        ),
        target(
            "SQLite verify 100,000 events (s)"
            + ("" if v["events"] == TARGET_VERIFY_EVENTS else ", projected"),
            round(verify_100k, 3),
            f"<= {TARGET_VERIFY_S}",
            verify_100k <= TARGET_VERIFY_S,
        ),
    ]
    return finish(result, args.json, args.no_check, render)


if __name__ == "__main__":
    sys.exit(main())
