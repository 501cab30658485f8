"""Issue 13, secrets policy: no credential inside a URL. Every place a URL is configured (the
keys of cockpit.toml, the fields of a plan, the variables the cockpit reads) refuses a password in
the user part and a credential query parameter with one line naming the key, exit 2 and nothing
written; ``redact_url`` masks each form; and nothing a run writes holds a secret set for it."""

from __future__ import annotations

from pathlib import Path

import pytest

from cockpit.urls import CREDENTIAL_PARAMS, redact_url, url_credentials
from tests.test_config import run_cli

SECRET = "Zq9SecretValue"
HEAD = '[database]\nurl = "sqlite:///cockpit.db"\n[roles]\napprover = ["bob"]\n'

# (the TOML after HEAD, the key the line names, what it says was found)
BAD_KEYS = [
    (
        '[environments.staging]\napp_url = "https://app.example/?token=TOKEN"\n',
        "environments.staging.app_url",
        "the query parameter 'token'",
    ),
    (
        '[environments.staging.git]\nremote = "https://u:TOKEN@git.example/o/r.git"\n',
        "environments.staging.git.remote",
        "a password",
    ),
    (
        '[environments.staging.alembic]\ndatabase_url = "postgresql://app@db/x?password=TOKEN"\n',
        "environments.staging.alembic.database_url",
        "the query parameter 'password'",
    ),
    (
        '[environments.staging.metrics]\nprometheus_url = "http://prom:9090/?Access_Token=TOKEN"\n',
        "environments.staging.metrics.prometheus_url",
        "the query parameter 'Access_Token'",
    ),
    (
        '[environments.staging.aws]\nendpoint_url = "https://s3.local/?X-Amz-Signature=TOKEN"\n',
        "environments.staging.aws.endpoint_url",
        "the query parameter 'X-Amz-Signature'",
    ),
    (
        '[environments.staging.aws.endpoints]\ns3 = "https://s3.local/?apikey=TOKEN"\n',
        "environments.staging.aws.endpoints.s3",
        "the query parameter 'apikey'",
    ),
    (
        '[environments.staging.steps."t0.smoke"]\nkind = "http_checks"\n'
        'base_url = "https://app.example/?sig=TOKEN"\nchecks = [{url = "/health"}]\n',
        'environments.staging.steps."t0.smoke".base_url',
        "the query parameter 'sig'",
    ),
    (
        '[environments.staging.steps."t0.smoke"]\nkind = "http_checks"\n'
        'checks = [{url = "https://app.example/health?auth=TOKEN"}]\n',
        'environments.staging.steps."t0.smoke".checks[0].url',
        "the query parameter 'auth'",
    ),
]
# The database URL in the file: before HEAD, in place of its own.
BAD_DATABASE = [
    ("postgresql+psycopg://app@db/cockpit?password=TOKEN", "the query parameter 'password'"),
    ("postgresql+psycopg://app@db/cockpit?sslmode=require&PWD=TOKEN", "the query parameter 'PWD'"),
    ("postgresql+psycopg://app:TOKEN@db/cockpit", "a password"),
]

PLAN = """\
schema_version: 1
name: myplan
title_ja: テスト計画
title_en: Test plan
phases:
  - id: t-0
    offset_days: 0
    title_ja: リリース実施
    title_en: Release
    items:
      - id: t0.up
        kind: check
        title_ja: 稼働確認
        title_en: The service answers
        check:
          probe: http
          url: PROBE_URL
      - id: t0.smoke
        kind: step
        title_ja: 疎通確認
        title_en: Smoke test
        run:
          kind: http_checks
          base_url: BASE_URL
          checks:
            - url: CHECK_URL
"""
GOOD_URLS = {
    "PROBE_URL": "https://app.example/health",
    "BASE_URL": "https://app.example",
    "CHECK_URL": "/health",
}
# (the placeholder, the URL with a credential, the line's subject, what was found)
BAD_PLAN_URLS = [
    ("PROBE_URL", "https://app.example/health?token=TOKEN", "item t0.up: check.url", "'token'"),
    ("PROBE_URL", "https://u:TOKEN@app.example/health", "item t0.up: check.url", "a password"),
    ("BASE_URL", "https://app.example/?api_key=TOKEN", "item t0.smoke: run.base_url", "'api_key'"),
    ("BASE_URL", "https://u:TOKEN@app.example", "item t0.smoke: run.base_url", "a password"),
    (
        "CHECK_URL",
        "https://app.example/health?Signature=TOKEN",
        "item t0.smoke: run.checks[0].url",
        "'Signature'",
    ),
]


