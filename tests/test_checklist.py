"""The checklist engine: state folded from events, four-eyes gates, reasons, probes, steps."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cockpit import steprun
from cockpit.actions import decide
from cockpit.checklist import Refused, Status, load_checklist
from cockpit.config import LoadedConfig, parse_config_text
from cockpit.operator import Operator
from cockpit.release import create_release
from cockpit.session import Session
from cockpit.store import Store
from tests.services import HttpService

CONFIG = """
[roles]
approver = ["bob", "carol"]
release_committee = ["carol"]
[environments.staging]
rehearsal = true
[environments.production]
production = true
"""

PLAN = """\
schema_version: 1
name: {name}
title_ja: テスト計画
title_en: Test plan
phases:
  - id: t-7
    offset_days: -7
    title_ja: テスト完了
    title_en: Testing complete
    items:
      - {{id: t7.review, kind: manual, title_ja: コードレビュー完了, title_en: Code review}}
      - id: t7.url
        kind: check
        title_ja: ヘルスチェック
        title_en: Health check
        check: {{probe: http, url: "{url}", status: 200, timeout: 5}}
      - {{id: t7.approval, kind: gate, role: approver, approvals: 2,
         title_ja: リリース承認, title_en: Release approved}}
  - id: t-0
    offset_days: 0
    title_ja: リリース実施
    title_en: Release
    items:
      - id: t0.deploy
        kind: step
        title_ja: コードデプロイ
        title_en: Deploy code
        run: {{kind: shell, argv: [sh, -c, "echo deploying; exit {exit_code}"], timeout: 10}}
