"""Benchmark of team mode: how soon a follower's screen shows an event appended elsewhere, and
(left for the signing part to fill) what signing adds to a decision.

Run from the repository root::

    .venv/bin/python bench/team.py            # 40 appends on PostgreSQL and 40 on SQLite
    .venv/bin/python bench/team.py --quick    # 30 appends on PostgreSQL only
    .venv/bin/python bench/team.py --json     # machine-readable output

What it measures:

1. A workspace (``cockpit.toml``) on a real PostgreSQL (``tests.services.postgres_server``: a
   throwaway server on 127.0.0.1 with ``fsync=off``) holding one release of the shipped
   ``release`` plan (staging, a rehearsal).
2. The follower: the real cockpit, ``python -m cockpit --config FILE --lang en open --release
   ID``, on a pseudo-terminal of 120x40 (``bench/metrics.py``'s :class:`Terminal`: every chunk
   the app writes is stamped with ``time.monotonic()``, one clock for both processes on Linux).
   It shows the dashboard, whose "Recent decisions" lists the release's latest events.
3. The appender: this process, with its own connection (its own :class:`cockpit.store.Store`),
   appends a ``note`` with a unique text to the release, then waits until the follower's screen
   shows it, then pauses 0.2-0.5 s (random) before the next one. The first 3 are a warm-up.
   The figure for one append: from just before ``Store.append`` (its own time is counted) to
   the end of the first frame (``ESC[?2026l``) read from the pty that contains its text. On
   PostgreSQL the follower is woken by ``LISTEN``/``NOTIFY`` (:mod:`cockpit.follow`), then
   reloads the dashboard (reads of the log in a worker) and draws.
4. The same on the embedded default (SQLite, a file in the workspace), where the follower polls
   ``PRAGMA data_version`` every 0.25 s (reported, not checked).

Target (checked unless ``--no-check``; the exit status is 1 when it is missed): PostgreSQL, p95
<= 1 s over at least 30 appends. The signing figure (:func:`signing_cost`) is not measured here
yet: the row is there for the signing work to fill.
"""

from __future__ import annotations

import random
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

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
    workspace_config,
)
from _common import textual_machine as machine_info
from metrics import SYNC_END, Terminal, child_env, latency_summary

from cockpit.events import NewEvent
from cockpit.operator import Operator
from cockpit.release import create_release
from cockpit.session import Session
from cockpit.store import Store

TARGET_P95_S = 1.0
WARM_UP = 3
SHOW_TIMEOUT_S = 10.0
START_TIMEOUT_S = 40.0
OPERATOR = Operator.fixed("alice", "bastion-1")


def build_workspace(root: Path, url: str) -> tuple[Path, str, Store]:
    """The workspace's config file, its release, and a store on the log (the appender's)."""
    config = workspace_config(
        "bench/team.py",
        f'[database]\nurl = "{url}"\n',
        demo_tables("audit", "change_window", "roles", operator=OPERATOR.name),
        '[environments.staging]\ndescription = "Staging"\nrehearsal = true\n',
    )
    config_file, loaded, store = open_workspace(root, config)
    release = create_release(
        Session(store=store, loaded=loaded, operator=OPERATOR),
        plan="release",
        environment="staging",
        version="2.0.0",
        t0="2026-12-16T01:00",
    )
    return config_file, release.id, store


