"""The cockpit's own secrets stay its own: steps and command probes run without them unless a step
names them, and whatever a program prints has every known secret value masked before it is
streamed, recorded, or exported (real processes, a real log, the real `cockpit audit export`)."""

from __future__ import annotations

import contextlib
import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from cockpit.actions import decide
from cockpit.cli import main
from cockpit.config import (
    Config,
    EnvironmentConfig,
    LoadedConfig,
    MetricsConfig,
    parse_config_text,
)
from cockpit.events import NewEvent
from cockpit.operator import Operator
from cockpit.plan import CommandProbe
from cockpit.plan.runs import ShellRun
from cockpit.probes import run_probe
from cockpit.release import create_release
from cockpit.runner import CheckFailed
from cockpit.secrets import MASK, Masker, known_secrets
from cockpit.session import Session
from cockpit.steps.base import StepContext, StepFailed
from cockpit.steps.shell import ShellStep
from cockpit.store import Store

PY = sys.executable
DB_PASSWORD = "pw-db-7734-s3cret"
DB_URL = f"postgresql+psycopg://app:{DB_PASSWORD}@db.internal:5432/app"
AWS_KEY = "aws-secret-Q9x81zLmT0p"
TOKEN = "prom-bearer-5f1c93aa"
SECRETS = (DB_PASSWORD, AWS_KEY, TOKEN)
alice, bob = Operator.fixed("alice"), Operator.fixed("bob")

# APP_DB_URL and PROM_BEARER do not look secret by name: the config says they are.
CONFIG = """
[database]
url = "sqlite:///cockpit.db"
[audit]
checkpoint = "checkpoint.json"
[roles]
approver = ["bob"]
[environments.staging]
rehearsal = true
[environments.staging.alembic]
database_url_env = "APP_DB_URL"
[environments.staging.metrics]
token_env = "PROM_BEARER"
"""

PRINT_SECRETS = (
    "import os, urllib.parse as u;"
    "print('db password:', u.urlsplit(os.environ['APP_DB_URL']).password);"
    "print('db url:', os.environ['APP_DB_URL']);"
    "print('aws key:', os.environ['AWS_SECRET_ACCESS_KEY']);"
    "print('token:', os.environ['PROM_BEARER'])"
)
INHERIT = "[APP_DB_URL, AWS_SECRET_ACCESS_KEY, PROM_BEARER]"

PLAN = f"""\
schema_version: 1
name: secretplan
title_ja: 秘密
title_en: Secrets
phases:
  - id: t-1
    offset_days: -1
    title_ja: 最終確認
    title_en: Final check
    items:
      - {{id: t1.approval, kind: gate, role: approver, title_ja: 承認, title_en: Approved}}
      - id: t1.probe
        kind: check
        title_ja: 確認
        title_en: Probe
        check:
          probe: command
          argv: [{PY}, -c, "print('the key is'); print('{AWS_KEY}'); raise SystemExit(1)"]
  - id: t-0
    offset_days: 0
    title_ja: リリース実施
    title_en: Release
    items:
      - id: t0.deploy
        kind: step
        title_ja: デプロイ
        title_en: Deploy
        run:
          kind: shell
          argv: [{PY}, -c, "{PRINT_SECRETS}"]
          inherit: {INHERIT}
          timeout: 30
      - id: t0.migrate
        kind: step
        title_ja: 失敗
        title_en: Fails on a secret
        run:
          kind: shell
          argv: [{PY}, -c, "{PRINT_SECRETS}; raise SystemExit(3)"]
          inherit: {INHERIT}
          timeout: 30
"""


@pytest.fixture
def secret_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The cockpit's environment holds the three secrets (set before any store is made)."""
    monkeypatch.setenv("APP_DB_URL", DB_URL)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", AWS_KEY)
    monkeypatch.setenv("PROM_BEARER", TOKEN)


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(list(argv), out=out)
    return code, out.getvalue(), err.getvalue()


