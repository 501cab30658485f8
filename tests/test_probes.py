"""The probe registry (cockpit/probes): every probe of the schema has a runner, today's six keep
their details and lines, every probe has a deadline (a server that never answers fails the check
at its timeout), and a failed check records what it saw against what it expected."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from cockpit.actions import decide
from cockpit.config import LoadedConfig, parse_config_text
from cockpit.operator import Operator
from cockpit.plan import (
    PROBES,
    CommandProbe,
    FileExistsProbe,
    FileYoungerThanProbe,
    GitBranchProbe,
    GitCleanProbe,
    HttpProbe,
)
from cockpit.probes import KINDS, CannotLook, kind_for, preview, run_probe
from cockpit.release import create_release
from cockpit.runner import CheckFailed
from cockpit.session import Session
from cockpit.store import Store
from tests.dripserver import DripServer
from tests.services import HttpService

PY = sys.executable


def loaded_config(tmp_path: Path, extra: str = "") -> LoadedConfig:
    text = f'[environments.staging]\ngit = {{ repo = "repo" }}\n{extra}'
    return LoadedConfig(parse_config_text(text), tmp_path / "cockpit.toml")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.email", "t@example.com")
    git(path, "config", "user.name", "T")
    (path / "a.txt").write_text("a\n")
    git(path, "add", ".")
    git(path, "commit", "-q", "-m", "first")
    return path


def test_every_probe_of_the_schema_has_a_runner() -> None:
    assert set(PROBES) == set(KINDS)
    for name in PROBES:
        assert kind_for(name).name == name


def test_every_probe_has_a_timeout() -> None:
    for name, struct in PROBES.items():
        fields = {f.name: f for f in msgspec.structs.fields(struct)}
        assert "timeout" in fields, name
        assert 0 < float(fields["timeout"].default) <= 120, name


# --- today's six, unchanged ------------------------------------------------------------------


def test_git_probes_keep_their_details_and_lines(tmp_path: Path, repo: Path) -> None:
    loaded = loaded_config(tmp_path)
    head = git(repo, "rev-parse", "HEAD")
    assert run_probe(GitCleanProbe(), "staging", loaded) == {"repo": str(repo), "head": head}
    assert run_probe(GitBranchProbe(), "staging", loaded) == {
        "repo": str(repo),
        "branch": "main",
        "head": head,
    }
    (repo / "a.txt").write_text("changed\n")
    with pytest.raises(CheckFailed) as dirty:
        run_probe(GitCleanProbe(), "staging", loaded)
    assert str(dirty.value) == f"{repo}: 1 uncommitted change(s): a.txt"
    with pytest.raises(CheckFailed) as branch:
        run_probe(GitBranchProbe(branches=["release/*"]), "staging", loaded)
    assert str(branch.value) == f"{repo}: on branch main, allowed: release/*"
    git(repo, "checkout", "-q", "--detach")
    with pytest.raises(CheckFailed) as detached:
        run_probe(GitBranchProbe(), "staging", loaded)
    assert str(detached.value) == f"{repo}: HEAD is detached at {head[:12]}"
    with pytest.raises(CannotLook) as nothing:
        run_probe(GitCleanProbe(), "staging", loaded_config(tmp_path / "none"))
    assert str(nothing.value) == f"{tmp_path / 'none' / 'repo'}: not a git repository"


def test_file_probes_keep_their_details_and_lines(tmp_path: Path) -> None:
    loaded = loaded_config(tmp_path)
    backup = tmp_path / "backup.dump"
    with pytest.raises(CheckFailed) as missing:
        run_probe(FileExistsProbe(path="backup.dump"), "staging", loaded)
    assert str(missing.value) == f"{backup}: does not exist"
    backup.write_text("x")
    assert run_probe(FileExistsProbe(path="backup.dump"), "staging", loaded) == {
        "path": str(backup)
    }
    seen = run_probe(FileYoungerThanProbe(path="backup.dump", hours=1), "staging", loaded)
    assert seen["path"] == str(backup) and 0 <= seen["age_hours"] < 0.01
    old = time.time() - 3 * 3600
    os.utime(backup, (old, old))
    with pytest.raises(CheckFailed) as stale:
        run_probe(FileYoungerThanProbe(path="backup.dump", hours=2), "staging", loaded)
    assert str(stale.value) == f"{backup}: 3.0 h old, needs to be under 2 h"


def test_http_and_command_probes_keep_their_details_and_lines(
    tmp_path: Path, http_service: HttpService
) -> None:
    loaded = loaded_config(tmp_path)
    url = http_service.url + "/health"
    seen = run_probe(HttpProbe(url=url), "staging", loaded)
    assert seen["url"] == url and seen["status"] == 200 and seen["elapsed_ms"] >= 0
    assert set(seen) == {"url", "status", "elapsed_ms"}
    http_service.route("/health", 503)
    with pytest.raises(CheckFailed) as down:
        run_probe(HttpProbe(url=url), "staging", loaded)
    assert str(down.value) == f"GET {url}: status 503, expected 200"
    ok = run_probe(CommandProbe(argv=[PY, "-c", "print('fine')"]), "staging", loaded)
    assert ok == {"argv": [PY, "-c", "print('fine')"], "exit_code": 0, "output_tail": ["fine"]}
    with pytest.raises(CheckFailed) as bad:
        run_probe(CommandProbe(argv=[PY, "-c", "print('no');exit(3)"]), "staging", loaded)
    assert str(bad.value) == f"{PY} exited 3: no"


def test_previews_name_what_each_probe_looks_at(tmp_path: Path) -> None:
    loaded = loaded_config(tmp_path)
    env = loaded.environment("staging")
    shown = preview(HttpProbe(url="https://u:pw@app.example/health"), "staging", env, loaded)
    assert shown == "GET https://u:***@app.example/health -> 200 within 10 s"
    assert preview(GitCleanProbe(), "staging", env, loaded) == (
        f"git status of {tmp_path / 'repo'}: no uncommitted changes"
    )


# --- deadlines -------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["mute", "drip"])
def test_an_http_probe_against_a_server_that_never_answers_fails_at_its_timeout(
    tmp_path: Path, mode: str
) -> None:
    loaded = loaded_config(tmp_path)
    with DripServer(mode, every=0.5, lifetime=20) as server:  # type: ignore[arg-type]
        started = time.monotonic()
        with pytest.raises(CheckFailed) as late:
            run_probe(HttpProbe(url=server.url + "/health", timeout=1), "staging", loaded)
        took = time.monotonic() - started
    assert 0.9 < took < 3.0, took
    if mode == "mute":
        assert str(late.value).startswith(f"GET {server.url}/health: ReadTimeout")
    else:
        assert str(late.value) == "http: no answer within 1 s (the probe's timeout)"


def test_a_command_probe_is_killed_at_its_timeout(tmp_path: Path) -> None:
    loaded = loaded_config(tmp_path)
    started = time.monotonic()
    with pytest.raises(CheckFailed) as late:
        run_probe(CommandProbe(argv=["sleep", "30"], timeout=0.5), "staging", loaded)
    assert time.monotonic() - started < 3
    assert str(late.value) == "sleep exited -9: timed out after 0.5 s"


# --- through decide(): the event says what was seen against what was expected -----------------


def plan_text(name: str, item: str) -> str:
    """A plan of one T-0 phase holding ``item`` (YAML of one list entry)."""
    return (
        f"schema_version: 1\nname: {name}\ntitle_ja: テスト計画\ntitle_en: Test plan\n"
        "phases:\n  - id: t-0\n    offset_days: 0\n    title_ja: リリース実施\n"
        f"    title_en: Release\n    items:\n{item}"
    )


HEALTH_ITEM = """\
      - id: t0.health
        kind: check
        title_ja: ヘルスチェック
        title_en: Health check
        check: {{probe: http, url: "{url}", status: 200, timeout: 5}}
