"""T-0 lands in a window: `release new` refuses a T-0 in the past, in a blackout or outside every
window of the plan, unless an emergency release (the release committee approves it before its
T-0 steps run) or an override with a reason (production: a second operator). Frozen clocks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cockpit.actions import decide
from cockpit.checklist import Refused
from cockpit.config import LoadedConfig, parse_config_text
from cockpit.errors import CockpitError, UsageError
from cockpit.operator import Operator
from cockpit.release import approve_emergency, create_release
from cockpit.session import Session
from cockpit.store import Store

CONFIG = """
[roles]
release_committee = ["carol"]
[environments.staging]
rehearsal = true
[environments.production]
production = true
[[blackouts]]
start = "2027-01-01"
end = "2027-01-31"
reason = "year-end freeze"
"""

PLAN = """\
schema_version: 1
name: quick
title_ja: テスト計画
title_en: Test plan
phases:
  - id: t-0
    offset_days: 0
    title_ja: リリース実施
    title_en: Release
    items:
      - id: t0.deploy
        kind: step
        title_ja: コードデプロイ
        title_en: Deploy code
        run: {kind: shell, argv: [sh, -c, "echo deploying"], timeout: 10}
"""

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
alice, bob, carol = (Operator.fixed(n) for n in ("alice", "bob", "carol"))


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Store, LoadedConfig, Path]]:
    plan = tmp_path / "quick.yaml"
    plan.write_text(PLAN)
    loaded = LoadedConfig(parse_config_text(CONFIG), tmp_path / "cockpit.toml")
    store = Store(f"sqlite:///{tmp_path / 'c.db'}").open()
    yield store, loaded, plan
    store.close()


def new(
    world: tuple[Store, LoadedConfig, Path],
    t0: str,
    env: str = "production",
    who: Operator = alice,
    **extra: str,
) -> str:
    store, loaded, plan = world
    session = Session(store=store, loaded=loaded, operator=who)
    release = create_release(
        session, plan=str(plan), environment=env, version="1.4.0", t0=t0, now=NOW, **extra
    )
    return release.id


@pytest.mark.parametrize(
    ("t0", "message"),
    [
        ("2020-01-01T01:00", "T-0 2020-01-01 01:00 JST is in the past"),
        (
            "2026-12-17T01:00",
            "T-0 12-17 01:00 JST is outside every quick window; "
            "the next opens 2027-02-17 01:00 JST",  # January's is blacked out
        ),
        ("2027-01-20T01:00", "T-0 2027-01-20 01:00 JST falls in a blackout (year-end freeze)"),
    ],
)
def test_release_new_refuses_a_t0_outside_the_windows(
    world: tuple[Store, LoadedConfig, Path], t0: str, message: str
) -> None:
    with pytest.raises(CockpitError) as refused:
        new(world, t0)
    assert str(refused.value).startswith(message + ": choose a T-0 in a window")
    assert world[0].events() == []  # nothing recorded


def test_a_t0_in_a_window_is_accepted(world: tuple[Store, LoadedConfig, Path]) -> None:
    rid = new(world, "2026-12-16T01:00")
    created = world[0].events(release_id=rid)[0]
    assert "override" not in created.details_obj and "emergency" not in created.details_obj


def test_override_in_production_needs_a_second_operator(
    world: tuple[Store, LoadedConfig, Path],
) -> None:
    store = world[0]
    reason = "the vendor's cut-over is that night"
    with pytest.raises(CockpitError, match="override requested by alice: production needs"):
        new(world, "2026-12-17T01:00", override=reason)
    with pytest.raises(CockpitError, match="override requested by alice"):  # not by herself
        new(world, "2026-12-17T01:00", override=reason)
    rid = new(world, "2026-12-17T01:00", who=bob, override=reason)
    requested = store.events(actions=("override.requested",))
    assert [(e.actor.split("@")[0], e.release_id) for e in requested] == [
        ("alice", None),
        ("alice", None),
    ]
    created = store.events(release_id=rid)[0]
    assert created.details_obj["override"] == {
        "rule": "t0_window",
        "problem": "T-0 12-17 01:00 JST is outside every quick window; "
        "the next opens 2027-02-17 01:00 JST",
        "reason": reason,
        "requested_by": "alice",
        "request_seq": requested[-1].seq,
    }
    # A rehearsal environment's override is one operator's.
    new(world, "2026-12-17T01:00", env="staging", override="rehearse on a Thursday")


def test_emergency_release_waits_for_the_release_committee(
    world: tuple[Store, LoadedConfig, Path],
) -> None:
    store, loaded, _ = world
    with pytest.raises(UsageError, match="needs --reason"):
        new(world, "2026-11-23T20:00", emergency="vulnerability")
    with pytest.raises(UsageError, match="use one of vulnerability, outage, legal"):
        new(world, "2026-11-23T20:00", emergency="whim", reason="x")
    # In staging (production would also ask for a passed rehearsal: tests/test_rehearsal.py).
    rid = new(world, "2026-11-23T20:00", env="staging", emergency="vulnerability",
              reason="CVE-2026-0001")  # fmt: skip
    at = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)  # 20:00 JST, no window

    def deploy(who: Operator) -> str:
        return decide(Session(store=store, loaded=loaded, operator=who), rid, "t0.deploy", "done",
                      now=at).action  # fmt: skip

    with pytest.raises(Refused, match="wait for the release committee's approval"):
        deploy(alice)
    for who, message in ((bob, "bob is not in the release_committee role"),):
        with pytest.raises(CockpitError, match=message):
            approve_emergency(Session(store=store, loaded=loaded, operator=who), rid)
    approved = approve_emergency(Session(store=store, loaded=loaded, operator=carol), rid, "ok")
    assert approved.emergency == {"criterion": "vulnerability", "reason": "CVE-2026-0001"}
    assert [a.split("@")[0] for a in approved.emergency_approved_by] == ["carol"]
    assert deploy(alice) == "step.succeeded"  # no override asked: the emergency is why
    actions = [e.action for e in store.events(release_id=rid)]
    assert actions[:2] == ["release.created", "emergency.approved"] and "override" not in actions


def test_the_creator_cannot_approve_their_own_emergency(
    world: tuple[Store, LoadedConfig, Path],
) -> None:
    store, loaded, _ = world
    rid = new(world, "2026-11-23T20:00", who=carol, emergency="outage", reason="db down")
    with pytest.raises(CockpitError, match="must not be the one who created it"):
        approve_emergency(Session(store=store, loaded=loaded, operator=carol), rid)


ORDERED = PLAN.replace(
    "phases:\n",
    """phases:
  - id: t-1
    offset_days: -1
    title_ja: 前日確認
    title_en: Day before
    items:
      - {id: t1.freeze, kind: manual, title_ja: 凍結, title_en: Code freeze}
      - {id: t1.notice, kind: manual, title_ja: 告知, title_en: Notice}