def _plan(**urls: str) -> str:
    text = PLAN
    for name, url in {**GOOD_URLS, **urls}.items():
        text = text.replace(name, url)
    return text


def _refused(argv: list[str], key: str, found: str) -> str:
    code, out, err = run_cli(*argv)
    assert (code, out) == (2, ""), err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert f": {key}: holds {found}" in err, err
    assert SECRET not in err
    return err


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COCKPIT_DATABASE_URL", raising=False)
    monkeypatch.delenv("COCKPIT_DATABASE_PASSWORD", raising=False)
    return tmp_path


NEW = ["release", "new", "--env", "staging", "--version", "1.0.0", "--t0", "2026-12-16T01:00"]


@pytest.mark.parametrize(("toml", "key", "found"), BAD_KEYS)
def test_a_credential_in_a_configured_url_is_refused(
    workdir: Path, toml: str, key: str, found: str
) -> None:
    (workdir / "cockpit.toml").write_text(HEAD + toml.replace("TOKEN", SECRET))
    (workdir / "myplan.yaml").write_text(_plan())
    for argv in (["config", "check"], [*NEW, "--plan", "./myplan.yaml"]):
        err = _refused(argv, key, found)
        assert "remove it" in err
    assert sorted(p.name for p in workdir.iterdir()) == ["cockpit.toml", "myplan.yaml"]


@pytest.mark.parametrize(("url", "found"), BAD_DATABASE)
def test_a_credential_in_the_database_url_is_refused(workdir: Path, url: str, found: str) -> None:
    (workdir / "cockpit.toml").write_text(f'[database]\nurl = "{url.replace("TOKEN", SECRET)}"\n')
    err = _refused(["config", "check"], "database.url", found)
    assert "COCKPIT_DATABASE_PASSWORD" in err and "~/.pgpass" in err
    assert sorted(p.name for p in workdir.iterdir()) == ["cockpit.toml"]


@pytest.mark.parametrize("form", ["?password=TOKEN", "?sslmode=require&token=TOKEN"])
def test_a_query_credential_in_cockpit_database_url_is_refused(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, form: str
) -> None:
    (workdir / "cockpit.toml").write_text(HEAD)
    url = f"sqlite:///{workdir / 'env.db'}{form}".replace("TOKEN", SECRET)
    monkeypatch.setenv("COCKPIT_DATABASE_URL", url)
    for argv in (["config", "check"], NEW, ["audit", "export"]):
        code, out, err = run_cli(*argv)
        assert (code, out) == (2, "")
        assert err.startswith("cockpit: COCKPIT_DATABASE_URL: holds the query parameter ")
        assert err.count("\n") == 1 and SECRET not in err
        assert "user part of this variable" in err
    assert sorted(p.name for p in workdir.iterdir()) == ["cockpit.toml"]