"""


@pytest.fixture
def session(tmp_path: Path, http_service: HttpService) -> Iterator[tuple[Session, str]]:
    plan = tmp_path / "probeplan.yaml"
    plan.write_text(plan_text("probeplan", HEALTH_ITEM.format(url=http_service.url + "/health")))
    loaded = loaded_config(tmp_path, "rehearsal = true\n")
    store = Store(f"sqlite:///{tmp_path / 'c.db'}").open()
    s = Session(store=store, loaded=loaded, operator=Operator.fixed("alice"))
    release = create_release(
        s, plan=str(plan), environment="staging", version="1.0.0", t0="2026-12-16T01:00"
    )
    yield s, release.id
    store.close()


def test_a_failed_check_records_what_it_saw_against_what_it_expected(
    session: tuple[Session, str], http_service: HttpService
) -> None:
    s, rid = session
    http_service.route("/health", 500)
    with pytest.raises(CheckFailed):
        decide(s, rid, "t0.health", "done")
    started, failed = s.store.events(release_id=rid)[-2:]
    assert started.action == "check.started" and started.details_obj["probe"] == "http"
    assert failed.action == "check.failed"
    details = failed.details_obj
    assert details["seen"] == "status 500" and details["expected"] == "status 200"
    assert details["status"] == 500 and details["intent_seq"] == started.seq
    http_service.route("/health", 200)
    done = decide(s, rid, "t0.health", "done")
    assert done.action == "item.done" and done.details_obj["status"] == 200
    assert "seen" not in done.details_obj


@pytest.mark.parametrize(
    ("lang", "saw", "expected"),
    [
        ("en", "saw: status 500", "expected: status 200"),
        ("ja", "確認結果: status 500", "期待値: status 200"),
    ],
)
def test_the_detail_pane_shows_what_a_failed_check_saw_against_what_it_expected(
    session: tuple[Session, str], http_service: HttpService, lang: str, saw: str, expected: str
) -> None:
    from cockpit.checklist import load_checklist
    from screens.checklist_view import detail_text

    s, rid = session
    s.lang = lang
    http_service.route("/health", 500)
    with pytest.raises(CheckFailed):
        decide(s, rid, "t0.health", "done")
    checklist = load_checklist(s.store, rid)
    item = checklist.plan.plan.item("t0.health")
    pane = detail_text(s, checklist, item, ("a", "b"), None, [], [], "").plain.splitlines()
    assert pane[-2:] == [f" {saw}", f" {expected}"]
    # Passed on a re-run (the same key): the figures of the failure are gone.
    http_service.route("/health", 200)
    decide(s, rid, "t0.health", "done")
    checklist = load_checklist(s.store, rid)
    pane = detail_text(s, checklist, item, ("a", "b"), None, [], [], "").plain
    assert saw not in pane and expected not in pane


# --- bound per environment in cockpit.toml ---------------------------------------------------

BACKUP_ITEM = """\
      - id: t0.backup
        kind: check
        title_ja: バックアップ確認
        title_en: Backup checked
