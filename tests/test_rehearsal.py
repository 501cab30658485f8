"""Rehearsal fingerprint: production T-0 steps run what passed a staging rehearsal (the same
plan and resolved runs, every T-0 step done, the rollback rehearsed), or a second operator
overrides with a reason; a difference is named. Real step runs (shell) under supervisors."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cockpit.actions import decide
from cockpit.checklist import Refused, load_checklist
from cockpit.config import LoadedConfig, parse_config_text
from cockpit.deploy import fingerprint
from cockpit.operator import Operator
from cockpit.rehearsal import point_of_no_return, rehearsals, verdict
from cockpit.release import create_release
from cockpit.rollback import rollback
from cockpit.session import Session
from cockpit.store import Store
from screens.dashboard import rehearsal_line
from tests.test_release_window import PLAN

TWO_STEPS = (
    PLAN
    + """\
      - id: t0.config
        kind: step
        title_ja: 設定反映
        title_en: Apply config
        run: {kind: shell, argv: [sh, -c, "echo config"], undo_argv: [sh, -c, "echo unconfig"],
              timeout: 10}
"""
)

CONFIG = """
[environments.staging]
rehearsal = true
[environments.production]
production = true
"""

CHANGED = """
[environments.production.steps."t0.config"]
kind = "shell"
argv = ["sh", "-c", "echo config --fast"]
timeout = 10
"""

alice, bob = Operator.fixed("alice"), Operator.fixed("bob")
BEFORE = datetime(2026, 11, 23, tzinfo=UTC)
IN_WINDOW = datetime(2026, 12, 15, 16, 30, tzinfo=UTC)  # Wed 12-16 01:30 JST


def release(store: Store, loaded: LoadedConfig, plan: Path, env: str) -> str:
    session = Session(store=store, loaded=loaded, operator=alice)
    made = create_release(session, plan=str(plan), environment=env, version="1.4.0",
                          t0="2026-12-16T01:00", now=BEFORE)  # fmt: skip
    return made.id


def run(store: Store, loaded: LoadedConfig, rid: str, item: str, who: Operator = alice,
        override: str | None = None) -> str:  # fmt: skip
    session = Session(store=store, loaded=loaded, operator=who)
    return decide(session, rid, item, "done", now=IN_WINDOW, override=override).action


@pytest.mark.parametrize("changed", [False, True])
def test_production_runs_what_staging_rehearsed(tmp_path: Path, changed: bool) -> None:
    plan = tmp_path / "quick.yaml"
    plan.write_text(TWO_STEPS)
    loaded = LoadedConfig(parse_config_text(CONFIG + (CHANGED if changed else "")), None)
    store = Store(f"sqlite:///{tmp_path / 'c.db'}").open()
    staging = release(store, loaded, plan, "staging")
    production = release(store, loaded, plan, "production")
    with pytest.raises(Refused, match="never rehearsed in staging; override with a reason"):
        run(store, loaded, production, "t0.deploy")
    assert run(store, loaded, staging, "t0.deploy") == "step.succeeded"
    assert run(store, loaded, staging, "t0.config") == "step.succeeded"
    with pytest.raises(Refused) as refused:
        run(store, loaded, production, "t0.deploy")
    if not changed:
        assert f"not as rehearsed in {staging}: the rollback was not rehearsed" in str(
            refused.value
        )
    session = Session(store=store, loaded=loaded, operator=alice)
    assert rollback(session, staging, "rehearse the rollback").ok
    found = rehearsals(store, str(plan.resolve()))
    assert len(found) == 1 and found[0].done == {"t0.deploy", "t0.config"}
    assert found[0].rollback_s is not None and found[0].deploy_s >= 0
    prod = load_checklist(store, production)
    staged = load_checklist(store, staging)
    same = fingerprint(loaded, prod) == fingerprint(loaded, staged)
    assert same is not changed
    # The fingerprint each T-0 run recorded is the staging release's.
    started = [e for e in store.events(release_id=staging) if e.action == "step.started"]
    assert {e.details_obj["fingerprint"] for e in started} == {fingerprint(loaded, staged)}
    line = rehearsal_line(Session(store=store, loaded=loaded, operator=alice), prod)
    if not changed:
        assert re.fullmatch(r"rehearsed \d\d-\d\d in staging: deploy \d+s, rollback \d+s", line)
        assert verdict(store, loaded, prod).passed is not None
        assert run(store, loaded, production, "t0.deploy") == "step.succeeded"
        store.close()
        return
    problem = (
        f"not as rehearsed in {staging}: t0.config: argv ['sh', '-c', 'echo config'] -> "
        "['sh', '-c', 'echo config --fast'], undo_argv ['sh', '-c', 'echo unconfig'] -> []"
    )
    assert line == "not rehearsed: " + problem  # the dashboard names the difference
    with pytest.raises(Refused) as refused:
        run(store, loaded, production, "t0.deploy")
    assert str(refused.value) == problem + "; override with a reason"
    reason = "config flag reviewed by the CAB"
    with pytest.raises(Refused, match="override requested by alice: production needs a second"):
        run(store, loaded, production, "t0.deploy", override=reason)
    assert run(store, loaded, production, "t0.deploy", who=bob, override=reason) == (
        "step.succeeded"
    )
    override = [e for e in store.events(release_id=production) if e.action == "override"][-1]
    assert override.details_obj["rule"] == "rehearsal"
    assert override.details_obj["requested_by"] == "alice"
    assert override.details_obj["rehearsal"] == staging
    assert override.details_obj["differences"] == [problem.split(": ", 1)[1]]
    store.close()


def test_point_of_no_return_adds_the_margin() -> None:
    end = datetime(2026, 12, 15, 20, 0, tzinfo=UTC)
    assert point_of_no_return(end, 100.0, 20.0) == datetime(2026, 12, 15, 19, 58, tzinfo=UTC)


def test_rehearsals_read_the_step_events_once_however_many_releases(tmp_path: Path) -> None:
    """The dashboard asks for the rehearsal line at each load and each release it shows: the
    step events of every release come in one read (the action's index), not one walk of each
    rehearsal release's events (notes included: 2 s at 1M events), and land on their own
    release."""
    from sqlalchemy import event

    plan = tmp_path / "quick.yaml"
    plan.write_text(TWO_STEPS)
    loaded = LoadedConfig(parse_config_text(CONFIG), None)
    store = Store(f"sqlite:///{tmp_path / 'c.db'}").open()
    session = Session(store=store, loaded=loaded, operator=alice)

    def staging_release(version: str) -> str:
        return create_release(session, plan=str(plan), environment="staging", version=version,
                              t0="2026-12-16T01:00", now=BEFORE).id  # fmt: skip

    staging_release("1.3.0")
    staging = staging_release("1.4.0")
    assert run(store, loaded, staging, "t0.deploy") == "step.succeeded"
    assert run(store, loaded, staging, "t0.config") == "step.succeeded"
    statements: list[str] = []
    event.listen(store.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))

    def read() -> tuple[list[tuple[str, set[str]]], int]:
        statements.clear()
        found = rehearsals(store, str(plan.resolve()))
        return [(r.release_id, r.done) for r in found], len(statements)

    found, asked = read()
    assert found == [(staging, {"t0.deploy", "t0.config"})]
    for version in ("1.5.0", "1.6.0", "1.7.0"):
        staging_release(version)
    assert read() == (found, asked)
    store.close()