def test_a_password_in_the_user_part_of_cockpit_database_url_stays_the_documented_way(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (workdir / "cockpit.toml").write_text(HEAD)
    monkeypatch.setenv("COCKPIT_DATABASE_URL", f"postgresql+psycopg://app:{SECRET}@db:5432/x")
    code, out, err = run_cli("config", "check")
    assert code == 0, err
    assert "postgresql+psycopg://app:***@db:5432/x" in out and SECRET not in out + err


@pytest.mark.parametrize(("name", "url", "subject", "found"), BAD_PLAN_URLS)
def test_a_credential_in_a_plan_url_is_refused_and_nothing_is_written(
    workdir: Path, name: str, url: str, subject: str, found: str
) -> None:
    (workdir / "cockpit.toml").write_text(HEAD + "[environments.staging]\n")
    (workdir / "myplan.yaml").write_text(_plan())
    assert run_cli(*NEW, "--plan", "./myplan.yaml")[0] == 0
    before = run_cli("audit", "export")[1].splitlines()
    assert before
    (workdir / "myplan.yaml").write_text(_plan(**{name: url.replace("TOKEN", SECRET)}))
    for argv in (["plan", "validate", "./myplan.yaml"], [*NEW, "--plan", "./myplan.yaml"]):
        code, out, err = run_cli(*argv)
        assert (code, out) == (2, ""), err
        assert err.count("\n") == 1 and SECRET not in err
        assert "myplan.yaml:" in err and f": {subject}: holds " in err and found in err, err
        assert "HTTP checks send no credentials" in err
    assert run_cli("audit", "export")[1].splitlines() == before


FORMS = [
    ("postgresql://app:pw1234@db/x", "postgresql://app:***@db/x"),
    ("https://h/x?token=abc123&a=1", "https://h/x?token=***&a=1"),
    ("https://h/x?a=1&PASSWORD=abc123#top", "https://h/x?a=1&PASSWORD=***#top"),
    ("https://u:pw1234@h/x?sig=abc123", "https://u:***@h/x?sig=***"),
    (
        "https://b.s3.local/k?X-Amz-Credential=AKIA%2F1&X-Amz-Signature=abc123",
        "https://b.s3.local/k?X-Amz-Credential=***&X-Amz-Signature=***",
    ),
    ("https://h/x?tokens=1&keyword=2", "https://h/x?tokens=1&keyword=2"),
    ("https://u@h/x", "https://u@h/x"),
    ("origin", "origin"),
]


@pytest.mark.parametrize(("url", "shown"), FORMS)
def test_redact_url_masks_every_form(url: str, shown: str) -> None:
    assert redact_url(url) == shown
    assert (url_credentials(url) is None) == (url == shown)


@pytest.mark.parametrize("param", sorted(CREDENTIAL_PARAMS))
def test_every_credential_parameter_is_named_and_masked(param: str) -> None:
    url = f"https://h/x?{param.upper()}={SECRET}"
    assert url_credentials(url) == f"the query parameter {param.upper()!r}"
    assert SECRET not in redact_url(url)


def test_nothing_a_run_writes_holds_a_secret_set_for_it(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets = {"PROM_TOKEN": f"{SECRET}1", "APP_DATABASE_URL": f"postgresql://a:{SECRET}2@db/x"}
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    (workdir / "cockpit.toml").write_text(
        HEAD + '[environments.staging]\napp_url = "https://app.example"\n'
        '[environments.staging.alembic]\ndatabase_url_env = "APP_DATABASE_URL"\n'
        '[environments.staging.metrics]\nprometheus_url = "http://prom:9090"\n'
        'token_env = "PROM_TOKEN"\n'
    )
    (workdir / "myplan.yaml").write_text(_plan())
    written = []
    for argv in (
        ["config", "check"],
        [*NEW, "--plan", "./myplan.yaml"],
        ["audit", "export"],
        ["audit", "export", "--output", "export.out"],
    ):
        code, out, err = run_cli(*argv)
        assert code == 0, err
        written += [out, err]
    files = [p for p in workdir.rglob("*") if p.is_file() and p.suffix != ".db"]
    assert any(p.name.endswith(".checkpoint.json") for p in files)
    written += [p.read_text(errors="replace") for p in files if p.name != "cockpit.toml"]
    assert all(SECRET not in text for text in written)