"""


@pytest.fixture
def bound(tmp_path: Path) -> Iterator[Any]:
    """``bound(checks)``: a session whose cockpit.toml holds ``checks`` for staging, and a
    release of the one-check plan there."""
    stores: list[Store] = []

    def make(checks: str) -> tuple[Session, str]:
        plan = tmp_path / "boundplan.yaml"
        plan.write_text(plan_text("boundplan", BACKUP_ITEM))
        loaded = loaded_config(tmp_path, f"rehearsal = true\n{checks}")
        store = Store(f"sqlite:///{tmp_path / 'c.db'}").open()
        stores.append(store)
        s = Session(store=store, loaded=loaded, operator=Operator.fixed("alice"))
        release = create_release(
            s, plan=str(plan), environment="staging", version="1.0.0", t0="2026-12-16T01:00"
        )
        return s, release.id

    yield make
    for store in stores:
        store.close()


def test_a_check_bound_in_cockpit_toml_runs_the_environments_probe(
    tmp_path: Path, bound: Any
) -> None:
    dump = tmp_path / "backup.dump"
    dump.write_text("x")
    s, rid = bound(
        '[environments.staging.checks."t0.backup"]\nprobe = "backup"\nhours = 24\n'
        'path = "backup.*"\n'
    )
    done = decide(s, rid, "t0.backup", "done")
    started = s.store.events(release_id=rid)[-2]
    assert started.details_obj["probe"] == "backup"
    assert started.details_obj["probe_from"] == "config"
    assert done.action == "item.done" and done.details_obj["file"] == str(dump)


def test_a_check_no_environment_binds_is_confirmed_by_hand_with_a_reason(bound: Any) -> None:
    from cockpit.checklist import Refused

    s, rid = bound("")
    with pytest.raises(Refused) as refused:
        decide(s, rid, "t0.backup", "done")
    assert str(refused.value) == (
        't0.backup: no check configured for environment staging (checks."t0.backup" in '
        "cockpit.toml); confirm it by hand with a reason (the evidence)"
    )
    done = decide(s, rid, "t0.backup", "done", reason="snapshot rds:app-2026-12-16 seen")
    assert done.action == "item.done" and done.reason == "snapshot rds:app-2026-12-16 seen"
    assert done.details_obj["unchecked"] == "no check configured for environment staging"


def test_a_bad_check_in_cockpit_toml_is_one_line(tmp_path: Path) -> None:
    from cockpit.config import load_config
    from cockpit.errors import ConfigError

    path = tmp_path / "cockpit.toml"
    path.write_text('[environments.staging.checks."t0.backup"]\nprobe = "backup"\n')
    with pytest.raises(ConfigError) as missing:
        load_config(str(path))
    assert "hours" in str(missing.value) and "\n" not in str(missing.value)
    path.write_text('[environments.staging.checks."t0.backup"]\nprobe = "nope"\n')
    with pytest.raises(ConfigError) as unknown:
        load_config(str(path))
    assert "nope" in str(unknown.value) and "\n" not in str(unknown.value)


def test_the_demo_binds_staging_checks_that_pass_against_its_application(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cockpit.cli.app_cmds import serve_demo_app
    from cockpit.config import parse_config_file
    from cockpit.demo import create_demo
    from cockpit.plan import CheckItem, load_plan

    workspace = create_demo(tmp_path / "demo")
    # What `cockpit demo` sets for its application (undone after the test).
    monkeypatch.setenv("DEMOAPP_DATABASE_URL", workspace.db_url)
    server = serve_demo_app(workspace.root)
    try:
        loaded = LoadedConfig(parse_config_file(workspace.config), workspace.config)
        staging = loaded.environment("staging")
        plan = load_plan("release")
        assert len(staging.checks) >= 5
        for item_id, probe in staging.checks.items():
            item = plan.item(item_id)
            assert isinstance(item, CheckItem) and item.check is None, item_id
            run_probe(probe, "staging", loaded)  # passes, or raises naming what it saw
        assert loaded.environment("production").checks == {}
        # What a newcomer sees fail: the coverage report below the bar.
        report = workspace.root / "appdata" / "coverage.json"
        report.write_text(
            report.read_text().replace('"covered_lines": 452', '"covered_lines": 400')
        )
        with pytest.raises(CheckFailed) as low:
            run_probe(staging.checks["t7.coverage"], "staging", loaded)
        assert str(low.value) == f"{report}: 83.33 % covered, at least 90 %"
    finally:
        if server is not None:
            server.stop()
