"""The release report from a demo release walked to go, and after a rollback: Markdown and one
self-contained HTML file naming the audit head, opened in headless Chromium with a screenshot;
release notes from conventional commits between tags, in ja and en (docs/reports.md)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cockpit.actions import decide
from cockpit.checklist import Refused, load_checklist
from cockpit.cli.app_cmds import serve_demo_app
from cockpit.demo import DemoWorkspace, create_demo
from cockpit.demoapp import DATABASE_URL_ENV
from cockpit.metrics import (
    Baseline,
    Panel,
    Sample,
    Series,
    TriggerEvaluator,
    panel_state,
    record_baseline,
    record_decision,
    record_trigger,
    record_watch_start,
)
from cockpit.plan import GateItem
from cockpit.releasereport import gather, release_report
from cockpit.rollback import rollback
from cockpit.session import Session
from tests.browser import browser_page


class Rel:
    def __init__(self, rid: str) -> None:
        self.id, self.rehearsal = rid, True


def session(root: Path, key: str | None = None) -> Session:
    if key:
        os.environ["COCKPIT_SIGNING_KEY"] = str(root / "keys" / key)
    else:
        os.environ.pop("COCKPIT_SIGNING_KEY", None)
    return Session(config_path=root / "cockpit.toml")


def walk_to_go(workspace: DemoWorkspace) -> Session:
    """Every item of the demo plan settled as an operator would (gates approved by bob with his
    key), the T-0 steps run for real, then the watch: a baseline, a trigger that fired and was
    continued with a reason, and go."""
    root, rid = workspace.root, workspace.release_id
    me = session(root)
    for _ in range(100):
        upcoming = load_checklist(me.store, rid).next_item()
        if upcoming is None:
            break
        _phase, item = upcoming
        if isinstance(item, GateItem):
            decide(session(root, "bob"), rid, item.id, "approve")
            me = session(root)
            continue
        if item.id == "t7.performance":  # a deviation, with its reason
            decide(me, rid, item.id, "skip", reason="no load test this month: traffic is flat")
            continue
        try:
            decide(me, rid, item.id, "done", reason="checked by hand")
        except Exception as exc:  # a check that cannot look here: skipped with the reason
            for _wait in range(50):
                try:
                    decide(me, rid, item.id, "skip", reason=f"not checkable in the demo: {exc}")
                    break
                except Refused as still:  # its supervisor is still closing down
                    assert "is running" in str(still)
                    time.sleep(0.1)
    assert load_checklist(me.store, rid).next_item() is None
    release = Rel(rid)
    panel = Panel(
        "error_rate", "Error rate", "prometheus", "q", "error_rate", "%", warning=0.1, critical=10.0
    )
    now = time.time()
    record_baseline(
        me.store,
        me.operator,
        Baseline(
            now - 900,
            now - 60,
            {"error_rate": 0.05},
            {"error_rate": 30},
            {"error_rate": "prometheus: q"},
        ),
        release=release,
    )
    record_watch_start(me.store, me.operator, release=release, panels=[panel], watch_hours=0.0001)
    evaluator = TriggerEvaluator([panel], consecutive=3)
    fired = None
    for i, value in enumerate((0.04, 12.0, 13.5, 11.2)):
        fired = evaluator.observe(Sample("error_rate", now - 10 + i, value)) or fired
    assert fired is not None
    trigger = record_trigger(me.store, me.operator, fired, release=release)
    record_decision(
        me.store,
        me.operator,
        "continue",
        release=release,
        trigger=trigger,
        reason="a batch job's retries, not users: errors gone within a minute",
    )
    series = Series("error_rate")
    series.add(Sample("error_rate", time.time(), 0.03))
    states = {"error_rate": panel_state(panel, series, time.time())}
    record_decision(
        me.store, me.operator, "go", release=release, states=states, now=time.time() + 1
    )
    return me


@pytest.fixture(scope="module")
def walked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoWorkspace]:
    root = tmp_path_factory.mktemp("demo") / "ws"
    saved = {k: os.environ.get(k) for k in (DATABASE_URL_ENV, "COCKPIT_SIGNING_KEY")}
    workspace = create_demo(root)
    server = serve_demo_app(workspace.root)
    try:
        walk_to_go(workspace)
        yield workspace
    finally:
        if server is not None:
            server.stop()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def test_the_report_of_a_release_walked_to_go_and_after_its_rollback(
    walked: DemoWorkspace, tmp_path: Path
) -> None:
    me = session(walked.root)
    rid = walked.release_id
    facts = gather(me.store, rid)
    md = release_report(me.store, rid, "md", me.times)
    head_seq, head_hash = me.store.head()
    # Moments in the window's zone, named in every head (tests/test_timefmt.py).
    assert f"| # | at ({me.times.name}) | who |" in md and me.times.name != "UTC"
    assert f"T-0 {me.times.show(facts.release.t0, 'minute')}" in md
    assert f"Drawn from: audit log head #{head_seq} sha256 {head_hash}" in md
    assert md.startswith("# リリース報告書 / Release report: 1.4.0 (staging)")
    # The approval: bob's, signed with his key, verified.
    (approval,) = facts.approvals
    assert approval.item == "t3.approval" and approval.who.startswith("bob@")
    assert approval.signature.startswith("verified (SHA256:")
    assert re.search(r"\| t3\.approval \| bob@\S+ \| approved \| verified \(SHA256:", md)
    # Steps with durations, in the order they ran.
    steps = {s.item: s for s in facts.steps}
    assert steps["t0.deploy"].outcome == "succeeded" and steps["t0.deploy"].seconds is not None
    assert steps["t0.deploy"].seconds > 0
    started = me.times.show(steps["t0.database"].started_at, "full")
    assert re.search(rf"\| t0\.database \| {started} \| succeeded \| [0-9.]+ \|", md)
    # Deviations with reasons: the skipped checks and the continued trigger.
    actions = [d.action for d in facts.deviations]
    assert "item.skipped" in actions and "trigger.continued" in actions
    assert "a batch job's retries, not users" in md
    assert re.search(
        r"\| t7\.performance \| \w* \| no load test this month: traffic is flat \|", md
    )
    # The watch: the trigger's samples and the go, charted.
    assert [v for _t, v in facts.watch.points["error_rate"]][-1] == 0.03
    assert facts.watch.thresholds["error_rate"] == 10.0
    assert re.search(r"\| error_rate \| [▁-█]{4,} \| 0.03-13.5 % \| 10 % \|", md)
    assert "watch.go" in md and "ロールバック / Rollback" not in md

    html_text = release_report(me.store, rid, "html")
    assert f"audit log head #{head_seq} sha256 {head_hash}" in html_text
    # Self-contained: nothing to fetch (no script, stylesheet, image or font by address).
    assert not re.search(r"<(script|link|img|iframe)\b", html_text)
    assert not re.search(r"(src|href)=", html_text)
    (tmp_path / "report.html").write_text(html_text, encoding="utf-8")

    # After a rollback: its report is part of the release report.
    rollback(me, rid, "error rate back above 10% after go: roll back")
    after = release_report(me.store, rid, "md")
    assert "## ロールバック / Rollback" in after
    assert "### 原因分析 / Cause analysis" in after
    assert "error rate back above 10% after go: roll back" in after
    new_seq, new_hash = me.store.head()
    assert new_seq > head_seq and f"#{new_seq} sha256 {new_hash}" in after
    (tmp_path / "after.html").write_text(release_report(me.store, rid, "html"), encoding="utf-8")

    # Both open in a browser; the chart is drawn; screenshots are taken.
    with browser_page(tmp_path) as page:
        for name in ("report", "after"):
            page.goto((tmp_path / f"{name}.html").as_uri())
            assert page.title() == "Release report 1.4.0 staging"
            assert page.locator("#audit-head").inner_text().startswith("audit log head #")
            box = page.locator("#charts svg").first.bounding_box()
            assert box is not None and box["width"] > 100 and box["height"] > 50
            assert page.locator("#charts svg polyline").count() == 1
            page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)
            shot = (tmp_path / f"{name}.png").read_bytes()
            assert shot.startswith(b"\x89PNG") and len(shot) > 10_000
        assert "Rollback" in page.locator("h2").all_inner_texts()[-1]


def test_release_notes_between_tags_grouped_in_ja_and_en(walked: DemoWorkspace) -> None:
    env = {**os.environ, "COCKPIT_CONFIG": str(walked.config)}
    run = subprocess.run(
        [sys.executable, "-m", "cockpit", "release", "notes", "--env", "staging", "--to", "v1.3.0"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        cwd=walked.root,
    )
    assert run.returncode == 0, run.stderr
    ja, en = run.stdout.split("# Release notes 1.3.0")
    assert ja.startswith("# リリースノート 1.3.0\n\nv1.2.0..v1.3.0 のコミット 3 件\n")
    assert "## 追加\n\n- **search**: full-text search over datasets (" in ja
    assert "## 文書\n\n- deployment guide (" in ja
    assert "3 commit(s) in v1.2.0..v1.3.0" in en and "## Added" in en
    assert "release 1.3.0" not in run.stdout  # chores are not notes
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "cockpit",
            "release",
            "notes",
            "--env",
            "staging",
            "--from",
            "v9.9.9",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        cwd=walked.root,
    )
    assert bad.returncode == 2
    assert bad.stderr.strip().startswith("cockpit: release notes: --from v9.9.9: no such commit")