def follower_latency(
    config_file: Path, release_id: str, store: Store, appends: int, quiet: bool
) -> dict[str, Any]:
    """Seconds from each append's commit to the follower's first frame showing it."""
    env = child_env() | {"XDG_DATA_HOME": str(config_file.parent / "xdg")}
    argv = [sys.executable, "-m", "cockpit", "--config", str(config_file), "--lang", "en"]
    term = Terminal([*argv, "open", "--release", release_id], env)
    try:
        if not term.pump_until(lambda: term.seen("Recent decisions"), START_TIMEOUT_S):
            raise SystemExit(f"no dashboard; output: {term.tail()!r}")
        term.pump(1.0)
        figures: list[float] = []
        for index in range(WARM_UP + appends):
            text = f"n{index:02d}x{secrets.token_hex(3)}"
            at = time.monotonic()  # before the append: its own time is counted too
            store.append(
                NewEvent(action="note", release_id=release_id, reason=text, rehearsal=True),
                OPERATOR,
            )
            mark = term.first_chunk_after(at) if term.times else 0
            if not term.pump_until(lambda t=text, m=mark: term.seen(t, m), SHOW_TIMEOUT_S):  # type: ignore[misc]
                raise SystemExit(f"{text} not shown within {SHOW_TIMEOUT_S:g} s: {term.tail()!r}")
            found = bytes(term.buffer).find(text.encode(), mark)
            term.pump_until(lambda f=found: bytes(term.buffer).find(SYNC_END, f) >= 0, 1.0)  # type: ignore[misc]
            closing = bytes(term.buffer).find(SYNC_END, found) if found >= 0 else -1
            if index >= WARM_UP and closing >= 0:
                figures.append(term.time_at(closing) - at)
            term.pump(random.uniform(0.2, 0.5))
        if not quiet:
            print(f"    {len(figures)} appends measured", file=sys.stderr)
        return {"appends": appends, **latency_summary(figures), "seconds": figures}
    finally:
        term.close()


def signing_cost() -> dict[str, Any] | None:
    """What signing adds per decision (ms): the same decision signed and unsigned, one run.

    Not measured here yet: the signing work (SSH signatures on decisions) fills this in; until
    then the row reads "not measured" and no target is checked."""
    return None


def run(url: str, name: str, appends: int, work: Path, quiet: bool) -> dict[str, Any]:
    with stage(f"{name}: {appends} appends", quiet):
        config_file, release_id, store = build_workspace(work / name, url)
        try:
            return {
                "database": name,
                **follower_latency(config_file, release_id, store, appends, quiet),
            }
        finally:
            store.close()


def render(result: dict[str, Any]) -> str:
    m = result["machine"]
    lines = [
        f"bench/team.py: {m['cpus']} CPUs, Python {m['python']}, Textual {m['textual']}, "
        f"pty 120x40, load at start {m['load_average_at_start']}",
        "",
    ]
    rows = [("follower latency (append -> screen)", "n", "p50", "p95", "min", "max")]
    for run_ in result["runs"]:
        rows.append(
            (
                run_["database"],
                str(run_["n"]),
                f"{run_['p50_ms']:.0f} ms",
                f"{run_['p95_ms']:.0f} ms",
                f"{run_['min_ms']:.0f} ms",
                f"{run_['max_ms']:.0f} ms",
            )
        )
    lines.append(table(rows))
    signing = result["signing"]
    lines += [
        "",
        "signing adds per decision: "
        + ("not measured (see signing_cost)" if signing is None else f"{signing['ms']:.1f} ms"),
        "",
        *target_lines(result["targets"]),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    options = parser(__doc__, quick_help="30 appends on PostgreSQL only")
    options.add_argument("--appends", type=int, help="appends measured per database (>= 30)")
    args = options.parse_args(argv)
    appends = max(30, args.appends or (30 if args.quick else 40))
    from tests.services import create_database, postgres_server

    result: dict[str, Any] = {"machine": machine_info(), "runs": []}
    with tempfile.TemporaryDirectory(prefix="cockpit-bench-team-") as tmp:
        work = Path(tmp)
        with postgres_server() as admin:
            url = create_database(admin, "bench_team")
            result["runs"].append(run(url, "PostgreSQL", appends, work, args.json))
        if not args.quick:
            sqlite = f"sqlite:///{work / 'SQLite' / 'cockpit.db'}"
            result["runs"].append(run(sqlite, "SQLite", appends, work, args.json))
    result["signing"] = signing_cost()
    pg = result["runs"][0]
    result["targets"] = [
        target(
            "follower latency on PostgreSQL, p95 (s)",
            round(pg["p95_ms"] / 1000, 3),
            f"<= {TARGET_P95_S:g}",
            pg["n"] >= 30 and pg["p95_ms"] / 1000 <= TARGET_P95_S,
        )
    ]
    return finish(result, args.json, args.no_check, render)


if __name__ == "__main__":
    sys.exit(main())
