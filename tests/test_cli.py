"""The cockpit command end to end on a real workspace (SQLite, and PostgreSQL for verify)."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from cockpit.cli import main
from tests import tamper

CONFIG = """
[database]
url = "sqlite:///cockpit.db"
[audit]
checkpoint = "checkpoint.json"
[environments.staging]
rehearsal = true
[environments.production]
production = true
"""


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(list(argv), out=out)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "cockpit.toml").write_text(CONFIG)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COCKPIT_CONFIG", raising=False)
    monkeypatch.delenv("COCKPIT_DATABASE_URL", raising=False)
    return tmp_path


def new_release(version: str = "1.4.0", env: str = "staging") -> str:
    code, out, err = cli(
        "release", "new", "--env", env, "--version", version, "--t0", "2026-12-16T01:00", "--json"
    )
    assert code == 0, err
    return str(json.loads(out)["id"])


def test_release_new_list_show(workspace: Path) -> None:
    rid = new_release("v1.4.0")
    prod = new_release("1.3.2", "production")
    code, out, _ = cli("release", "show", rid, "--json")
    shown = json.loads(out)
    assert code == 0
    assert shown["version"] == "1.4.0" and shown["plan"] == "release"
    assert shown["environment"] == "staging" and shown["rehearsal"] is True
    assert shown["t0"] == "2026-12-16T01:00:00+09:00"  # the window's zone, Asia/Tokyo
    code, out, _ = cli("release", "list")
    assert code == 0 and rid in out and prod in out and "staging (R)" in out
    listed = json.loads(cli("release", "list", "--json")[1])
    assert [r["id"] for r in listed] == [rid, prod]
    assert listed[1]["rehearsal"] is False
    code, out, _ = cli(
        "release",
        "new",
        "--env",
        "staging",
        "--version",
        "1.4.1",
        "--t0",
        "2026-12-15T16:00Z",
        "--json",
    )
    assert code == 0 and json.loads(out)["t0"] == "2026-12-16T01:00:00+09:00"
    # A unique prefix is enough.
    assert json.loads(cli("release", "show", prod[2:6], "--json")[1])["id"] == prod


def test_global_options_after_the_command_and_the_one_open_release(
    workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cockpit.cli.entry import build_parser

    args = build_parser().parse_args(["open", "--config", "x.toml", "--ascii"])
    assert (args.config, args.ascii, args.lang) == ("x.toml", True, None)
    args = build_parser().parse_args(["--lang", "ja", "release", "list"])
    assert args.lang == "ja"  # given before the command, kept
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # no cockpit.toml here: --config after the command finds it
    code, _out, err = cli("release", "list", "--config", str(workspace / "cockpit.toml"))
    assert code == 0, err
    monkeypatch.chdir(workspace)
    code, _out, err = cli("rollback", "report")
    assert (code, err) == (2, "cockpit: which release? give RELEASE (none is open)\n")
    rid = new_release()
    code, _out, err = cli("rollback", "report")  # the one open release: it has no rollback
    assert (code, err) == (1, f"cockpit: release {rid}: no rollback recorded\n")
    code, _out, err = cli("preview", "t0.backup", "--json")
    assert code == 1 and "which release" not in err and "no region set" in err, err  # its step
    other = new_release("1.5.0")
    code, _out, err = cli("rollback", "report")
    assert code == 2 and f"({rid}, {other})" in err


def test_a_refusal_is_said_in_the_language_asked_for(workspace: Path) -> None:
    rid = new_release()
    assert cli("item", "done", rid, "t14.requirements")[0] == 0
    code, _out, err = cli("--lang", "ja", "item", "reopen", rid, "t14.requirements")
    assert (code, err) == (1, "cockpit: t14.requirements: 再オープンには理由が必要です\n")
    code, _out, err = cli("item", "reopen", rid, "t14.requirements", "--lang", "en")
    assert (code, err) == (1, "cockpit: t14.requirements: reopening needs a reason\n")


def test_release_show_json_has_each_phase(workspace: Path) -> None:
    rid = new_release()
    cli("item", "done", rid, "t14.requirements")
    shown = json.loads(cli("release", "show", rid, "--json")[1])
    t14 = shown["phases"][0]
    assert (t14["id"], t14["settled"], t14["items"]) == ("t-14", 1, len(t14["state"]))
    assert t14["state"][0]["item"] == "t14.requirements" and t14["state"][0]["status"] == "done"
    assert t14["state"][0]["by"] and t14["state"][1]["by"] is None
    assert t14["due"].startswith("2026-12-02T01:00")
    text = cli("release", "show", rid)[1]
    assert f"T-14  リリース内容確定  1/{t14['items']}" in text


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--env", "staging", "--version", "1.4", "--t0", "2026-12-16T01:00"],
            "cockpit: version '1.4': not a semantic version",
        ),
        (
            ["--env", "qa", "--version", "1.4.0", "--t0", "2026-12-16T01:00"],
            "cockpit: cockpit.toml: environment 'qa' is not configured "
            "(known: production, staging)",
        ),
        (
            ["--env", "staging", "--version", "1.4.0", "--t0", "next wednesday"],
            "cockpit: T-0 'next wednesday': use ISO 8601",
        ),
        (
            [
                "--env",
                "staging",
                "--version",
                "1.4.0",
                "--t0",
                "2026-12-16T01:00",
                "--plan",
                "Big!",
            ],
            "cockpit: Big!: no such plan file",
        ),
    ],
)
def test_release_new_bad_input(workspace: Path, argv: list[str], message: str) -> None:
    code, out, err = cli("release", "new", *argv)
    assert code == 2 and out == "" and err.startswith(message) and err.count("\n") == 1
    assert json.loads(cli("release", "list", "--json")[1]) == []


def test_note_is_an_event_of_the_release(workspace: Path) -> None:
    rid = new_release()
    code, out, _ = cli("note", "--release", rid, "paged", "the", "DBA")
    assert code == 0 and out.startswith("noted as #2 by ")
    assert cli("note", "no release")[0] == 0
    shown = json.loads(cli("release", "show", rid, "--json")[1])
    assert [n["text"] for n in shown["notes"]] == ["paged the DBA"]
    code, out, _ = cli("audit", "tail", "-n", "2")
    lines = out.splitlines()
    assert len(lines) == 2 and '"paged the DBA"' in lines[0] and "[R]" in lines[0]
    assert '"no release"' in lines[1]


def test_export_formats(workspace: Path) -> None:
    rid = new_release()
    cli("note", "--release", rid, "a | pipe")
    cli("note", "unrelated")
    code, out, _ = cli("audit", "export", "--format", "jsonl", "--release", rid)
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [r["action"] for r in records] == ["release.created", "note"]
    assert records[1]["reason"] == "a | pipe" and len(records[1]["hash"]) == 64
    rows = list(csv.DictReader(io.StringIO(cli("audit", "export", "--format", "csv")[1])))
    assert [r["seq"] for r in rows] == ["1", "2", "3"] and rows[0]["rehearsal"] == "true"
    md = cli("audit", "export", "--format", "md", "--release", rid)[1]
    assert "| 2 |" in md and "a \\| pipe" in md and "unrelated" not in md
    cli("audit", "export", "--format", "md", "-o", "report.md")
    assert "unrelated" in (workspace / "report.md").read_text()


def test_verify_exit_codes_and_findings(workspace: Path) -> None:
    rid = new_release()
    for i in range(4):
        cli("note", "--release", rid, f"n{i}")
    code, out, _ = cli("audit", "verify")
    assert code == 0 and out.startswith("audit chain ok: 5 events, head #5")
    assert "matches checkpoint seq 5" in out
    from cockpit.store import Store

    store = Store(f"sqlite:///{workspace / 'cockpit.db'}")
    tamper.rewrite(store, 3, rehash=False, reason="edited")
    code, out, _ = cli("audit", "verify")
    assert code == 1
    assert (
        out == "audit chain BROKEN: HASH_MISMATCH at seq 3: "
        "the record does not match its hash: it was edited\n"
    )
    result = json.loads(cli("audit", "verify", "--json")[1])
    assert result["ok"] is False and result["finding"]["code"] == "HASH_MISMATCH"
    assert result["finding"]["seq"] == 3


def test_verify_with_explicit_checkpoint(workspace: Path) -> None:
    new_release()
    cli("note", "x")
    saved = workspace / "saved-checkpoint.json"
    saved.write_bytes((workspace / "checkpoint.json").read_bytes())
    from cockpit.store import Store

    tamper.run(
        Store(f"sqlite:///{workspace / 'cockpit.db'}"),
        "DELETE FROM events WHERE seq = 2",
        "UPDATE chain_head SET seq = 1, hash = (SELECT hash FROM events WHERE seq = 1)",
    )
    (workspace / "checkpoint.json").unlink()
    code, out, _ = cli("audit", "verify")
    assert code == 0 and "no checkpoint" in out
    code, out, _ = cli("audit", "verify", "--checkpoint", str(saved))
    assert code == 1 and "TRUNCATED at seq 2" in out
    code, _, err = cli("audit", "verify", "--checkpoint", "missing.json")
    assert code == 2 and err == "cockpit: missing.json: no such checkpoint file\n"


def test_db_commands(workspace: Path) -> None:
    code, out, _ = cli("db", "current")
    assert code == 1 and "none (empty database)" in out
    code, out, _ = cli("db", "upgrade")
    assert code == 0 and "upgraded empty -> 0004" in out
    code, out, _ = cli("db", "current")
    assert code == 0 and "revision 0004, up to date" in out


def test_demo_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COCKPIT_CONFIG", raising=False)
    demo = tmp_path / "demo"
    result = subprocess.run(
        [sys.executable, "-m", "cockpit", "demo", "--dir", str(demo)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "REHEARSAL" in result.stdout and "audit chain ok: 2 events" in result.stdout
    assert "(tags: v1.2.0, v1.3.0, v1.3.2)" in result.stdout
    tags = subprocess.run(["git", "-C", str(demo / "app"), "tag"], capture_output=True, text=True)
    assert tags.stdout.split() == ["v1.2.0", "v1.3.0", "v1.3.2"]
    log = subprocess.run(
        ["git", "-C", str(demo / "app"), "log", "--oneline"], capture_output=True, text=True
    )
    assert len(log.stdout.splitlines()) == 11
    monkeypatch.setenv("COCKPIT_CONFIG", str(demo / "cockpit.toml"))
    releases = json.loads(cli("release", "list", "--json")[1])
    assert [(r["version"], r["environment"], r["rehearsal"]) for r in releases] == [
        ("1.4.0", "staging", True)
    ]
    # Its T-0 opens a real window of the release plan, at least 14 days ahead.
    from datetime import UTC, datetime, timedelta

    from cockpit.config import load_config
    from cockpit.schedule import slot_at

    t0 = datetime.fromisoformat(releases[0]["t0"])
    slot = slot_at(load_config(str(demo / "cockpit.toml")).config, "release", t0)
    assert slot is not None and slot.window.start == t0
    assert t0 >= datetime.now(UTC) + timedelta(days=13)
    again = subprocess.run(
        [sys.executable, "-m", "cockpit", "demo", "--dir", str(demo)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert again.returncode == 2 and "not empty" in again.stderr


def test_no_traceback_on_an_unreachable_database(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COCKPIT_DATABASE_URL", "postgresql+psycopg://app@127.0.0.1:9/none")
    monkeypatch.setenv("COCKPIT_DATABASE_PASSWORD", "s3cret")
    code, out, err = cli("release", "list")
    assert code == 1 and out == "" and err.count("\n") == 1
    assert err.startswith(
        "cockpit: postgresql+psycopg://app:***@127.0.0.1:9/none: database unavailable"
    )
    assert "s3cret" not in err


def test_release_close_and_cancel(workspace: Path) -> None:
    first, second = new_release(), new_release("1.4.1")
    assert cli("release", "close", first) == (
        0,
        f"release {first} closed\n"
        f"its report: cockpit release report {first} --format html --out FILE\n",
        "",
    )
    code, _, err = cli("release", "cancel", second)
    assert code == 2 and "needs --reason" in err
    assert cli("release", "cancel", second, "--reason", "superseded by 1.4.2")[0] == 0
    code, _, err = cli("release", "close", first)
    assert code == 2 and "already closed" in err
    statuses = {r["id"]: r["status"] for r in json.loads(cli("release", "list", "--json")[1])}
    assert statuses == {first: "closed", second: "cancelled"}
    # Nothing more can be decided on a closed release.
    code, _, err = cli("item", "done", first, "t14.requirements")
    assert code == 1 and f"release {first} is closed" in err


def test_command_line_paths_are_relative_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--repo, -o and --checkpoint are the working directory's; cockpit.toml's are its own."""
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "cockpit.toml").write_text(CONFIG + '[environments.staging.git]\nrepo = "confrepo"\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COCKPIT_CONFIG", raising=False)
    monkeypatch.delenv("COCKPIT_DATABASE_URL", raising=False)
    app = tmp_path / "app"
    app.mkdir()
    git = ["git", "-C", str(app), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "feat: one"], check=True)
    code, out, err = cli(
        "--config",
        "conf/cockpit.toml",
        "tag",
        "--env",
        "staging",
        "--repo",
        "app",
        "--dry-run",
        "--json",
    )
    assert "Traceback" not in err and code in (0, 1), err
    assert json.loads(out)["repo"] == str(app)
    # Without --repo, the environment's repository is relative to the config file.
    code, out, err = cli("--config", "conf/cockpit.toml", "tag", "--env", "staging", "--dry-run")
    assert "conf/confrepo: not a git repository" in err
    code, _, err = cli(
        "--config",
        "conf/cockpit.toml",
        "release",
        "new",
        "--env",
        "staging",
        "--version",
        "1.0.0",
        "--t0",
        "2026-12-16T01:00",
    )
    assert code == 0, err
    assert (conf / "checkpoint.json").exists() and (conf / "cockpit.db").exists()
    code, _, err = cli("--config", "conf/cockpit.toml", "audit", "export", "-o", "out.jsonl")
    assert code == 0, err
    assert (tmp_path / "out.jsonl").exists() and not (conf / "out.jsonl").exists()
    code, out, err = cli(
        "--config", "conf/cockpit.toml", "audit", "verify", "--checkpoint", "conf/checkpoint.json"
    )
    assert code == 0, err
    assert "matches checkpoint seq 1" in out
