"""Followers see everything live: the waker (LISTEN/NOTIFY on PostgreSQL, a poll on SQLite) and a
running step's output in the database, read by a follower on another host (real PostgreSQL, real
supervisors and steps, a real tmux; "another host" is a UTS and mount namespace with its own
hostname, where the driver's spool directory is an empty tmpfs)."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from cockpit.checklist import Status
from cockpit.events import NewEvent
from cockpit.follow import Changes, PostgresWaker, SqliteWaker, Waker, waker_for
from cockpit.operator import Operator
from cockpit.stepoutput import CHUNK_BYTES, OutputRecorder, read_output
from cockpit.store import Store
from tests.services import _pg_bin
from tests.test_deploy import PLAN, World, _wait_for, app_port  # noqa: F401 (fixture)
from tests.test_e2e_tmux import Tmux, tmux  # noqa: F401 (fixture)

alice = Operator.fixed("alice", "bastion-1")
SECRET = "s3cr3t-4242-value"
QUICK = "- echo run >> runs.log; echo {version} > version.txt; echo deployed {version}"
LINES = 6


def _note(store: Store, release_id: str | None = "r-follow", text: str = "hello") -> int:
    return store.append(NewEvent(action="note", release_id=release_id, reason=text), alice).seq


def _dsn(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _insert_output(store: Store, release_id: str, intent_seq: int, chunk: int, text: str) -> None:
    from sqlalchemy import text as sql

    with store.engine.begin() as conn:
        conn.execute(
            sql(
                "INSERT INTO step_output (release_id, intent_seq, chunk, item_id, written_at, "
                "text) VALUES (:r, :s, :c, 't0.x', '2026-01-01T00:00:00Z', :t)"
            ),
            {"r": release_id, "s": intent_seq, "c": chunk, "t": text},
        )


def _wait_until(waker: Waker, ok: object, seconds: float) -> Changes:
    """The changes the waker reports until ``ok(changes)`` (merged), within ``seconds``."""
    seen = Changes()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        seen = seen.merged(waker.wait(max(0.0, deadline - time.monotonic())))
        if ok(seen):  # type: ignore[operator]
            return seen
    raise AssertionError(f"the waker said only {seen} within {seconds} s")


# --- the waker ---------------------------------------------------------------------------------


def _note_later(store: Store, release_id: str, appended: list[float]) -> None:
    time.sleep(0.1)
    _note(store, release_id)
    appended.append(time.monotonic())


@pytest.mark.postgres
def test_postgres_waker_wakes_within_a_fraction_of_a_second_of_an_append_elsewhere(
    pg_url: str,
) -> None:
    writer = Store(pg_url).open()
    with waker_for(pg_url) as waker:
        assert isinstance(waker, PostgresWaker)
        assert not waker.wait(0.2)  # nothing happened: nothing to say, after the timeout
        for n in range(5):
            appended: list[float] = []
            thread = threading.Thread(target=_note_later, args=(writer, f"r-{n}", appended))
            thread.start()
            changes = waker.wait(5.0)
            woke = time.monotonic()
            thread.join()
            assert changes.releases == {f"r-{n}"} and not changes.everything
            assert woke - appended[0] < 0.5, f"woke {woke - appended[0]:.3f} s after the append"
        _insert_output(writer, "r-9", 7, 0, "a line\n")
        assert _wait_until(waker, lambda c: c.output_of("r-9", 7), 2.0).outputs == {("r-9", 7)}
    writer.close()


def _terminate_followers(admin_url: str, url: str) -> int:
    """Kill the follower connections to ``url``'s database (from the server's own database)."""
    with psycopg.connect(_dsn(admin_url), autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = 'cockpit follower' AND datname = %s",
            (url.rsplit("/", 1)[1],),
        ).fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.postgres
def test_postgres_waker_reconnects_after_its_connection_is_killed_and_after_a_restart(
    pg_admin_url: str, pg_url: str
) -> None:
    writer = Store(pg_url).open()
    with waker_for(pg_url) as waker:
        assert isinstance(waker, PostgresWaker)
        assert _terminate_followers(pg_admin_url, pg_url) == 1
        # Notifications sent while it was gone are lost: it says so ("everything").
        assert _wait_until(waker, lambda c: c.everything, 5.0)
        assert waker.reconnects == 1
        _note(writer)
        assert _wait_until(waker, lambda c: "r-follow" in c.releases, 2.0)

        # The server itself restarts (pg_ctl restart, fast shutdown).
        with psycopg.connect(_dsn(pg_admin_url), autocommit=True) as conn:
            row = conn.execute("SHOW data_directory").fetchone()
        assert row is not None
        data = Path(row[0])
        as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        log = str(data.parent / "server.log")
        subprocess.run(
            [*as_postgres, _pg_bin("pg_ctl"), "-D", str(data), "-l", log, "-m", "fast", "restart"],
            check=True,
            capture_output=True,
            timeout=60,
        )
        assert _wait_until(waker, lambda c: c.everything, 15.0)
        writer.close()
        writer = Store(pg_url).open()  # the old pool's connections died with the server
        _note(writer)
        assert _wait_until(waker, lambda c: "r-follow" in c.releases, 2.0)
    writer.close()


@pytest.mark.postgres
def test_postgres_waker_backs_off_while_the_database_refuses_it_never_spinning(
    pg_admin_url: str, pg_url: str
) -> None:
    name = pg_url.rsplit("/", 1)[1]
    with waker_for(pg_url) as waker, psycopg.connect(_dsn(pg_admin_url), autocommit=True) as admin:
        assert isinstance(waker, PostgresWaker)
        admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
        try:
            assert _terminate_followers(pg_admin_url, pg_url) == 1
            cpu, began = time.process_time(), time.monotonic()
            while time.monotonic() - began < 3.0:
                assert not waker.wait(3.0 - (time.monotonic() - began))  # nothing to say
            # Tried again after 0.5 s, then 1 s, then 2 s later: three times at most.
            assert 2 <= waker.attempts - 1 <= 3, waker.attempts
            assert time.process_time() - cpu < 0.5  # asleep, not spinning
        finally:
            admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')
        assert _wait_until(waker, lambda c: c.everything, 10.0)


def test_sqlite_waker_sees_another_connection_append_and_write_output(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cockpit.db'}"
    writer = Store(url).open()
    with waker_for(url) as waker:
        assert isinstance(waker, SqliteWaker)
        assert not waker.wait(0.3)
        began = time.monotonic()
        _note(writer, "r-a")
        _note(writer, None)
        changes = _wait_until(waker, lambda c: c.releases == {"r-a", ""}, 2.0)
        assert time.monotonic() - began < 1.0 and not changes.outputs
        _insert_output(writer, "r-a", 1, 0, "x\n")
        assert _wait_until(waker, lambda c: bool(c.outputs), 2.0).outputs == {("r-a", 1)}
        assert not waker.wait(0.3)  # said once
    writer.close()


def test_a_waker_closed_from_another_thread_stops_waiting_at_once(
    db_url: str, store: Store
) -> None:
    for waker in (waker_for(db_url), waker_for("sqlite:///:memory:")):
        threading.Timer(0.2, waker.close).start()
        began = time.monotonic()
        assert not waker.wait(30.0)
        assert time.monotonic() - began < 1.0 and waker.closed
        assert not waker.wait(30.0)  # closed: returns at once, every time
        waker.close()  # twice is fine


# --- step output in the database ---------------------------------------------------------------


def test_output_is_batched_capped_with_one_truncated_line_and_never_blocks_the_step(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'cockpit.db'}"
    store = Store(url).open()
    intent = _note(store, "r-out")
    recorder = OutputRecorder(
        store, "r-out", "t0.x", find_intent=lambda: intent, cap_bytes=20_000, mask=str.upper
    )
    # Someone holds the database's write lock: adding lines must not wait for it.
    import sqlite3

    holder = sqlite3.connect(tmp_path / "cockpit.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    slowest = 0.0
    recorder.add("before the intent")  # kept until the intent is recorded
    recorder.intent_recorded()
    for n in range(1000):
        began = time.monotonic()
        recorder.add(f"line {n:04d} " + "x" * 40)
        slowest = max(slowest, time.monotonic() - began)
    assert slowest < 0.05
    time.sleep(0.5)
    assert read_output(store, "r-out", intent) == []  # still locked out: nothing written yet
    holder.execute("ROLLBACK")
    holder.close()
    recorder.close()
    chunks = read_output(store, "r-out", intent)
    bodies = [body for _chunk, body in chunks]
    assert [c for c, _ in chunks] == list(range(len(chunks)))
    assert bodies[-1] == ""  # the end mark
    assert all(len(body) <= CHUNK_BYTES + 60 for body in bodies)
    assert len(bodies) < 10  # batched: ~20 KB in 4 KB chunks, not 1000 rows
    text = "".join(bodies)
    lines = text.splitlines()
    assert lines[0] == "BEFORE THE INTENT"  # masked by the given mask before it is stored
    assert lines[-1] == "--- OUTPUT TRUNCATED: THE REST IS IN THE SPOOL ON THE STEP'S HOST"
    assert len(text.encode()) <= 20_000 + 100
    assert sum(1 for line in lines if "TRUNCATED" in line) == 1
    store.close()


def test_a_line_is_in_the_database_within_a_second(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'cockpit.db'}").open()
    intent = _note(store, "r-out")
    recorder = OutputRecorder(store, "r-out", "t0.x", find_intent=lambda: intent)
    recorder.intent_recorded()
    recorder.add("one line")
    began = time.monotonic()
    _wait_for(lambda: read_output(store, "r-out", intent) == [(0, "one line\n")], seconds=5)
    assert time.monotonic() - began < 1.0
    recorder.close()
    assert read_output(store, "r-out", intent, after_chunk=0) == [(1, "")]
    store.close()


# --- a real step, its output, its followers ----------------------------------------------------


@pytest.fixture
def pg_world(tmp_path: Path, app_port: int, pg_url: str) -> Iterator[World]:  # noqa: F811
    w = World(tmp_path, app_port, url=pg_url)
    w.replan(
        PLAN.replace(
            QUICK,
            f'- for i in $(seq {LINES}); do echo "line $i {SECRET}"; sleep 0.8; done',
        )
    )
    yield w
    w.store.close()


def _env(world: World, data: Path, **more: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COCKPIT_", "TMUX"))}
    env.pop("SUDO_USER", None)
    env.update(
        COCKPIT_CONFIG=str(world.root / "cockpit.toml"),
        USER="alice",
        XDG_DATA_HOME=str(data),
        PYTHONPATH=os.pathsep.join(filter(None, [os.getcwd(), os.environ.get("PYTHONPATH")])),
        **more,
    )
    return env


def _drive(world: World, *extra: str) -> subprocess.Popen[str]:
    """The driver: the real `cockpit item done`, with the secret among its known secrets and its
    step spool in its own data directory."""
    return subprocess.Popen(
        [sys.executable, "-m", "cockpit", "item", "done", world.rid, "t0.deploy", *extra],
        cwd=world.root,
        env=_env(world, world.root / "driver-data", API_TOKEN=SECRET),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _elsewhere(world: World, command: str) -> str:
    """``command`` as on another bastion host: its own hostname, and the driver's data directory
    (where the spool is) an empty tmpfs."""
    hidden = shlex.quote(str(world.root / "driver-data"))
    inner = f"hostname bastion-2 && mount -t tmpfs follower {hidden} && {command}"
    return f"unshare --uts --mount sh -c {shlex.quote(inner)}"


def _stored(world: World) -> str:
    started = [e for e in world.store.events(release_id=world.rid) if e.action == "step.started"]
    if not started:
        return ""
    return "".join(body for _c, body in read_output(world.store, world.rid, started[-1].seq))


@pytest.mark.postgres
def test_step_output_is_in_the_database_while_the_step_runs_and_masked(pg_world: World) -> None:
    world = pg_world
    (world.root / "driver-data").mkdir()
    driver = _drive(world)
    _wait_for(lambda: "line 2" in _stored(world), seconds=30)
    assert world.status("t0.deploy") is Status.RUNNING  # while it runs
    assert "line 2 ***\n" in _stored(world) and SECRET not in _stored(world)
    out, _ = driver.communicate(timeout=60)
    assert driver.returncode == 0, out
    text = _stored(world)
    assert SECRET not in text and SECRET not in out
    assert [line for line in text.splitlines() if line.startswith("line ")] == [
        f"line {i} ***" for i in range(1, LINES + 1)
    ]
    # The same text as the spool on the driver's host (nothing lost, nothing added).
    (spool,) = (world.root / "driver-data").rglob("t0.deploy.*.log")
    assert spool.read_text() == text


@pytest.mark.postgres
def test_a_database_error_writing_output_never_stops_the_step(pg_world: World) -> None:
    world = pg_world
    with psycopg.connect(_dsn(world.url), autocommit=True) as conn:
        conn.execute(
            "CREATE FUNCTION no_output() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'no room for output'; END $$"
        )
        conn.execute(
            "CREATE TRIGGER no_output BEFORE INSERT ON step_output "
            "FOR EACH ROW EXECUTE FUNCTION no_output()"
        )
    (world.root / "driver-data").mkdir()
    out, _ = _drive(world).communicate(timeout=60)
    assert "#" in out and world.status("t0.deploy") is Status.DONE, out
    assert f"line {LINES} ***" in out  # the driver followed its spool as before
    assert _stored(world) == ""
    (errors,) = (world.root / "driver-data").rglob("t0.deploy.*.err")
    said = errors.read_text()
    assert "step output not written to the database (no room for output)" in said
    assert said.count("not written") == 1  # said once, not once per chunk


@pytest.mark.postgres
def test_a_follower_on_another_host_sees_the_step_output_live_in_tmux(
    pg_world: World,
    tmux: Tmux,  # noqa: F811
) -> None:
    world = pg_world
    (world.root / "driver-data").mkdir()
    follower_data = world.root / "follower-data"
    spool_dir = world.root / "driver-data" / "release-cockpit" / "steps" / "spool"
    env = " ".join(
        f"{k}={shlex.quote(v)}"
        for k, v in _env(world, follower_data, TERM="xterm-256color").items()
        if k in {"COCKPIT_CONFIG", "USER", "XDG_DATA_HOME", "PYTHONPATH", "TERM", "PATH", "HOME"}
    )
    cockpit = shlex.join([sys.executable, "-m", "cockpit", "--lang", "en"])
    tmux.start(
        _elsewhere(world, f"exec env {env} {cockpit} follow {world.rid}")
        + '; echo "[cockpit exited $?]"; exec sleep 600'
    )
    tmux.wait_text("Timeline", timeout=30)
    tmux.press_until("d", "Deploy the code")
    # The CLI follower too, on the same other host, once the step runs.
    attach_cmd = f"exec env {env} {cockpit} item attach {world.rid} t0.deploy"
    driver = _drive(world)
    _wait_for(lambda: world.status("t0.deploy") is Status.RUNNING, seconds=30)
    attached = subprocess.Popen(
        _elsewhere(world, attach_cmd),
        shell=True,
        cwd=world.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    # The follower's host has no spool: the driver's data directory is empty there.
    hidden = subprocess.run(_elsewhere(world, f"test -e {spool_dir}"), shell=True, check=False)
    assert hidden.returncode == 1 and spool_dir.is_dir()

    screen = tmux.wait_text("line 2 ***", timeout=20)
    assert world.status("t0.deploy") is Status.RUNNING, screen  # seen while it runs ...
    assert f"line {LINES} ***" not in screen  # ... line by line, not at the end
    screen = tmux.wait_text(f"line {LINES} ***", "t0.deploy done", timeout=30)
    assert SECRET not in screen
    out, _ = driver.communicate(timeout=60)
    assert driver.returncode == 0, out
    followed, _ = attached.communicate(timeout=60)
    assert attached.returncode == 0, followed
    assert f"  | line {LINES} ***" in followed and SECRET not in followed
    assert followed.rstrip().endswith("t0.deploy: done"), followed


# --- the app, woken by the log -----------------------------------------------------------------


async def test_the_app_shows_an_approval_from_another_cockpit_without_a_key_or_a_timer(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from cockpit.actions import decide
    from cockpit.session import Session
    from tests.appfixture import BOB, NOW, RELEASE_ID, make_app, settle
    from tests.test_app import open_phase, row

    app = make_app(monkeypatch, tmp_path, t3_ready=True)  # refresh_seconds=3600: no timer
    other = Store(app.session.store.url).open()  # another cockpit: its own connection
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await open_phase(pilot, "t-3")
            assert "gate 0/1" in row(app, "t3.approval")
            assert app.watching_log
            seq = app.session.store.head()[0]
            session = Session(store=other, loaded=app.session.loaded, operator=BOB)
            decide(session, RELEASE_ID, "t3.approval", "approve", now=NOW)
            began = time.monotonic()
            while not row(app, "t3.approval").startswith(" [x] Release approved"):
                assert time.monotonic() - began < 3.0, row(app, "t3.approval")
                await pilot.pause(0.05)
            assert "bob" in row(app, "t3.approval")
            assert app.session.store.head()[0] == seq + 1  # the app itself recorded nothing
    finally:
        other.close()
        app.session.store.close()


async def test_with_the_watcher_on_a_tick_reloads_only_once_in_a_while(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The log's changes wake the screen; the periodic tick then only moves the countdowns on,
    every IDLE_REDRAW_SECONDS, and does not reload (which threw away the releases the dashboard
    had read, so every j read again: its p95 at 1M events)."""
    from screens.dashboard import DashboardScreen
    from tests.appfixture import make_app, settle

    app = make_app(monkeypatch, tmp_path)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            began = time.monotonic()
            while not app.watching_log:
                assert time.monotonic() - began < 5.0
                await pilot.pause(0.05)
            await settle(pilot)  # the watcher's first news: the load read its head, no reload
            screen = app.screen
            assert isinstance(screen, DashboardScreen) and screen.loaded
            screen.loaded["read meanwhile"] = next(iter(screen.loaded.values()))
            screen._tick()
            await settle(pilot)
            assert "read meanwhile" in screen.loaded  # no reload: nothing changed
            screen._tick_at -= screen.IDLE_REDRAW_SECONDS
            screen._tick()
            await settle(pilot)
            assert "read meanwhile" not in screen.loaded  # the countdowns' redraw reloads
    finally:
        app.session.store.close()


async def test_the_watchers_first_news_costs_no_reload_when_the_load_read_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Once listening, the watcher says what changed before (the log's head then): the
    dashboard, whose load read that head already, does not read everything a second time
    right after its first data."""
    from screens.dashboard import DashboardScreen
    from tests.appfixture import make_app, settle

    app = make_app(monkeypatch, tmp_path)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            began = time.monotonic()
            while not isinstance(app.screen, DashboardScreen) or app.screen.read_head is None:
                assert time.monotonic() - began < 5.0
                await pilot.pause(0.01)
            screen = app.screen
            screen.loaded["read meanwhile"] = next(iter(screen.loaded.values()))
            while not app.watching_log:
                assert time.monotonic() - began < 5.0
                await pilot.pause(0.05)
            for _ in range(5):
                await settle(pilot)
                await pilot.pause(0.05)
            assert "read meanwhile" in screen.loaded  # the first load's reads, kept
            assert screen.read_head == app.session.store.head()[0]
    finally:
        app.session.store.close()
