"""Deployment steps tied to the release and the log: intent first, outcome after, environment
replacements, cancel, running vs interrupted, resume after kill -9, rollback and its report."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cockpit.actions import decide
from cockpit.checklist import Refused, Status, load_checklist
from cockpit.config import LoadedConfig, parse_config_text
from cockpit.deploy import preview
from cockpit.operator import Operator
from cockpit.release import create_release
from cockpit.reports import rollback_report
from cockpit.rollback import rollback, rollback_plan
from cockpit.session import Session
from cockpit.steps.base import Cancelled
from cockpit.store import Store
from tests.services import HttpService

alice, bob = Operator.fixed("alice"), Operator.fixed("bob")

CONFIG = """
[database]
url = "sqlite:///cockpit.db"
[audit]
checkpoint = "checkpoint.json"
[roles]
approver = ["bob"]
[environments.staging]
rehearsal = true
app_url = "http://127.0.0.1:{port}"
[environments.staging.steps."t0.config"]
kind = "shell"
argv = ["sh", "-c", "echo 'config for {{version}}' > config.txt; echo wrote config.txt"]
undo_argv = ["rm", "config.txt"]
timeout = 10
"""

# Each step changes one file in the workspace, and says how to look (check) and undo.
PLAN = """\
schema_version: 1
name: deployplan
title_ja: デプロイ計画
title_en: Deploy plan
phases:
  - id: t-1
    offset_days: -1
    title_ja: 最終確認
    title_en: Final check
    items:
      - {id: t1.approval, kind: gate, role: approver, title_ja: 承認, title_en: Approved}
  - id: t-0
    offset_days: 0
    title_ja: リリース実施
    title_en: Release
    items:
      - id: t0.backup
        kind: step
        title_ja: バックアップ取得
        title_en: Take a backup
        run: {kind: shell, argv: [sh, -c, "echo backup > backup.txt"], timeout: 10}
      - id: t0.deploy
        kind: step
        title_ja: コードデプロイ
        title_en: Deploy the code
        run:
          kind: shell
          argv:
            - sh
            - -c
            - echo run >> runs.log; echo {version} > version.txt; echo deployed {version}
          check_argv: [grep, -qx, "{version}", version.txt]
          undo_argv: [sh, -c, "echo 1.3.2 > version.txt"]
          timeout: 10
      - id: t0.config
        kind: step
        title_ja: 設定更新
        title_en: Update the configuration
        run: {kind: shell, argv: ["false"], timeout: 10}
      - id: t0.migrate
        kind: step
        title_ja: データベース更新
        title_en: Update the database
        run:
          kind: shell
          argv: [sh, -c, "echo 2 > schema.txt"]
          undo_argv: [sh, -c, "test ! -e undo-breaks && echo 1 > schema.txt"]
          timeout: 10
      - id: t0.verify
        kind: step
        title_ja: 機能確認
        title_en: Check the functions
        run: {kind: http_checks, checks: [{url: /health}], attempts: 2, interval: 0.2}
