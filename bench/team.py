"""Benchmark of team mode: how soon a follower's screen shows an event appended elsewhere, and
what signing adds to a decision.

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

Targets (checked unless ``--no-check``; the exit status is 1 when one is missed): PostgreSQL, p95
<= 1 s over at least 30 appends; signing adds <= 50 ms per decision (:func:`signing_cost`: the
real ``cockpit item done`` in a fresh process, signed through a real ssh-agent against the same
decision on a log without an allowed-signers file, alternated, medians of nine).
"""

from __future__ import annotations

import json
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
TARGET_SIGNING_MS = 50.0
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


def signing_cost(work: Path, decisions: int = 9) -> dict[str, Any]:
    """What signing adds per decision (ms): the real ``cockpit item done`` in a fresh process,
    the same decision on two logs, one whose config names an allowed-signers file (the decision
    is signed with a key held by a real ``ssh-agent``) and one without; alternated, medians."""
    import os
    import signal
    import statistics
    import subprocess

    keys = work / "keys"
    keys.mkdir()
    key = keys / "alice"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "alice", "-f", str(key)], check=True
    )
    public = Path(f"{key}.pub").read_text(encoding="utf-8").split()
    (keys / "allowed_signers").write_text(
        f'alice namespaces="release-cockpit" {public[0]} {public[1]}\n', encoding="utf-8"
    )
    sock = work / "agent.sock"
    agent = subprocess.run(
        ["ssh-agent", "-a", str(sock)], check=True, capture_output=True, text=True
    ).stdout
    pid = int(agent.split("SSH_AGENT_PID=")[1].split(";")[0])
    try:
        env = child_env() | {"SSH_AUTH_SOCK": str(sock), "COCKPIT_SIGNING_KEY": f"{key}.pub"}
        subprocess.run(["ssh-add", "-q", str(key)], env=env, check=True, capture_output=True)
        identity = f'[identity]\nallowed_signers = "{keys / "allowed_signers"}"\n'
        logs = {}
        for name, extra in (("signed", identity), ("unsigned", "")):
            root = work / f"sign-{name}"
            config_file, release_id, store = build_workspace(root, f"sqlite:///{root / 'c.db'}")
            store.close()
            config_file.write_text(config_file.read_text() + extra, encoding="utf-8")
            logs[name] = (config_file, release_id)
        times: dict[str, list[float]] = {"signed": [], "unsigned": []}
        items = ["t14.requirements", "t14.dependencies", "t14.database_changes"]
        for index in range(decisions):
            for name, (config_file, release_id) in logs.items():
                argv = [sys.executable, "-m", "cockpit", "--config", str(config_file)]
                if index >= len(items):  # one item a decision: a new release for each round
                    made = subprocess.run(
                        [*argv, "release", "new", "--plan", "release", "--env", "staging",
                         "--version", f"2.{index}.0", "--t0", "2026-12-16T01:00", "--json"],
                        env=env, capture_output=True, text=True, check=True,
                    )  # fmt: skip
                    release_id = json.loads(made.stdout)["id"]
                item = items[index % len(items)]
                at = time.perf_counter()
                done = subprocess.run(
                    [*argv, "item", "done", release_id, item],
                    env=env, capture_output=True, text=True,
                )  # fmt: skip
                times[name].append(time.perf_counter() - at)
                if done.returncode != 0:
                    raise SystemExit(f"{name}: item done failed: {done.stderr.strip()}")
        signed, unsigned = (statistics.median(times[n]) * 1000 for n in ("signed", "unsigned"))
        return {"ms": signed - unsigned, "signed_ms": signed, "unsigned_ms": unsigned}
    finally:
        os.kill(pid, signal.SIGTERM)


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
        f"signing adds per decision: {signing['ms']:.1f} ms (`cockpit item done` in a fresh "
        f"process, median: {signing['signed_ms']:.0f} ms signed through ssh-agent, "
        f"{signing['unsigned_ms']:.0f} ms unsigned)",
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
        with stage("signing: the same decision signed and unsigned", args.json):
            result["signing"] = signing_cost(work)
    pg = result["runs"][0]
    result["targets"] = [
        target(
            "follower latency on PostgreSQL, p95 (s)",
            round(pg["p95_ms"] / 1000, 3),
            f"<= {TARGET_P95_S:g}",
            pg["n"] >= 30 and pg["p95_ms"] / 1000 <= TARGET_P95_S,
        ),
        target(
            "signing adds per decision (ms)",
            round(result["signing"]["ms"], 1),
            f"<= {TARGET_SIGNING_MS:g}",
            result["signing"]["ms"] <= TARGET_SIGNING_MS,
        ),
    ]
    return finish(result, args.json, args.no_check, render)


if __name__ == "__main__":
    sys.exit(main())
