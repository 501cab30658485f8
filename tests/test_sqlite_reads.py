"""Reading a SQLite log goes through the standard library's driver (cockpit/sqliteread.py):
the same rows as through the engine, one snapshot per read, and no SQLAlchemy import for an
operator who only looks (the dashboard, `release list`, `audit verify`)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from cockpit.events import NewEvent
from cockpit.operator import Operator
from cockpit.store import Store
from tests.test_cli import CONFIG, cli, new_release

REPO = Path(__file__).resolve().parent.parent

# Runs cockpit commands in one fresh process and says, after each, whether SQLAlchemy (or
# Alembic) has been imported so far.
PROBE = """
import contextlib, io, json, sys
from cockpit.cli import main
seen = []
for argv in json.loads(sys.argv[1]):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(argv, out=out)
    seen.append([argv, code, "sqlalchemy" in sys.modules, "alembic" in sys.modules, err.getvalue()])
print(json.dumps(seen))
"""


def probe(cwd: Path, *commands: list[str]) -> list[list[object]]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(list(commands))],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "HOME": str(cwd)},
    )
    return list(json.loads(result.stdout))


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    (tmp_path / "cockpit.toml").write_text(CONFIG)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COCKPIT_CONFIG", raising=False)
    monkeypatch.delenv("COCKPIT_DATABASE_URL", raising=False)
    rid = new_release("1.4.0")
    code, _out, err = cli("note", "--release", rid, "window agreed with the DBA team")
    assert code == 0, err
    return tmp_path, rid


def test_reading_commands_never_import_sqlalchemy(workspace: tuple[Path, str]) -> None:
    root, rid = workspace
    seen = probe(
        root,
        ["release", "list"],
        ["release", "show", rid],
        ["audit", "verify"],
        ["audit", "tail", "-n", "5"],
        ["window", "list"],
        ["plan", "show"],
        # The first write loads the engine: the probe sees an import when there is one.
        ["note", "--release", rid, "go/no-go at 00:30"],
    )
    *reads, write = seen
    for argv, code, sqlalchemy, alembic, err in reads:
        assert code == 0, (argv, err)
        assert not sqlalchemy and not alembic, argv
    assert write[1] == 0 and write[2] is True, write


def test_opening_the_dashboard_to_look_imports_no_sqlalchemy(
    workspace: tuple[Path, str],
) -> None:
    root, rid = workspace
    code = textwrap.dedent(
        f"""
        import asyncio, sys
        from cockpit.session import Session
        from screens.app import CockpitApp

        async def main():
            app = CockpitApp(Session(lang="en"), refresh_seconds=3600)
            async with app.run_test(size=(100, 30)) as pilot:
                for _ in range(300):
                    await pilot.pause(0.02)
                    screen = app.screen
                    if getattr(screen, "releases", None) and getattr(screen, "verified", None):
                        break
                await app.workers.wait_for_complete()
                await pilot.pause(0.2)
                shown = [r.id for r in app.screen.releases]
                loaded = [m in sys.modules for m in ("sqlalchemy", "alembic", "yaml")]
                print(shown == [{rid!r}], *loaded)

        asyncio.run(main())
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "HOME": str(root)},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    # Nor PyYAML: the shipped plan is read from its frozen data (cockpit/plan/frozen.py).
    assert result.stdout.split() == ["True", "False", "False", "False"], result.stdout


def test_the_standard_driver_reads_what_the_engine_reads(tmp_path: Path) -> None:
    path = tmp_path / "cockpit.db"
    writer = Store(f"sqlite:///{path}").open()
    alice = Operator.fixed("alice", "bastion-1")
    for n in range(30):
        writer.append(
            NewEvent(
                action="note.added",
                release_id="r-1" if n % 2 else "r-2",
                reason=f"note {n}: ログ {n}",
                details={"n": n, "nested": {"ok": True}},
            ),
            alice,
        )
    plain = Store(f"sqlite:///{path}")
    # A URI is read through the engine (sqliteread reads plain paths only).
    engine = Store(f"sqlite:///file:{path}?uri=true")
    assert plain.head() == engine.head() == writer.head()
    assert plain.rows() == engine.rows()
    for query in (
        {},
        {"release_id": "r-1"},
        {"after_seq": 10, "limit": 5},
        {"last": 4, "release_id": "r-2"},
        {"actions": ("note.added", "release.created")},
    ):
        assert plain.events(**query) == engine.events(**query), query  # type: ignore[arg-type]
    assert plain.current_revision() == engine.current_revision() is not None
    assert plain.verify().ok
    writer.close()
    engine.close()