"""


@pytest.fixture
def app_port(http_service: HttpService) -> int:
    return http_service.port


class World:
    def __init__(self, root: Path, port: int, url: str | None = None) -> None:
        self.root = root
        config = CONFIG.format(port=port)
        if url is not None:  # a shared PostgreSQL instead of the workspace's SQLite file
            config = config.replace('url = "sqlite:///cockpit.db"', f'url = "{url}"')
        (root / "cockpit.toml").write_text(config)
        (root / "deployplan.yaml").write_text(PLAN)
        self.loaded = LoadedConfig(parse_config_text(config), root / "cockpit.toml")
        self.url = url or f"sqlite:///{root / 'cockpit.db'}"
        self.store = Store(self.url, root / "checkpoint.json").open()
        release = create_release(
            Session(store=self.store, loaded=self.loaded, operator=alice),
            plan=str(root / "deployplan.yaml"),
            environment="staging",
            version="1.4.0",
            t0="2026-12-16T01:00",
        )
        self.rid = release.id
        decide(
            Session(store=self.store, loaded=self.loaded, operator=bob),
            self.rid,
            "t1.approval",
            "approve",
        )

    def replan(self, text: str) -> None:
        """A changed plan voids the approval given for the old one: approve it again."""
        (self.root / "deployplan.yaml").write_text(text)
        if self.status("t1.approval") is not Status.APPROVED:
            decide(
                Session(store=self.store, loaded=self.loaded, operator=bob),
                self.rid,
                "t1.approval",
                "approve",
            )

    def do(self, item: str, action: str = "done", **kw: object) -> object:
        return decide(
            Session(store=self.store, loaded=self.loaded, operator=alice),
            self.rid,
            item,
            action,
            **kw,
        )  # type: ignore[arg-type]

    def status(self, item: str) -> Status:
        return load_checklist(self.store, self.rid).state(item).status

    def actions(self, item: str | None = None) -> list[str]:
        return [
            ev.action
            for ev in self.store.events(release_id=self.rid)
            if item is None or ev.subject == item
        ]

    def read(self, name: str) -> str:
        return (self.root / name).read_text().strip()


@pytest.fixture
def world(tmp_path: Path, app_port: int, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    monkeypatch.chdir(tmp_path)
    w = World(tmp_path, app_port)
    yield w
    w.store.close()


def test_intent_first_with_the_exact_command_then_the_outcome(world: World) -> None:
    _info, shown = preview(
        Session(store=world.store, loaded=world.loaded, operator=alice), world.rid, "t0.deploy"
    )
    assert shown.calls and "echo 1.4.0 > version.txt" in shown.calls[0]
    lines: list[str] = []
    world.do("t0.deploy", output=lines.append)
    assert world.read("version.txt") == "1.4.0"
    assert "deployed 1.4.0" in lines
    started, done = world.store.events(release_id=world.rid, last=2)
    assert (started.action, done.action) == ("step.started", "step.succeeded")
    intent = started.details_obj
    assert intent["kind"] == "shell" and intent["source"] == "plan" and intent["mode"] == "run"
    assert "echo 1.4.0 > version.txt" in intent["calls"][0]
    # The step ran in its supervisor, not in this process.
    assert intent["pid"] != os.getpid() and intent["host"] and intent["spool"]
    assert done.details_obj["intent_seq"] == started.seq and done.details_obj["exit_code"] == 0
    assert world.status("t0.deploy") is Status.DONE


def test_the_environment_replaces_a_plan_step_and_says_so(world: World) -> None:
    world.do("t0.config")  # the plan's run is `false`: cockpit.toml's staging run replaces it
    assert world.read("config.txt") == "config for 1.4.0"
    started = [ev for ev in world.store.events(release_id=world.rid) if ev.action == "step.started"]
    assert started[-1].details_obj["source"] == "config"
    assert started[-1].details_obj["run"]["argv"][0] == "sh"


def test_http_check_step_uses_the_environment_app_url(world: World, app_port: int) -> None:
    world.do("t0.verify")
    done = world.store.events(release_id=world.rid, last=1)[0]
    assert done.action == "step.succeeded"
    assert f"127.0.0.1:{app_port}/health" in json.dumps(done.details_obj)


def test_cancel_stops_a_running_step_within_seconds(world: World) -> None:
    world.replan(PLAN.replace('argv: [sh, -c, "echo backup > backup.txt"]', "argv: [sleep, '30']"))
    cancel = threading.Event()
    threading.Timer(1.5, cancel.set).start()
    began = time.monotonic()
    with pytest.raises(Cancelled, match="cancel"):
        world.do("t0.backup", cancel=cancel)
    assert time.monotonic() - began < 8
    # Who asked, and why, then the supervisor's outcome: cancelled, not failed.
    assert world.actions("t0.backup")[-3:] == [
        "step.started",
        "step.cancel_requested",
        "step.cancelled",
    ]
    asked = [e for e in world.store.events(release_id=world.rid) if e.action.endswith("_requested")]
    assert asked[-1].actor.startswith("alice@") and asked[-1].reason
    assert world.status("t0.backup") is Status.CANCELLED


def test_an_interrupted_step_is_refused_until_resumed_or_redone(world: World) -> None:
    from cockpit.events import NewEvent

    gone = subprocess.Popen(["true"])
    gone.wait()  # the process that recorded the intent is dead: this host, its pid not alive
    intent = {"kind": "shell", "host": os.uname().nodename, "pid": gone.pid, "timeout": 10}
    world.store.append(
        NewEvent(
            action="step.started",
            release_id=world.rid,
            subject="t0.deploy",
            rehearsal=True,
            details=intent,
        ),
        alice,
    )
    assert world.status("t0.deploy") is Status.INTERRUPTED
    with pytest.raises(Refused, match="interrupted"):
        world.do("t0.deploy")
    world.do("t0.deploy", "resume")  # not there yet: the re-check says so, then it runs
    rechecked = next(
        ev for ev in world.store.events(release_id=world.rid) if ev.action == "step.rechecked"
    )
    assert rechecked.details_obj["done"] is False
    assert world.read("runs.log") == "run" and world.status("t0.deploy") is Status.DONE
    with pytest.raises(Refused, match="already done"):
        world.do("t0.deploy", "resume")


def test_a_step_running_in_a_live_process_shows_running_and_is_refused(world: World) -> None:
    from cockpit.events import NewEvent

    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        world.store.append(
            NewEvent(
                action="step.started",
                release_id=world.rid,
                subject="t0.deploy",
                rehearsal=True,
                details={
                    "host": os.uname().nodename,
                    "pid": sleeper.pid,
                    "timeout": 600,
                    "started_at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
                },
            ),
            alice,
        )
        assert world.status("t0.deploy") is Status.RUNNING
        with pytest.raises(Refused, match="running"):
            world.do("t0.deploy", "redo")
    finally:
        sleeper.kill()
        sleeper.wait()
    assert world.status("t0.deploy") is Status.INTERRUPTED


def _cli(root: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "COCKPIT_CONFIG": str(root / "cockpit.toml"), "USER": "alice"}
    env.pop("SUDO_USER", None)
    return subprocess.Popen(
        [sys.executable, "-m", "cockpit", *args],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_for(predicate: object, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError("timed out waiting")


@pytest.mark.parametrize("effect_before_kill", [True, False])
def test_kill_9_of_the_supervisor_then_resume_rechecks_and_nothing_is_done_twice(
    world: World, effect_before_kill: bool
) -> None:
    # The step records that it ran, makes its effect (or not yet), then takes a while.
    effect = "echo 1.4.0 > version.txt; " if effect_before_kill else ""
    slow = f"echo run >> runs.log; {effect}sleep 30; echo 1.4.0 > version.txt"
    world.replan(
        PLAN.replace(
            "- echo run >> runs.log; echo {version} > version.txt; echo deployed {version}",
            f"- {slow}",
        )
    )
    proc = _cli(world.root, "item", "done", world.rid, "t0.deploy")
    _wait_for(
        lambda: (
            (world.root / "runs.log").exists()
            and (not effect_before_kill or (world.root / "version.txt").exists())
        )
    )
    assert world.status("t0.deploy") is Status.RUNNING
    # The supervisor (the process in the intent) dies without an outcome: a reboot, a kill -9.
    started = [e for e in world.store.events(release_id=world.rid) if e.action == "step.started"]
    os.kill(started[-1].details_obj["pid"], signal.SIGKILL)
    subprocess.run(["pkill", "-f", "sleep 30"], check=False)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 1 and "without an outcome" in out
    assert world.status("t0.deploy") is Status.INTERRUPTED
    world.replan(PLAN)  # the fixed, quick step
    again = _cli(world.root, "item", "resume", world.rid, "t0.deploy")
    out, _ = again.communicate(timeout=60)
    assert again.returncode == 0, out
    actions = world.actions("t0.deploy")
    assert actions[:2] == ["step.started", "step.rechecked"]
    assert world.status("t0.deploy") is Status.DONE
    runs = world.read("runs.log").splitlines()
    if effect_before_kill:
        assert "already done" in out
        assert actions[2:] == ["step.succeeded"] and runs == ["run"]  # not run a second time
    else:
        assert "not done" in out
        assert actions[2:] == ["step.started", "step.succeeded"] and runs == ["run", "run"]
    assert world.read("version.txt") == "1.4.0"


def test_rollback_undoes_done_steps_newest_first_then_checks_health(world: World) -> None:
    for item in ("t0.backup", "t0.deploy", "t0.config", "t0.migrate", "t0.verify"):
        world.do(item)
    plan = rollback_plan(Session(store=world.store, loaded=world.loaded, operator=alice), world.rid)
    assert [e.id for e in plan.to_undo] == ["t0.migrate", "t0.config", "t0.deploy"]
    assert "t0.migrate, t0.config, t0.deploy" in plan.question()
    assert not next(e for e in plan.entries if e.id == "t0.backup").can_undo
    with pytest.raises(Refused, match="reason"):
        rollback(Session(store=world.store, loaded=world.loaded, operator=alice), world.rid, " ")
    lines: list[str] = []
    result = rollback(
        Session(store=world.store, loaded=world.loaded, operator=alice),
        world.rid,
        "error rate 12%",
        output=lines.append,
    )
    assert result.ok and result.undone == ["t0.migrate", "t0.config", "t0.deploy"]
    assert result.healthy is True and result.elapsed_s > 0
    assert world.read("schema.txt") == "1" and world.read("version.txt") == "1.3.2"
    assert not (world.root / "config.txt").exists()
    undone = [
        ev.subject for ev in world.store.events(release_id=world.rid) if ev.action == "step.undone"
    ]
    assert undone == ["t0.migrate", "t0.config", "t0.deploy"]
    assert world.status("t0.deploy") is Status.UNDONE
    finished = world.store.events(release_id=world.rid, last=1)[0]
    assert finished.action == "rollback.finished" and finished.details_obj["healthy"] is True
    report = rollback_report(world.store, world.rid)
    for words in ("ロールバック報告書", "原因分析", "再発防止策", "error rate 12%", "t0.migrate"):
        assert words in report
    # Nothing left to undo now.
    assert (
        rollback_plan(
            Session(store=world.store, loaded=world.loaded, operator=alice), world.rid
        ).to_undo
        == []
    )


def test_rollback_stops_at_the_first_failure_and_says_what_is_left(world: World) -> None:
    for item in ("t0.deploy", "t0.config", "t0.migrate"):
        world.do(item)
    (world.root / "undo-breaks").write_text("")
    result = rollback(
        Session(store=world.store, loaded=world.loaded, operator=alice),
        world.rid,
        "latency 3x baseline",
    )
    assert not result.ok and result.failed == "t0.migrate"
    assert result.left == ["t0.config", "t0.deploy"] and result.undone == []
    assert world.read("version.txt") == "1.4.0"  # untouched: the rollback stopped
    actions = world.actions()
    assert actions[-3:] == ["step.undo_started", "step.undo_failed", "rollback.finished"]
    report = rollback_report(world.store, world.rid)
    assert "Left to undo by hand: t0.config, t0.deploy" in report


def test_cli_preview_and_rollback(world: World) -> None:
    world.do("t0.deploy")
    proc = _cli(world.root, "preview", world.rid, "t0.migrate")
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0 and "echo 2 > schema.txt" in out
    proc = _cli(world.root, "rollback", "run", world.rid, "--reason", "smoke test failed", "--yes")
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    assert "Roll back t0.deploy of 1.4.0 in staging?" in out and "undone: t0.deploy" in out
    report = world.root / "report.md"
    proc = _cli(world.root, "rollback", "report", world.rid, "--out", str(report))
    proc.communicate(timeout=30)
    assert "smoke test failed" in report.read_text()