def assert_clean(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


def test_known_secrets_from_the_config_the_names_and_urls() -> None:
    config = Config(
        environments={"prod": EnvironmentConfig(metrics=MetricsConfig(token_env="PROM_BEARER"))}
    )
    environ = {
        "COCKPIT_DATABASE_URL": "postgresql://cockpit:db-pw-991@db/cockpit",
        "PROM_BEARER": TOKEN,
        "AWS_SECRET_ACCESS_KEY": AWS_KEY,
        "DEPLOY_API_TOKEN": "tok-very-secret",
        "SHORT_TOKEN": "abc",  # under 4 characters: never masked
        "FEATURE_KEY": "true",  # a plain word: never masked
        "AWS_SHARED_CREDENTIALS_FILE": "/home/alice/.aws/credentials",  # where, not what
        "HOME": "/home/alice",
    }
    known = known_secrets(config, environ)
    # Longest first, so a URL goes whole before its password does.
    assert known.values == (
        "postgresql://cockpit:db-pw-991@db/cockpit",
        AWS_KEY,
        TOKEN,
        "tok-very-secret",
        "db-pw-991",
    )
    line = f"connect postgresql://cockpit:db-pw-991@db/cockpit as db-pw-991 with {TOKEN} abc"
    assert known.mask(line) == f"connect {MASK} as {MASK} with {MASK} abc"
    env = known.scrubbed_env(environ, keep=["PROM_BEARER"])
    # Secret by name even when the value is too short or plain to mask; kept when named.
    assert sorted(env) == ["AWS_SHARED_CREDENTIALS_FILE", "HOME", "PROM_BEARER"]
    assert Masker(values=["x" * 4, "x" * 8]).mask("x" * 12) == MASK + MASK


def test_the_store_masks_known_secrets_in_subject_reason_and_details(
    tmp_path: Path, secret_env: None
) -> None:
    store = Store(f"sqlite:///{tmp_path / 'log.db'}").open()
    try:
        store.append(
            NewEvent(
                action="note",
                subject=f"about {AWS_KEY}",
                reason=f"pasted {AWS_KEY} by mistake",
                details={"lines": [f"key {AWS_KEY}"], "nested": {"n": f"x{AWS_KEY}y"}},
            ),
            alice,
        )
        # APP_DB_URL and PROM_BEARER are secret because a config says so: once a config naming
        # them is read, the store's masker knows them too.
        known_secrets(parse_config_text(CONFIG))
        store.append(NewEvent(action="note", details={"line": f"{DB_URL} {TOKEN}"}), alice)
        explicit = Store(f"sqlite:///{tmp_path / 'log.db'}", masker=Masker(values=["s3cr3t-42"]))
        explicit.append(NewEvent(action="note", reason="it is s3cr3t-42"), alice)
        first, second, third = store.events()
    finally:
        store.close()
    assert first.subject == f"about {MASK}" and first.reason == f"pasted {MASK} by mistake"
    assert first.details_obj == {"lines": [f"key {MASK}"], "nested": {"n": f"x{MASK}y"}}
    assert second.details_obj == {"line": f"{MASK} {MASK}"}
    assert third.reason == f"it is {MASK}"


def harness(tmp_path: Path) -> tuple[StepContext, list[str]]:
    loaded = LoadedConfig(parse_config_text(CONFIG), tmp_path / "cockpit.toml")
    lines: list[str] = []
    ctx = StepContext(
        loaded=loaded,
        env_name="staging",
        env=loaded.environment("staging"),
        release_id="r-2026-06",
        item_id="t0.deploy",
        version="1.4.0",
        operator="alice@bastion-1",
        output=lines.append,
    )
    return ctx, lines


def test_a_shell_step_does_not_inherit_the_cockpits_secrets_unless_it_names_them(
    tmp_path: Path, secret_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COCKPIT_TEST_PLAIN", "plain-value")
    ctx, lines = harness(tmp_path)
    plain: dict[str, Any] = {}
    ShellStep().run(ShellRun(argv=["env"], timeout=30), ctx, plain)
    names = {line.split("=", 1)[0] for line in lines}
    assert "COCKPIT_TEST_PLAIN=plain-value" in lines
    assert not names & {"AWS_SECRET_ACCESS_KEY", "APP_DB_URL", "PROM_BEARER"}
    assert_clean(json.dumps([lines, plain]))

    lines.clear()
    named: dict[str, Any] = {}
    spec = ShellRun(argv=["env"], timeout=30, inherit=["AWS_SECRET_ACCESS_KEY"])
    ShellStep().run(spec, ctx, named)
    assert f"AWS_SECRET_ACCESS_KEY={MASK}" in lines  # there, and masked in the output
    assert "APP_DB_URL" not in {line.split("=", 1)[0] for line in lines}
    assert_clean(json.dumps([lines, named]))

    lines.clear()
    spec = ShellRun(argv=["env"], timeout=30, env={"PROM_BEARER": "step-own-token-77"})
    ShellStep().run(spec, ctx, {})
    assert f"PROM_BEARER={MASK}" in lines  # a value set in the step's env always passes


def test_a_command_probe_runs_without_the_secrets_and_its_output_is_masked(
    tmp_path: Path, secret_env: None
) -> None:
    loaded = LoadedConfig(parse_config_text(CONFIG), tmp_path / "cockpit.toml")
    names = "AWS_SECRET_ACCESS_KEY", "APP_DB_URL", "PROM_BEARER", "HOME"
    code = f"import os; print(sorted(k for k in os.environ if k in {names}))"
    seen = run_probe(CommandProbe(argv=[PY, "-c", code]), "staging", loaded)
    assert seen["output_tail"] == ["['HOME']"]
    leak = f"import os; print(os.environ.get('HOME')); print('{TOKEN}'); raise SystemExit(2)"
    with pytest.raises(CheckFailed) as exc:
        run_probe(CommandProbe(argv=[PY, "-c", leak]), "staging", loaded)
    assert str(exc.value) == f"{PY} exited 2: {MASK}"


def test_no_secret_a_step_prints_reaches_the_output_the_log_or_an_export(
    tmp_path: Path, secret_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COCKPIT_CONFIG", raising=False)
    monkeypatch.delenv("COCKPIT_DATABASE_URL", raising=False)
    (tmp_path / "cockpit.toml").write_text(CONFIG)
    (tmp_path / "secretplan.yaml").write_text(PLAN)
    loaded = LoadedConfig(parse_config_text(CONFIG), tmp_path / "cockpit.toml")
    store = Store(f"sqlite:///{tmp_path / 'cockpit.db'}", tmp_path / "checkpoint.json").open()
    try:
        session = Session(store=store, loaded=loaded, operator=alice)
        rid = create_release(
            session,
            plan=str(tmp_path / "secretplan.yaml"),
            environment="staging",
            version="1.4.0",
            t0="2026-12-16T01:00",
        ).id
        decide(Session(store=store, loaded=loaded, operator=bob), rid, "t1.approval", "approve")
        with pytest.raises(CheckFailed) as probe:
            decide(session, rid, "t1.probe", "done")
        assert str(probe.value).endswith(f"exited 1: {MASK}")

        streamed: list[str] = []
        # T-1's probe failed on purpose: the T-0 steps run with a reason (phases in order).
        after = "T-1's probe failed on purpose"
        decide(session, rid, "t0.deploy", "done", output=streamed.append, override=after)
        assert f"aws key: {MASK}" in streamed and f"token: {MASK}" in streamed
        assert f"db password: {MASK}" in streamed and f"db url: {MASK}" in streamed
        with pytest.raises(StepFailed) as failed:
            decide(session, rid, "t0.migrate", "done", output=streamed.append, override=after)
        assert str(failed.value).endswith(f"exited 3: token: {MASK}")
        assert_clean("\n".join(streamed))

        events = store.events()
        actions = [ev.action for ev in events]
        assert {"check.failed", "step.succeeded", "step.failed"} <= set(actions)
        done = next(ev for ev in events if ev.action == "step.succeeded")
        assert f"aws key: {MASK}" in done.details_obj["output_tail"]
        assert_clean(json.dumps([[ev.subject, ev.reason, ev.details_obj] for ev in events]))
    finally:
        store.close()

    for fmt in ("jsonl", "csv", "md"):
        code, out, err = cli("audit", "export", "--format", fmt)
        assert code == 0, err
        assert "step.failed" in out
        assert_clean(out)