"""

alice, bob, carol = (Operator.fixed(n) for n in ("alice", "bob", "carol"))


@pytest.fixture
def world(tmp_path: Path, http_service: HttpService) -> Iterator[tuple[Store, LoadedConfig, Path]]:
    plan = tmp_path / "testplan.yaml"
    plan.write_text(PLAN.format(name="testplan", url=http_service.url + "/health", exit_code=0))
    loaded = LoadedConfig(parse_config_text(CONFIG), tmp_path / "cockpit.toml")
    store = Store(f"sqlite:///{tmp_path / 'c.db'}").open()
    yield store, loaded, plan
    store.close()


def new(store: Store, loaded: LoadedConfig, plan: Path, env: str = "staging") -> str:
    release = create_release(
        Session(store=store, loaded=loaded, operator=alice),
        plan=str(plan),
        environment=env,
        version="1.4.0",
        t0="2026-12-16T01:00",
    )
    return release.id


def test_walk_the_plan_and_rebuild_state_from_events(
    world: tuple[Store, LoadedConfig, Path],
) -> None:
    store, loaded, plan = world
    rid = new(store, loaded, plan)
    lines: list[str] = []
    decide(Session(store=store, loaded=loaded, operator=alice), rid, "t7.review", "done")
    probe = decide(Session(store=store, loaded=loaded, operator=alice), rid, "t7.url", "done")
    assert probe.action == "item.done" and probe.details_obj["status"] == 200
    decide(Session(store=store, loaded=loaded, operator=bob), rid, "t7.approval", "approve")
    checklist = load_checklist(store, rid)
    assert checklist.state("t7.approval").status is Status.AWAITING
    decide(Session(store=store, loaded=loaded, operator=carol), rid, "t7.approval", "approve")
    step = decide(
        Session(store=store, loaded=loaded, operator=alice),
        rid,
        "t0.deploy",
        "done",
        output=lines.append,
    )
    assert step.action == "step.succeeded" and step.details_obj["exit_code"] == 0
    assert lines == ["run sh -c 'echo deploying; exit 0'", "deploying"]
    # The state is nothing but a fold over the events: a fresh load sees the same.
    checklist = load_checklist(store, rid)
    assert [
        checklist.state(i).status for i in ("t7.review", "t7.url", "t7.approval", "t0.deploy")
    ] == [Status.DONE, Status.DONE, Status.APPROVED, Status.DONE]
    assert checklist.next_item() is None
    assert [e.action for e in store.events(release_id=rid)] == [
        "release.created",
        "item.done",
        "check.started",
        "item.done",
        "gate.approved",
        "gate.approved",
        "step.started",
        "step.succeeded",
    ]
    assert store.verify().ok


def test_four_eyes_roles_and_order(world: tuple[Store, LoadedConfig, Path]) -> None:
    store, loaded, plan = world
    rid = new(store, loaded, plan)
    with pytest.raises(Refused, match=r"t7.review .* is not done yet"):
        decide(Session(store=store, loaded=loaded, operator=bob), rid, "t7.approval", "approve")
    decide(Session(store=store, loaded=loaded, operator=alice), rid, "t7.review", "done")
    decide(
        Session(store=store, loaded=loaded, operator=alice),
        rid,
        "t7.url",
        "skip",
        reason="no staging endpoint yet",
    )
    with pytest.raises(Refused, match="four-eyes: alice prepared this release"):
        decide(Session(store=store, loaded=loaded, operator=alice), rid, "t7.approval", "approve")
    with pytest.raises(Refused, match="dave does not hold role approver"):
        decide(
            Session(store=store, loaded=loaded, operator=Operator.fixed("dave")),
            rid,
            "t7.approval",
            "approve",
        )
    decide(Session(store=store, loaded=loaded, operator=bob), rid, "t7.approval", "approve")
    with pytest.raises(Refused, match="bob already approved"):
        decide(Session(store=store, loaded=loaded, operator=bob), rid, "t7.approval", "approve")
    with pytest.raises(Refused, match=r"gate t7.approval .* is not approved yet"):
        decide(Session(store=store, loaded=loaded, operator=alice), rid, "t0.deploy", "done")
    with pytest.raises(Refused, match="rejecting needs a reason"):
        decide(Session(store=store, loaded=loaded, operator=carol), rid, "t7.approval", "reject")
    decide(
        Session(store=store, loaded=loaded, operator=carol),
        rid,
        "t7.approval",
        "reject",
        reason="perf numbers missing",
    )
    with pytest.raises(Refused, match="rejected by carol: perf numbers missing"):
        decide(Session(store=store, loaded=loaded, operator=carol), rid, "t7.approval", "approve")
    with pytest.raises(Refused, match="skipping needs a reason"):
        decide(Session(store=store, loaded=loaded, operator=alice), rid, "t0.deploy", "skip")
    with pytest.raises(Refused, match="already done by alice"):
        decide(Session(store=store, loaded=loaded, operator=alice), rid, "t7.review", "done")


def test_a_mis_tick_is_reopened_with_a_reason_and_voids_the_gate_after_it(
    world: tuple[Store, LoadedConfig, Path],
) -> None:
    store, loaded, plan = world
    rid = new(store, loaded, plan)

    def as_(who: Operator) -> Session:
        return Session(store=store, loaded=loaded, operator=who)

    decide(as_(alice), rid, "t7.review", "done")
    decide(as_(alice), rid, "t7.url", "skip", reason="no endpoint")
    with pytest.raises(Refused, match="reopening needs a reason"):
        decide(as_(alice), rid, "t7.review", "reopen")
    decide(as_(bob), rid, "t7.approval", "approve")
    with pytest.raises(Refused, match="only manual and check items are reopened"):
        decide(as_(alice), rid, "t7.approval", "reopen", reason="x")
    event = decide(as_(alice), rid, "t7.review", "reopen", reason="ticked the wrong row")
    assert (event.action, event.reason) == ("item.reopened", "ticked the wrong row")
    assert event.details_obj["was"] == "done" and event.details_obj["voids"] == ["t7.approval"]
    checklist = load_checklist(store, rid)
    assert checklist.state("t7.review").status is Status.PENDING
    assert checklist.state("t7.review").by == "alice"
    gate = checklist.state("t7.approval")
    assert gate.status is Status.PENDING and gate.approvals == []
    assert "t7.review was reopened" in str(gate.uncounted[-1])
    with pytest.raises(Refused, match="only a done or skipped item is reopened"):
        decide(as_(alice), rid, "t7.review", "reopen", reason="again")
    # Done again, then the gate is approved anew: bob's earlier approval does not count.
    decide(as_(alice), rid, "t7.review", "done")
    decide(as_(carol), rid, "t7.approval", "approve")
    assert load_checklist(store, rid).state("t7.approval").status is Status.AWAITING
    decide(as_(bob), rid, "t7.approval", "approve")
    assert load_checklist(store, rid).state("t7.approval").status is Status.APPROVED
    # A skipped item is reopened too: the gate after it is void again.
    skipped = decide(as_(alice), rid, "t7.url", "reopen", reason="the endpoint is up now")
    assert skipped.details_obj["was"] == "skipped"
    assert skipped.details_obj["voids"] == ["t7.approval"]
    assert load_checklist(store, rid).state("t7.approval").status is Status.PENDING


def test_a_done_step_runs_again_only_with_a_reason(
    world: tuple[Store, LoadedConfig, Path],
) -> None:
    store, loaded, plan = world
    rid = new(store, loaded, plan)
    session = Session(store=store, loaded=loaded, operator=alice)
    decide(session, rid, "t7.review", "done")
    decide(session, rid, "t7.url", "done")
    decide(Session(store=store, loaded=loaded, operator=bob), rid, "t7.approval", "approve")
    decide(Session(store=store, loaded=loaded, operator=carol), rid, "t7.approval", "approve")
    decide(session, rid, "t0.deploy", "done")
    for _ in range(100):  # its supervisor lets go of the step's lock as it closes down
        try:
            steprun.refuse_if_running(session, rid, "t0.deploy")
            break
        except Refused:
            time.sleep(0.05)
    with pytest.raises(Refused, match="done by alice: running it again needs a reason"):
        decide(session, rid, "t0.deploy", "redo")
    again = decide(session, rid, "t0.deploy", "redo", reason="after the rollback drill")
    assert again.action == "step.succeeded"
    started = [e for e in store.events(release_id=rid) if e.action == "step.started"]
    assert len(started) == 2 and started[-1].reason == "after the rollback drill"
    assert started[-1].details_obj["mode"] == "redo"


def test_approvals_are_void_when_the_plan_changes(
    world: tuple[Store, LoadedConfig, Path], http_service: HttpService
) -> None:
    store, loaded, plan = world
    rid = new(store, loaded, plan)
    decide(Session(store=store, loaded=loaded, operator=alice), rid, "t7.review", "done")
    decide(Session(store=store, loaded=loaded, operator=alice), rid, "t7.url", "done")
    decide(Session(store=store, loaded=loaded, operator=bob), rid, "t7.approval", "approve")
    decide(Session(store=store, loaded=loaded, operator=carol), rid, "t7.approval", "approve")
    assert load_checklist(store, rid).state("t7.approval").status is Status.APPROVED
    health = http_service.url + "/health"
    plan.write_text(PLAN.format(name="testplan", url=health, exit_code=0) + "# edited\n")
    checklist = load_checklist(store, rid)
    state = checklist.state("t7.approval")
    assert state.status is Status.PENDING
    assert state.void_approvers(checklist.plan.sha256) == ["bob", "carol"]
    decide(
        Session(store=store, loaded=loaded, operator=bob), rid, "t7.approval", "approve"
    )  # may approve the new plan
    assert load_checklist(store, rid).state("t7.approval").status is Status.AWAITING


def test_failed_check_and_step_are_recorded_and_can_be_retried(
    world: tuple[Store, LoadedConfig, Path], http_service: HttpService
) -> None:
    store, loaded, plan = world
    rid = new(store, loaded, plan)
    http_service.status = 503
    with pytest.raises(Exception, match="status 503, expected 200"):
        decide(Session(store=store, loaded=loaded, operator=alice), rid, "t7.url", "done")
    assert load_checklist(store, rid).state("t7.url").status is Status.FAILED
    http_service.status = None
    decide(Session(store=store, loaded=loaded, operator=alice), rid, "t7.url", "done")
    plan.write_text(PLAN.format(name="testplan", url=http_service.url + "/health", exit_code=3))
    decide(Session(store=store, loaded=loaded, operator=alice), rid, "t7.review", "done")
    decide(Session(store=store, loaded=loaded, operator=bob), rid, "t7.approval", "approve")
    decide(Session(store=store, loaded=loaded, operator=carol), rid, "t7.approval", "approve")
    with pytest.raises(Exception, match="sh exited 3"):
        decide(Session(store=store, loaded=loaded, operator=alice), rid, "t0.deploy", "done")
    failed = store.events(release_id=rid, last=1)[0]
    assert failed.action == "step.failed" and failed.details_obj["exit_code"] == 3
    assert failed.details_obj["output_tail"] == ["deploying"]


def test_interrupted_step_shows_as_interrupted(world: tuple[Store, LoadedConfig, Path]) -> None:
    from cockpit.events import NewEvent

    store, loaded, plan = world
    rid = new(store, loaded, plan)
    store.append(
        NewEvent(action="step.started", release_id=rid, subject="t0.deploy", rehearsal=True), alice
    )  # and then the process was killed
    assert load_checklist(store, rid).state("t0.deploy").status is Status.INTERRUPTED


def test_t0_steps_wait_for_the_window_outside_rehearsal(
    world: tuple[Store, LoadedConfig, Path], tmp_path: Path
) -> None:
    from datetime import UTC, datetime

    store, loaded, plan = world
    loaded = LoadedConfig(
        parse_config_text(CONFIG.replace("production = true", "")), tmp_path / "cockpit.toml"
    )
    rid = new(store, loaded, plan, env="production")
    decide(Session(store=store, loaded=loaded, operator=alice), rid, "t7.review", "done")
    decide(Session(store=store, loaded=loaded, operator=alice), rid, "t7.url", "done")
    decide(Session(store=store, loaded=loaded, operator=bob), rid, "t7.approval", "approve")
    decide(Session(store=store, loaded=loaded, operator=carol), rid, "t7.approval", "approve")
    closed = datetime(2026, 12, 10, 12, 0, tzinfo=UTC)
    with pytest.raises(Refused, match="outside the change window: opens Wed 12-16 01:00 JST"):
        decide(
            Session(store=store, loaded=loaded, operator=alice),
            rid,
            "t0.deploy",
            "done",
            now=closed,
        )
    decide(
        Session(store=store, loaded=loaded, operator=alice),
        rid,
        "t0.deploy",
        "done",
        now=closed,
        override="customer outage, CAB call 12-10",
    )
    actions = [e.action for e in store.events(release_id=rid)][-3:]
    assert actions == ["override", "step.started", "step.succeeded"]
    opened = datetime(2026, 12, 15, 17, 0, tzinfo=UTC)  # 02:00 JST on the 16th
    assert load_checklist(store, rid).state("t0.deploy").status is Status.DONE
    assert opened  # the window arithmetic itself is tested in test_window.py


def test_shipped_release_plan_walks_from_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import contextlib
    import io

    from cockpit.cli import main

    (tmp_path / "cockpit.toml").write_text('[database]\nurl = "sqlite:///c.db"\n' + CONFIG)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COCKPIT_CONFIG", raising=False)

    def cli(*argv: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stderr(err):
            return main(list(argv), out=out), out.getvalue(), err.getvalue()

    import json

    rid = json.loads(
        cli(
            "release",
            "new",
            "--env",
            "staging",
            "--version",
            "1.4.0",
            "--t0",
            "2026-12-16T01:00",
            "--json",
        )[1]
    )["id"]
    code, out, _ = cli("item", "done", rid, "t14.requirements")
    assert code == 0 and "item.done t14.requirements" in out
    code, _, err = cli("item", "skip", rid, "t14.dependencies")
    assert code == 1 and err == "cockpit: t14.dependencies: skipping needs a reason\n"
    code, _, err = cli("item", "done", rid, "t99.nothing")
    assert code == 2 and "item 't99.nothing': not in plan release" in err
    code, out, _ = cli("release", "show", rid, "--items")
    assert "[x] t14.requirements" in out and "T-14  リリース内容確定  1/4  due 12-02 01:00" in out
    assert "next      t14.dependencies" in out


def test_phase_due_keeps_wall_clock_time_across_dst(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from cockpit.window import phase_due

    config = CONFIG + '[change_window]\ntimezone = "America/New_York"\n'
    loaded = LoadedConfig(parse_config_text(config), tmp_path / "cockpit.toml")
    store = Store(f"sqlite:///{tmp_path / 'dst.db'}").open()
    # T-0 after the spring-forward (2026-03-08); T-14 falls before it.
    release = create_release(
        Session(store=store, loaded=loaded, operator=alice),
        plan="release",
        environment="staging",
        version="2.0.0",
        t0="2026-03-10T01:00",  # a Tuesday: outside the windows, on purpose
        override="a DST test, not a window",
        now=datetime(2026, 3, 1, tzinfo=UTC),
    )
    t14 = phase_due(release.t0_at(), 14)
    assert (t14.strftime("%Y-%m-%d %H:%M %Z")) == "2026-02-24 01:00 EST"
    assert release.t0_at().strftime("%H:%M %Z") == "01:00 EDT"
    store.close()


def test_production_override_needs_a_second_operator(
    world: tuple[Store, LoadedConfig, Path],
) -> None:
    from datetime import UTC, datetime

    store, loaded, plan = world
    rid = new(store, loaded, plan, env="production")
    decide(Session(store=store, loaded=loaded, operator=alice), rid, "t7.review", "done")
    decide(Session(store=store, loaded=loaded, operator=alice), rid, "t7.url", "done")
    decide(Session(store=store, loaded=loaded, operator=bob), rid, "t7.approval", "approve")
    decide(Session(store=store, loaded=loaded, operator=carol), rid, "t7.approval", "approve")
    closed = datetime(2026, 12, 10, 12, 0, tzinfo=UTC)
    reason = "customer outage, CAB call 12-10"
    with pytest.raises(Refused, match="override requested by alice: production needs a second"):
        decide(
            Session(store=store, loaded=loaded, operator=alice),
            rid,
            "t0.deploy",
            "done",
            now=closed,
            override=reason,
        )
    with pytest.raises(Refused, match="override requested by alice"):  # alice cannot second herself
        decide(
            Session(store=store, loaded=loaded, operator=alice),
            rid,
            "t0.deploy",
            "done",
            now=closed,
            override=reason,
        )
    step = decide(
        Session(store=store, loaded=loaded, operator=bob),
        rid,
        "t0.deploy",
        "done",
        now=closed,
        override=reason,
    )
    assert step.action == "step.succeeded"
    override = [e for e in store.events(release_id=rid) if e.action == "override"][-1]
    assert override.actor.startswith("bob@") and override.details_obj["requested_by"] == "alice"