def test_one_read_sees_one_state_of_the_log(tmp_path: Path) -> None:
    # Reads in one read_with see the log as it was at their first statement, whatever is
    # appended meanwhile (a dashboard's load and its verify of what is new agree).
    url = f"sqlite:///{tmp_path / 'cockpit.db'}"
    writer, reader = Store(url).open(), Store(url)
    alice = Operator.fixed("alice", "bastion-1")
    writer.append(NewEvent(action="note.added", reason="first"), alice)

    def read(cursor: object, mark: str) -> tuple[int, int, int]:
        cursor.execute("SELECT count(*) FROM events")  # type: ignore[attr-defined]
        before = cursor.fetchone()[0]  # type: ignore[attr-defined]
        writer.append(NewEvent(action="note.added", reason="second"), alice)
        cursor.execute("SELECT count(*) FROM events")  # type: ignore[attr-defined]
        during = cursor.fetchone()[0]  # type: ignore[attr-defined]
        return before, during, writer.head()[0]

    before, during, head = reader.read_with(read)
    assert (before, during, head) == (1, 1, 2)
    assert reader.head()[0] == 2  # the next read sees it
    writer.close()


def test_a_file_that_is_not_a_database_is_said_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "cockpit.toml").write_text(CONFIG)
    (tmp_path / "cockpit.db").write_bytes(b"\x00garbage, not SQLite\n" * 200)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COCKPIT_CONFIG", raising=False)
    monkeypatch.delenv("COCKPIT_DATABASE_URL", raising=False)
    code, out, err = cli("release", "list")
    assert code == 1 and out == ""
    assert err.splitlines() == [
        "cockpit: the database cannot be used (file is not a database): check the database URL "
        "(`cockpit config check` shows it)"
    ]


@pytest.mark.parametrize("lang", ["en", "ja"])
async def test_a_log_that_becomes_unreadable_is_said_on_screen_not_a_blank_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, lang: str
) -> None:
    # The disk under the log fails while the cockpit is open (its header overwritten): the
    # screens say so in one line and keep what they showed; the audit line stops vouching.
    from screens.audit import AuditScreen
    from screens.dashboard import DashboardScreen
    from tests.appfixture import make_app, screen_text, settle

    app = make_app(monkeypatch, tmp_path, lang)
    said = {"en": "file is not a database", "ja": "file is not a database"}[lang]
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            assert isinstance(app.screen, DashboardScreen)
            shown = screen_text(app)
            assert "1.4.0" in shown
            log = tmp_path / "cockpit.db"
            log.write_bytes(b"not SQLite any more " * (log.stat().st_size // 20 + 1))
            for beside in ("cockpit.db-wal", "cockpit.db-shm"):
                (tmp_path / beside).unlink(missing_ok=True)
            app.screen.reload()
            await settle(pilot)
            messages = [n.message for n in app._notifications]
            assert len(messages) == 1 and said in messages[0], messages
            assert "1.4.0" in screen_text(app)  # what was read stays
            app.screen.verifying = True  # (a verify as the log grows)
            app.screen.verify_chain()
            await settle(pilot)
            assert said in app.screen.chain
            app.screen.reload()  # still unreadable: said once, not at every tick
            await settle(pilot)
            assert len(app._notifications) == 1
            await pilot.press("l")
            await settle(pilot)
            assert isinstance(app.screen, AuditScreen)
            assert any(said in n.message for n in app._notifications)
    finally:
        app.session.store.close()
