"""Benchmark of the step supervisor: what running a step apart from the terminal costs.

Run from the repository root::

    .venv/bin/python bench/steps.py            # 15 rounds
    .venv/bin/python bench/steps.py --quick    # 3 rounds

In one run, interleaved round by round, three ways of running the same shell step of a
release (a rehearsal in a SQLite workspace, the engine's real config and plan):

1. ``direct``: ``subprocess.Popen`` of the step's argv, no cockpit at all (the floor);
2. ``in-process``: :func:`cockpit.deploy.execute` in this process, as the cockpit ran steps
   before the supervisor (intent event, run, verify, outcome event);
3. ``supervised``: :func:`cockpit.actions.decide`, which hands the step to its supervisor
   (lock, checks again, intent, run, outcome) and follows its spool, as ``cockpit item done``
   does: the CLI is single-threaded, so the supervisor is a fork of it (nothing to import);
4. ``supervised, app``: the same while another thread runs, as in the cockpit app (Textual's
   threads): the supervisor is forked by the zygote that ``cockpit open`` starts (a fork of a
   process with threads would copy their locks);
5. ``supervised, app without zygote``: the app's fallback, a new interpreter
   (``python -m cockpit.supervisor``), as when the app is built by a test.

Two figures each: from the call to the step's first output line reaching the caller, and the
whole step including its events (``echo first; true``). Medians of the rounds.

Target (checked unless ``--no-check``): the supervisor adds at most 50 ms to the whole step
against the in-process run (the issue's bound).
"""

from __future__ import annotations

import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from _common import finish, machine, ms, parser, stage, table, target, target_lines

ARGV = ["sh", "-c", "echo first; true"]
WAYS = ("direct", "in-process", "supervised", "supervised, app", "supervised, app without zygote")
TARGET_MS = 50.0

CONFIG = """
[database]
url = "sqlite:///cockpit.db"
[audit]
checkpoint = "checkpoint.json"
[environments.staging]
rehearsal = true
"""

PLAN = """\
schema_version: 1
name: benchplan
title_ja: 計測
title_en: Bench
phases:
  - id: t0
    offset_days: 0
    title_ja: 実施
    title_en: Run
    items:
      - id: t0.step
        kind: step
        title_ja: 手順
        title_en: Step
        run: {kind: shell, argv: [sh, -c, "echo first; true"], timeout: 30}
"""