""",
)


@pytest.mark.parametrize("strict", [False, True])
def test_t0_steps_wait_for_earlier_phases(tmp_path: Path, strict: bool) -> None:
    plan = tmp_path / "quick.yaml"
    plan.write_text(ORDERED)
    text = CONFIG + ('[windows.quick]\nphase_order = "strict"\n' if strict else "")
    loaded = LoadedConfig(parse_config_text(text), tmp_path / "cockpit.toml")
    store = Store(f"sqlite:///{tmp_path / 'c.db'}").open()
    rid = new((store, loaded, plan), "2026-12-16T01:00", env="staging")
    session = Session(store=store, loaded=loaded, operator=alice)
    decide(session, rid, "t1.freeze", "done")
    at = datetime(2026, 12, 15, 16, 30, tzinfo=UTC)  # 01:30 JST, in the window
    if strict:
        with pytest.raises(Refused, match=r"earlier phases unfinished \(T-1 1/2\): quick runs"):
            decide(session, rid, "t0.deploy", "done", now=at, override="in a hurry")
        decide(session, rid, "t1.notice", "done")
        assert decide(session, rid, "t0.deploy", "done", now=at).action == "step.succeeded"
    else:
        with pytest.raises(Refused, match=r"unfinished \(T-1 1/2\); override with a reason"):
            decide(session, rid, "t0.deploy", "done", now=at)
        step = decide(session, rid, "t0.deploy", "done", now=at, override="notice sent by mail")
        assert step.action == "step.succeeded"
        override = next(e for e in store.events(release_id=rid) if e.action == "override")
        assert override.reason == "notice sent by mail"
        assert override.details_obj == {"rule": "phase_order", "unfinished": ["T-1 1/2"]}
    store.close()


def test_release_new_on_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import contextlib
    import io
    import json

    from cockpit.cli import main

    (tmp_path / "cockpit.toml").write_text('[database]\nurl = "sqlite:///c.db"\n' + CONFIG)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COCKPIT_CONFIG", raising=False)
    monkeypatch.delenv("COCKPIT_DATABASE_URL", raising=False)

    def cli(*argv: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stderr(err):
            code = main(list(argv), out=out)
        return code, out.getvalue(), err.getvalue()

    new = ("release", "new", "--env", "production", "--version", "1.4.0", "--t0")
    code, out, err = cli(*new, "2020-01-01T01:00")
    assert (code, out) == (1, "") and err.count("\n") == 1
    assert err.startswith("cockpit: T-0 2020-01-01 01:00 JST is in the past: choose a T-0")
    code, out, err = cli(*new, "2026-12-17T01:00", "--override", "vendor cut-over")
    assert code == 1 and "production needs a second operator to give the same command" in err
    code, out, err = cli(*new, "2026-12-17T01:00", "--emergency", "outage")
    assert code == 2 and err == "cockpit: an emergency release needs --reason (what happened)\n"
    code, out, err = cli(*new, "2026-12-17T01:00", "--emergency", "outage", "--reason", "db down")
    assert code == 0 and "emergency (outage): its T-0 steps wait for the release committee" in out
    rid = out.split()[2].rstrip(":")
    code, out, err = cli("release", "approve-emergency", rid)
    assert code == 1 and "is not in the release_committee role (carol)" in err
    assert (
        "  emergency outage: db down; committee: not approved yet\n"
        in cli("release", "show", rid)[1]
    )
    shown = json.loads(cli("release", "show", rid, "--json")[1])
    assert shown["emergency"] == {"criterion": "outage", "reason": "db down"}
    actions = [e["action"] for e in map(json.loads, cli("audit", "export")[1].splitlines())]
    assert actions == ["override.requested", "release.created"]
