"""cockpit.toml: found nearest-first, strictly checked, one clear line per mistake."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

from cockpit.cli import main
from cockpit.config import database_url, load_config, parse_config_text

GOOD_HEAD = '[database]\nurl = "sqlite:///cockpit.db"\n'

BAD_CONFIGS = [
    (
        GOOD_HEAD + "[environments.production.kubernetes]\nnamespace = 3\n",
        "cockpit.toml:4: environments.production.kubernetes.namespace: expected a string",
    ),
    (
        GOOD_HEAD + "[environments.staging.metrics]\nrefresh_seconds = nan\n",
        "cockpit.toml:4: environments.staging.metrics.refresh_seconds: nan is not a usable number",
    ),
    (
        GOOD_HEAD + "[environments.staging.metrics]\ncpu_warning = inf\n",
        "cockpit.toml:4: environments.staging.metrics.cpu_warning: inf is not a usable number",
    ),
    (
        "[database]\nbusy_timeout_ms = 99999999999999999999\n",
        "cockpit.toml:2: database.busy_timeout_ms: expected an integer <= 600000",
    ),
    (
        GOOD_HEAD + "[database.pool]\nsize = 3\n",
        "cockpit.toml:3: database.pool: unknown key (allowed: url, busy_timeout_ms)",
    ),
    (
        GOOD_HEAD + '[environments.staging]\nrehearsal = "yes"\n',
        "cockpit.toml:4: environments.staging.rehearsal: expected true or false",
    ),
    (
        GOOD_HEAD + '[change_window]\nstart = "1am"\n',
        "cockpit.toml:4: change_window.start: has the wrong form (use HH:MM, 24-hour)",
    ),
    (
        GOOD_HEAD + '[change_window]\nweekday = "caturday"\n',
        "cockpit.toml:4: change_window.weekday: 'caturday' is not allowed (use one of: monday,",
    ),
    (
        GOOD_HEAD + '[change_window]\ntimezone = "Mars/Olympus"\n',
        "cockpit.toml:4: change_window.timezone: unknown time zone 'Mars/Olympus'",
    ),
    (
        '[database]\nurl = "postgresql+psycopg://app:s3cret@db/cockpit"\n',
        "cockpit.toml:2: database.url: holds a password; remove it and set "
        "COCKPIT_DATABASE_PASSWORD",
    ),
    (
        GOOD_HEAD + '[roles]\napprover = "bob"\n',
        "cockpit.toml:4: roles.approver: expected a list",
    ),
    (
        GOOD_HEAD + "[environments.Prod]\n",
        "cockpit.toml:3: environments.Prod: names are lowercase letters",
    ),
    (
        GOOD_HEAD + "[change_window]\nweek = 9\n",
        "cockpit.toml:4: change_window.week: expected an integer <= 5",
    ),
    (
        GOOD_HEAD + "[environments.production.alembic]\ncommand = []\n",
        "cockpit.toml:4: environments.production.alembic.command: needs at least the program",
    ),
    (GOOD_HEAD + "[audit\n", "cockpit.toml:3: not valid TOML"),
    (
        GOOD_HEAD + '[environments.production.metrics]\nprometheus_url = "http://u:pw@prom:9090"\n',
        "cockpit.toml:4: environments.production.metrics.prometheus_url: holds a password",
    ),
    (
        GOOD_HEAD + "[environments.production.metrics]\ncpu_warning = 95\n",
        "cockpit.toml:4: environments.production.metrics.cpu_warning: 95.0 is above cpu_critical",
    ),
    (
        GOOD_HEAD + '[identity]\nallowed_signers = "keys/allowed_signers"\n',
        "cockpit.toml:4: identity.allowed_signers: no such file keys/allowed_signers",
    ),
    (
        GOOD_HEAD + '[identity]\nsigning_key = "id_ed25519"\n',
        "cockpit.toml:4: identity.signing_key: no such file id_ed25519",
    ),
    (
        GOOD_HEAD + "[environments.production]\nsign_all = true\n",
        "cockpit.toml:4: environments.production.sign_all: needs identity.allowed_signers",
    ),
    (
        GOOD_HEAD + '[environments.staging.checks."t7.coverage"]\nprobe = "nope"\n',
        "cockpit.toml:3: environments.staging.checks.\"t7.coverage\".probe: 'nope' is not a probe "
        "(use one of: git_clean,",
    ),
    (
        GOOD_HEAD + '[environments.staging.checks."t7.coverage"]\nprobe = "coverage"\nmin = 1\n',
        'cockpit.toml:3: environments.staging.checks."t7.coverage": object contains unknown field',
    ),
    (
        GOOD_HEAD + '[environments.staging.checks."t1.health"]\nprobe = "http"\n'
        'url = "https://ops:pw@app.example/health"\n',
        'cockpit.toml:3: environments.staging.checks."t1.health".url: holds a password',
    ),
    (
        GOOD_HEAD + '[environments.production.git]\ntag_format = "release-1"\n',
        "cockpit.toml:4: environments.production.git.tag_format: must contain {version}",
    ),
]


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    import contextlib

    with contextlib.redirect_stderr(err):
        code = main(list(argv), out=out)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize(("text", "expected"), BAD_CONFIGS)
def test_bad_config_is_one_clear_line_and_writes_nothing(
    tmp_path: Path, text: str, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cockpit.toml").write_text(text)
    for argv in (
        ["config", "check"],
        ["release", "new", "--env", "staging", "--version", "1.0.0", "--t0", "2026-12-16T01:00"],
    ):
        code, out, err = run_cli(*argv)
        assert code == 2
        assert out == ""
        assert err.count("\n") == 1 and "Traceback" not in err
        assert err.startswith("cockpit: " + expected), err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cockpit.toml"]


def test_unreadable_config_file(tmp_path: Path) -> None:
    path = tmp_path / "cockpit.toml"
    path.write_bytes(b'[database]\nurl = "\xff\xfe"\n')
    code, _, err = run_cli("--config", str(path), "config", "check")
    assert (code, err) == (2, f"cockpit: {path}: not UTF-8 text (byte 18)\n")
    path.write_text("")
    path.chmod(0)
    if os.geteuid() == 0:  # root reads anything: make it a directory instead
        path.chmod(0o644)
        path.unlink()
        path.mkdir()
        code, _, err = run_cli("--config", str(path), "config", "check")
        assert (code, err) == (2, f"cockpit: {path}: no such config file (from --config)\n")
    else:
        code, _, err = run_cli("--config", str(path), "config", "check")
        assert (code, err) == (2, f"cockpit: {path}: cannot read the file (permission denied)\n")


def test_missing_explicit_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COCKPIT_CONFIG", str(tmp_path / "nope.toml"))
    code, _, err = run_cli("config", "check")
    assert (code, err) == (
        2,
        f"cockpit: {tmp_path / 'nope.toml'}: no such config file (from COCKPIT_CONFIG)\n",
    )


def test_config_found_nearest_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    user_dir = tmp_path / "xdg" / "release-cockpit"
    user_dir.mkdir(parents=True)
    (user_dir / "cockpit.toml").write_text('[database]\nurl = "sqlite:///user.db"\n')
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("COCKPIT_CONFIG", raising=False)
    monkeypatch.chdir(work)
    assert load_config().path == user_dir / "cockpit.toml"
    (work / "cockpit.toml").write_text('[database]\nurl = "sqlite:///work.db"\n')
    assert load_config().path == work / "cockpit.toml"
    other = tmp_path / "other.toml"
    other.write_text("")
    monkeypatch.setenv("COCKPIT_CONFIG", str(other))
    assert load_config().path == other
    assert load_config(str(user_dir / "cockpit.toml")).path == user_dir / "cockpit.toml"


def test_database_url_secrets_come_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "cockpit.toml"
    path.write_text('[database]\nurl = "postgresql+psycopg://cockpit@db:5432/cockpit"\n')
    monkeypatch.setenv("COCKPIT_DATABASE_PASSWORD", "p@ss/word")
    loaded = load_config(str(path))
    assert database_url(loaded) == "postgresql+psycopg://cockpit:p%40ss%2Fword@db:5432/cockpit"
    monkeypatch.setenv("COCKPIT_DATABASE_URL", "sqlite:///elsewhere.db")
    assert database_url(loaded) == f"sqlite:///{tmp_path / 'elsewhere.db'}"
    code, out, _ = run_cli("--config", str(path), "config", "check")
    assert code == 0 and "p@ss" not in out


def test_init_writes_a_starter_that_checks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert run_cli("init")[0] == 0
    code, out, _ = run_cli("config", "check")
    assert code == 0 and "environments: production, staging" in out
    code, _, err = run_cli("init")
    assert code == 2 and "already exists" in err
    config = parse_config_text((tmp_path / "cockpit.toml").read_text())
    assert config.change_window.weekday == "wednesday" and config.change_window.week == 3
    assert config.environments["staging"].rehearsal is True


def test_schema_is_json_schema_of_every_section() -> None:
    code, out, _ = run_cli("config", "schema")
    schema = json.loads(out)
    assert code == 0
    assert schema["$schema"].endswith("2020-12/schema")
    config = schema["$defs"]["Config"]
    assert set(config["properties"]) == {
        "database",
        "audit",
        "identity",
        "change_window",
        "windows",
        "extra_windows",
        "blackouts",
        "rehearsal",
        "roles",
        "environments",
        "notify",
    }
    assert config["additionalProperties"] is False
    env = schema["$defs"]["EnvironmentConfig"]["properties"]
    assert {"git", "kubernetes", "alembic", "aws", "metrics"} <= set(env)