def _direct() -> tuple[float, float]:
    began = time.perf_counter()
    proc = subprocess.Popen(ARGV, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    proc.stdout.readline()
    first = time.perf_counter() - began
    proc.stdout.read()
    proc.wait()
    return first, time.perf_counter() - began


def _engine_run(
    root: Path, supervised: bool, app: bool = False, zygote: bool = True
) -> tuple[float, float]:
    from cockpit.actions import decide
    from cockpit.checklist import load_checklist
    from cockpit.config import LoadedConfig, parse_config_text
    from cockpit.deploy import execute
    from cockpit.operator import Operator
    from cockpit.release import create_release
    from cockpit.session import Session
    from cockpit.store import Store

    loaded = LoadedConfig(parse_config_text(CONFIG), root / "cockpit.toml")
    store = Store(f"sqlite:///{root / 'cockpit.db'}", root / "checkpoint.json").open()
    session = Session(store=store, loaded=loaded, operator=Operator.fixed("bench"))
    release = create_release(
        session,
        plan=str(root / "benchplan.yaml"),
        environment="staging",
        version=f"1.0.{int(time.time() * 1000) % 100000}",
        t0="2026-12-16T01:00",
    )
    seen = threading.Event()
    marks: list[float] = []

    def output(line: str) -> None:
        if line == "first" and not seen.is_set():
            marks.append(time.perf_counter())
            seen.set()

    began = time.perf_counter()
    if supervised:
        decide(session, release.id, "t0.step", "done", output=output)
    elif app:
        import cockpit.launch

        saved = cockpit.launch._zygote
        if not zygote:
            cockpit.launch._zygote = None
        other = threading.Event()
        busy = threading.Thread(target=other.wait)  # the app's threads
        busy.start()
        try:
            decide(session, release.id, "t0.step", "done", output=output)
        finally:
            other.set()
            busy.join()
            cockpit.launch._zygote = saved
    else:
        checklist = load_checklist(store, release.id)
        execute(session, checklist, "t0.step", output=output)
    whole = time.perf_counter() - began
    store.close()
    return marks[0] - began, whole


def run(rounds: int, quiet: bool) -> dict[str, Any]:
    results: dict[str, dict[str, list[float]]] = {way: {"first": [], "whole": []} for way in WAYS}
    with tempfile.TemporaryDirectory(prefix="cockpit-bench-steps-") as tmp:
        root = Path(tmp)
        (root / "cockpit.toml").write_text(CONFIG)
        (root / "benchplan.yaml").write_text(PLAN)
        from cockpit.launch import start_zygote

        start_zygote()  # as `cockpit open` does
        with stage(f"{rounds} rounds of the five ways", quiet):
            _engine_run(root, supervised=True)  # unmeasured: the schema, caches, page cache
            for number in range(rounds):
                ways = list(WAYS)
                if number % 2:
                    ways.reverse()
                for way in ways:
                    if way == "direct":
                        first, whole = _direct()
                    else:
                        first, whole = _engine_run(
                            root,
                            supervised=way == "supervised",
                            app=way.startswith("supervised, app"),
                            zygote=way == "supervised, app",
                        )
                    results[way]["first"].append(first)
                    results[way]["whole"].append(whole)
    med = {
        way: {k: statistics.median(v) for k, v in figures.items()}
        for way, figures in results.items()
    }
    added = (med["supervised"]["whole"] - med["in-process"]["whole"]) * 1000
    app_added = (med["supervised, app"]["whole"] - med["in-process"]["whole"]) * 1000
    cold_added = (
        med["supervised, app without zygote"]["whole"] - med["in-process"]["whole"]
    ) * 1000
    return {
        "machine": machine(),
        "rounds": rounds,
        "median_s": med,
        "added_ms": {
            "first_line": (med["supervised"]["first"] - med["in-process"]["first"]) * 1000,
            "whole_step": added,
            "whole_step_app": app_added,
            "whole_step_app_without_zygote": cold_added,
        },
        "targets": [
            target(
                "supervisor overhead on a whole step, CLI (supervised - in-process, medians)",
                round(added, 1),
                f"<= {TARGET_MS:g} ms",
                added <= TARGET_MS,
            ),
            target(
                "supervisor overhead on a whole step, app (zygote - in-process, medians)",
                round(app_added, 1),
                f"<= {TARGET_MS:g} ms",
                app_added <= TARGET_MS,
            ),
        ],
    }


def render(result: dict[str, Any]) -> str:
    med = result["median_s"]
    rows = [("way", "first line", "whole step (with events)")]
    for way in WAYS:
        rows.append((way, ms(med[way]["first"]), ms(med[way]["whole"])))
    added = result["added_ms"]
    rows.append(
        (
            "added by the supervisor",
            f"{added['first_line']:.1f} ms",
            f"{added['whole_step']:.1f} ms",
        )
    )
    rows.append(("added in the app (zygote)", "", f"{added['whole_step_app']:.1f} ms"))
    rows.append(
        (
            "added in the app without zygote",
            "",
            f"{added['whole_step_app_without_zygote']:.1f} ms",
        )
    )
    return "\n".join(
        [
            f"Steps, medians of {result['rounds']} rounds",
            table(rows),
            "",
            *target_lines(result["targets"]),
        ]
    )


def main() -> int:
    options = parser(__doc__ or "", "3 rounds")
    options.add_argument("--rounds", type=int, help="rounds (default 15, quick 3)")
    args = options.parse_args()
    rounds = args.rounds or (3 if args.quick else 15)
    return finish(run(rounds, args.json), args.json, args.no_check, render)


if __name__ == "__main__":
    raise SystemExit(main())
