"""Every bad input is one line on stderr and exit 2 (bad input) or 1 (refusal), never a traceback,
never exit 70, and nothing is written: plans, configs, command-line arguments and database URLs.

Each case runs the real ``cockpit`` entry point on a copy of one workspace (built like
tests/test_cli.py's) holding one release; ``{rid}`` in an argument is that release's id.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cockpit.cli import main
from tests.test_cli import CONFIG

START = ("release", "new", "--env", "staging", "--version", "1.4.0", "--t0")
NEW = (*START[:-1], "--t0", "2026-12-16T01:00")

PLAN_FILES = {
    "broken.yaml": b"name: broken\nphases: [\n",
    "empty.yaml": b"",
    "list.yaml": b"- one\n- two\n",
    "tabs.yaml": b"name: tabs\n\tphases: []\n",
    "huge.yaml": b"# " + b"x" * 1_100_000 + b"\n",
    "binary.bin": bytes(range(256)) * 4,
    "text.txt": b"hello, not a plan, a config or a database\n",
    "empty.json": b"",
    "badcheck.json": b'{"seq": -1, "hash": 5}',
}
CONFIG_FILES = {
    "c-broken.toml": "[database\n",
    "c-type.toml": "[database]\nurl = 5\n",
    "c-unknown.toml": '[databse]\nurl = "sqlite:///x.db"\n',
    "c-unknown-env-key.toml": "[environments.staging]\nrehersal = true\n",
    "c-bool.toml": '[environments.x]\nrehearsal = "yes"\n',
    "c-zone.toml": '[change_window]\ntimezone = "Mars/Base"\n',
    "c-url.toml": '[database]\nurl = "nonsense"\n',
    "c-url-scheme.toml": '[database]\nurl = "http://example.com/db"\n',
    "c-url-port.toml": '[database]\nurl = "postgresql+psycopg://u@[::1:1/db"\n',
    "c-nan.toml": "[audit]\ncheckpoint = nan\n",
    "c-url-password.toml": '[database]\nurl = "postgresql+psycopg://u:secret@127.0.0.1:1/db"\n',
    "c-check-token.toml": (
        '[environments.staging]\nrehearsal = true\napp_url = "https://x.example/?token=t"\n'
    ),
}

CASES: list[tuple[str, list[str], int]] = [
    # unknown release and item ids, for every command that takes them
    ("release show", ["release", "show", "NOPE"], 2),
    ("release close", ["release", "close", "NOPE"], 2),
    ("release cancel", ["release", "cancel", "NOPE", "--reason", "x"], 2),
    ("note --release", ["note", "--release", "NOPE", "hi"], 2),
    ("item done release", ["item", "done", "NOPE", "t14.requirements"], 2),
    ("item done item", ["item", "done", "{rid}", "t0.nope"], 2),
    ("item skip item", ["item", "skip", "{rid}", "t0.nope", "--reason", "x"], 2),
    ("item attach release", ["item", "attach", "NOPE", "t0.deploy"], 2),
    ("item attach item", ["item", "attach", "{rid}", "t0.nope"], 2),
    ("item cancel item", ["item", "cancel", "{rid}", "t0.nope", "--reason", "x"], 2),
    ("item bad action", ["item", "frobnicate", "{rid}", "t0.deploy"], 2),
    ("preview item", ["preview", "{rid}", "t0.nope"], 2),
    ("preview release", ["preview", "NOPE", "t0.deploy"], 2),
    ("rollback plan", ["rollback", "plan", "NOPE"], 2),
    ("rollback run", ["rollback", "run", "NOPE", "--reason", "x", "--yes"], 2),
    ("rollback skip item", ["rollback", "skip", "{rid}", "t0.nope", "--reason", "x"], 2),
    ("rollback skip release", ["rollback", "skip", "NOPE", "t0.deploy", "--reason", "x"], 2),
    ("rollback report", ["rollback", "report", "NOPE"], 2),
    ("audit export --release", ["audit", "export", "--release", "NOPE"], 2),
    ("audit tail --release", ["audit", "tail", "--release", "NOPE"], 2),
    ("tag --release", ["tag", "--release", "NOPE", "--dry-run"], 2),
    ("open --release", ["open", "--release", "NOPE"], 2),
    # versions, times, environments, plans by name
    ("version words", [*START[:4], "--version", "1.x", "--t0", "2026-12-16T01:00"], 2),
    ("version empty", [*START[:4], "--version", "", "--t0", "2026-12-16T01:00"], 2),
    ("version leading 0", [*START[:4], "--version", "01.2.3", "--t0", "2026-12-16T01:00"], 2),
    ("t0 words", [*START, "yesterday"], 2),
    ("t0 month 13", [*START, "2026-13-40T01:00"], 2),
    ("t0 empty", [*START, ""], 2),
    ("env unknown", ["release", "new", "--env", "nope", "--version", "1.0.0", "--t0", "x"], 2),
    ("plan unknown", [*NEW, "--plan", "nope"], 2),
    ("plan binary", [*NEW, "--plan", "binary.bin"], 2),
    ("tag env unknown", ["tag", "--env", "nope", "--dry-run"], 2),
    ("tag no env", ["tag", "--dry-run"], 2),
    ("tag bad bump", ["tag", "--env", "staging", "--bump", "huge"], 2),
    # numbers
    ("tail negative", ["audit", "tail", "-n", "-3"], 2),
    ("tail negative long", ["audit", "tail", "--lines=-1"], 2),
    ("tail huge", ["audit", "tail", "-n", "99999999999999999999"], 2),
    ("tail words", ["audit", "tail", "-n", "abc"], 2),
    ("tail fraction", ["audit", "tail", "-n", "1.5"], 2),
    ("export format", ["audit", "export", "--format", "xml"], 2),
    # files: output, checkpoint, notes, init, demo
    ("export -o no dir", ["audit", "export", "-o", "missing/x.jsonl"], 2),
    ("export -o dir", ["audit", "export", "-o", "adir"], 2),
    ("export -o unwritable", ["audit", "export", "-o", "/proc/cockpit-x.jsonl"], 2),
    ("report --out no dir", ["rollback", "report", "{rid}", "--out", "missing/r.md"], 2),
    ("report --out dir", ["rollback", "report", "{rid}", "--out", "adir"], 2),
    ("checkpoint missing", ["audit", "verify", "--checkpoint", "missing.json"], 2),
    ("checkpoint binary", ["audit", "verify", "--checkpoint", "binary.bin"], 2),
    ("checkpoint dir", ["audit", "verify", "--checkpoint", "adir"], 2),
    ("checkpoint text", ["audit", "verify", "--checkpoint", "text.txt"], 2),
    ("checkpoint empty", ["audit", "verify", "--checkpoint", "empty.json"], 2),
    ("checkpoint bad fields", ["audit", "verify", "--checkpoint", "badcheck.json"], 2),
    ("notes missing", ["tag", "--env", "staging", "--notes", "missing.md", "--dry-run"], 2),
    ("notes binary", ["tag", "--env", "staging", "--notes", "binary.bin", "--dry-run"], 2),
    ("notes dir", ["tag", "--env", "staging", "--notes", "adir", "--dry-run"], 2),
    ("init no dir", ["init", "--path", "missing/c.toml"], 2),
    ("init dir", ["init", "--path", "adir"], 2),
    ("init exists", ["init", "--path", "cockpit.toml"], 2),
    ("demo dir is file", ["demo", "--dir", "text.txt", "--no-tui"], 2),
    ("demo dir not empty", ["demo", "--dir", "adir", "--no-tui"], 2),
    # plans
    ("validate missing", ["plan", "validate", "missing.yaml"], 2),
    ("validate binary", ["plan", "validate", "binary.bin"], 2),
    ("validate huge", ["plan", "validate", "huge.yaml"], 2),
    ("validate broken", ["plan", "validate", "broken.yaml"], 2),
    ("validate empty", ["plan", "validate", "empty.yaml"], 2),
    ("validate list", ["plan", "validate", "list.yaml"], 2),
    ("validate tabs", ["plan", "validate", "tabs.yaml"], 2),
    ("validate dir", ["plan", "validate", "adir"], 2),
    ("validate nothing", ["plan", "validate"], 2),
    ("show unknown", ["plan", "show", "nope"], 2),
    # configs
    *[
        (f"config {name}", ["--config", name, "config", "check"], 2)
        for name in sorted(CONFIG_FILES)
    ],
    ("config missing", ["--config", "missing.toml", "config", "check"], 2),
    ("config binary", ["--config", "binary.bin", "config", "check"], 2),
    ("config dir", ["--config", "adir", "release", "list"], 2),
    # the command line itself
    ("unknown command", ["bogus"], 2),
    ("unknown option", ["release", "list", "--bogus"], 2),
    ("missing option", ["release", "new", "--version", "1.0.0", "--t0", "x"], 2),
    ("bad language", ["--lang", "xx", "release", "list"], 2),
]

# Database URLs in COCKPIT_DATABASE_URL: the command refuses (1) or the URL is bad input (2).
DB_URLS = [
    ("malformed", "nonsense", 1),
    ("bad port", "postgresql+psycopg://u@[::1:1/db", 1),
    ("no such dialect", "http://example.com/db", 1),
    ("missing driver", "mysql://u@127.0.0.1:1/db", 1),
    ("a directory", "sqlite:///adir", 1),
    ("a text file", "sqlite:///text.txt", 1),
    ("a binary file", "sqlite:///binary.bin", 1),
    ("closed port", "postgresql+psycopg://u:p@127.0.0.1:1/db", 1),
    ("a credential in the query", "postgresql+psycopg://u@127.0.0.1:1/db?password=x", 2),
]
# `audit verify` opens the log read-only and never creates one: a URL naming no log there is
# bad input (2), where the other commands fail to open it (1).
VERIFY_EXPECTED = {"sqlite:///adir": 2}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    root = tmp_path_factory.mktemp("bad-inputs")
    (root / "cockpit.toml").write_text(CONFIG)
    for name, data in PLAN_FILES.items():
        (root / name).write_bytes(data)
    for name, text in CONFIG_FILES.items():
        (root / name).write_text(text)
    (root / "adir").mkdir()
    (root / "adir" / "keep").write_text("x")
    old = Path.cwd()
    saved = {k: os.environ.pop(k, None) for k in ("COCKPIT_CONFIG", "COCKPIT_DATABASE_URL")}
    os.chdir(root)
    try:
        code, out, err = run_main(*NEW, "--json")
        assert code == 0, err
        yield root, str(json.loads(out)["id"])
    finally:
        os.chdir(old)
        os.environ.update({k: v for k, v in saved.items() if v is not None})


@pytest.fixture
def workspace(
    template: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, str]:
    root = tmp_path / "ws"
    shutil.copytree(template[0], root)
    monkeypatch.chdir(root)
    monkeypatch.delenv("COCKPIT_CONFIG", raising=False)
    monkeypatch.delenv("COCKPIT_DATABASE_URL", raising=False)
    return root, template[1]


def run_main(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    logger = logging.getLogger("cockpit")
    saved = logger.handlers[:]
    logger.handlers.clear()  # main() adds its handler on the stderr of this call
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            code = main(list(argv), out=out)
    finally:
        logger.handlers[:] = saved
    return code, out.getvalue(), err.getvalue()


def event_count(root: Path) -> int:
    with contextlib.closing(sqlite3.connect(root / "cockpit.db")) as db:
        return int(db.execute("SELECT count(*) FROM events").fetchone()[0])


def files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if "cockpit.db" not in p.name}


def assert_refused(code: int, err: str, expected: int) -> None:
    assert code == expected, err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("cockpit: "), err
    assert "Traceback" not in err and "internal error" not in err, err


@pytest.mark.parametrize(
    ("argv", "expected"), [pytest.param(a, c, id=name) for name, a, c in CASES]
)
def test_bad_input_is_one_line_and_changes_nothing(
    workspace: tuple[Path, str], argv: list[str], expected: int
) -> None:
    root, rid = workspace
    before, present = event_count(root), files(root)
    code, _, err = run_main(*(a.replace("{rid}", rid) for a in argv))
    assert_refused(code, err, expected)
    assert event_count(root) == before
    assert files(root) == present


@pytest.mark.parametrize(
    ("url", "expected"), [pytest.param(u, c, id=name) for name, u, c in DB_URLS]
)
@pytest.mark.parametrize("command", [["release", "list"], ["audit", "verify"]])
def test_bad_database_url(
    workspace: tuple[Path, str],
    monkeypatch: pytest.MonkeyPatch,
    url: str,
    expected: int,
    command: list[str],
) -> None:
    root, _ = workspace
    before, present = event_count(root), files(root)
    monkeypatch.setenv("COCKPIT_DATABASE_URL", url)
    code, _, err = run_main(*command)
    if command == ["audit", "verify"]:
        expected = VERIFY_EXPECTED.get(url, expected)
    assert_refused(code, err, expected)
    assert event_count(root) == before
    assert files(root) == present


def test_bad_inputs_cover_enough() -> None:
    assert len(CASES) + 2 * len(DB_URLS) >= 60


@pytest.mark.parametrize(
    "argv",
    [
        ["preview", "{rid}", "t0.nope"],
        ["audit", "tail", "-n", "-3"],
        ["audit", "export", "-o", "missing/x.jsonl"],
        ["bogus"],
    ],
)
def test_bad_input_in_a_real_process(workspace: tuple[Path, str], argv: list[str]) -> None:
    root, rid = workspace
    done = run_process(root, *(a.replace("{rid}", rid) for a in argv))
    assert_refused(done.returncode, done.stderr, 2)


def run_process(root: Path, *argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``python -m cockpit ARGV`` in ``root``, this checkout first on the path, with ``env``."""
    environ = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1]), **env}
    return subprocess.run(
        [sys.executable, "-m", "cockpit", *argv],
        cwd=root,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )
