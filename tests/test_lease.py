"""One driver per release: the lease, its heartbeat and expiry, audited takeover, read-only mode.

Real processes (started together behind a barrier, killed with SIGKILL), the real ``cockpit``
command, real SQLite and PostgreSQL, and the app driven by keys (Pilot). Each test checks the
event log (who, what, why) as well as what the operator is told.
"""

from __future__ import annotations

import multiprocessing
import os
import pwd
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from cockpit import lease
from cockpit.actions import decide
from cockpit.checklist import Refused
from cockpit.config import LoadedConfig, parse_config_text
from cockpit.events import Event
from cockpit.operator import Operator
from cockpit.release import create_release
from cockpit.session import Session
from cockpit.store import Store
from screens.app import CockpitApp
from tests.appfixture import BOB, RELEASE_ID, RecordingApp, make_app, screen_text, settle
from tests.test_e2e_tmux import Tmux, exit_code, tmux  # noqa: F401 (fixture)

CONFIG = """
[database]
url = "{url}"
[audit]
checkpoint = "{root}/checkpoint.json"
[roles]
approver = ["bob", "carol"]
[environments.staging]
rehearsal = true
[environments.production]
production = true
"""

ALICE = Operator.fixed("alice", "bastion-1")
CAROL = Operator.fixed("carol", "bastion-3")
# Who the `cockpit` command is when this test runs it: the login of this process, this host.
ME = f"{pwd.getpwuid(os.getuid()).pw_name}@{socket.gethostname()}"


class Team:
    """A workspace (cockpit.toml, the log) shared by operators in this process and by `cockpit`
    commands run as processes."""

    def __init__(self, root: Path, url: str) -> None:
        self.root, self.url = root, url
        text = CONFIG.format(url=url, root=root)
        (root / "cockpit.toml").write_text(text)
        self.loaded = LoadedConfig(parse_config_text(text), root / "cockpit.toml")
        self.store = Store(url, checkpoint_file=root / "checkpoint.json").open()

    def session(self, operator: Operator) -> Session:
        return Session(store=self.store, loaded=self.loaded, operator=operator)

    def release(self, environment: str = "staging") -> str:
        return create_release(
            self.session(ALICE),
            plan="release",
            environment=environment,
            version="1.4.0",
            t0="2026-12-16T01:00",
        ).id

    def events(self, rid: str, prefix: str = "lease.") -> list[Event]:
        return [ev for ev in self.store.events(release_id=rid) if ev.action.startswith(prefix)]

    def cli(self, *args: str, acting_as: str | None = None, **env: str) -> subprocess.Popen[str]:
        environ = {**os.environ, "COCKPIT_CONFIG": str(self.root / "cockpit.toml"), **env}
        for name in ("COCKPIT_AS", "SUDO_USER", "COCKPIT_LEASE_TTL"):
            if name not in env:
                environ.pop(name, None)
        if acting_as:
            environ["COCKPIT_AS"] = acting_as  # a stand-in colleague: rehearsal events only
        return subprocess.Popen(
            [sys.executable, "-m", "cockpit", *args],
            cwd=self.root,
            env=environ,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def run(self, *args: str, **kw: Any) -> tuple[int, str, str]:
        proc = self.cli(*args, **kw)
        out, err = proc.communicate(timeout=60)
        return proc.returncode, out, err


@pytest.fixture
def team(tmp_path: Path, db_url: str) -> Iterator[Team]:
    t = Team(tmp_path, db_url)
    yield t
    t.store.close()


@pytest.fixture
def sqlite_team(tmp_path: Path) -> Iterator[Team]:
    t = Team(tmp_path, f"sqlite:///{tmp_path / 'cockpit.db'}")
    yield t
    t.store.close()


def wait_for(predicate: Callable[[], object], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


# ----------------------------------------------------------------- two takers at one instant


def _racer(url: str, root: str, name: str, rids: list[str], barrier: Any, results: Any) -> None:
    """One operator's process: at each barrier, take the next release's lease."""
    store = Store(url, checkpoint_file=Path(root) / "checkpoint.json").open()
    loaded = LoadedConfig(parse_config_text(CONFIG.format(url=url, root=root)), None)
    session = Session(store=store, loaded=loaded, operator=Operator.fixed(name, f"host-{name}"))
    for rid in rids:
        barrier.wait(timeout=120)
        try:
            lease.take(session, rid, ttl=600)
            results.put((rid, name, "won"))
        except Refused as exc:
            results.put((rid, name, str(exc)))
    store.close()


def test_two_processes_taking_the_lease_at_the_same_instant_exactly_one_wins(team: Team) -> None:
    rids = [team.release() for _ in range(8)]
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    procs = [
        ctx.Process(target=_racer, args=(team.url, str(team.root), name, rids, barrier, results))
        for name in ("alice", "bob")
    ]
    for proc in procs:
        proc.start()
    got = [results.get(timeout=120) for _ in range(2 * len(rids))]
    for proc in procs:
        proc.join(60)
        assert proc.exitcode == 0
    for rid in rids:
        outcomes = {name: said for r, name, said in got if r == rid}
        winners = [name for name, said in outcomes.items() if said == "won"]
        assert len(winners) == 1, outcomes
        loser = "bob" if winners == ["alice"] else "alice"
        assert f"driven by {winners[0]}@host-{winners[0]} since" in outcomes[loser]
        # The log says exactly what the row says: one lease.taken, by the winner.
        taken = team.events(rid)
        assert [(ev.action, ev.actor) for ev in taken] == [
            ("lease.taken", f"{winners[0]}@host-{winners[0]}")
        ]
        held, _now = lease.current(team.store, rid)
        assert held is not None and held.holder == f"{winners[0]}@host-{winners[0]}"
    assert team.store.verify().problem is None


def test_a_taker_who_read_the_lease_free_loses_to_the_one_who_wrote_first(
    team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The upsert decides, not the read before it: alice read "free" (a stale read, as in a
    race), bob took it meanwhile; alice's write finds bob's live row and nothing of hers is
    recorded."""
    rid = team.release()
    lease.take(team.session(BOB), rid, ttl=600)
    before = team.store.head()[0]
    real = lease.current
    monkeypatch.setattr(lease, "current", lambda store, r: (None, real(store, r)[1]))
    with pytest.raises(Refused, match=f"the lease of {rid} changed while it was taken"):
        lease.take(team.session(ALICE), rid)
    assert team.store.head()[0] == before  # neither lease.taken nor anything else
    monkeypatch.undo()
    held, _now = lease.current(team.store, rid)
    assert held is not None and held.holder == BOB.actor


# ----------------------------------------------------------------- heartbeat, expiry, kill -9


def test_a_holder_killed_with_sigkill_expires_and_the_next_taker_records_it(team: Team) -> None:
    rid = team.release()
    holder = team.cli("lease", "take", rid, "--ttl", "1.5", "--hold")
    wait_for(lambda: lease.current(team.store, rid)[0] is not None)
    # Alive, it beats: well past its ttl nobody else may take it.
    time.sleep(3.5)
    with pytest.raises(Refused, match=f"driven by {ME} since"):
        lease.take(team.session(BOB), rid)
    os.kill(holder.pid, signal.SIGKILL)
    holder.communicate(timeout=30)
    dead, _now = lease.current(team.store, rid)
    assert dead is not None
    wait_for(lambda: not dead.live(lease.current(team.store, rid)[1]), 10)
    lease.take(team.session(BOB), rid)
    expired, taken = team.events(rid)[-2:]
    assert (expired.action, expired.subject, expired.actor) == ("lease.expired", ME, BOB.actor)
    info = expired.details_obj
    assert info["cause"] == "heartbeat loss" and info["pid"] == holder.pid
    assert info["last_beat"] < taken.recorded_at and info["silent_s"] >= 1.5
    assert (taken.action, taken.actor) == ("lease.taken", BOB.actor)


def test_heartbeat_keeps_the_lease_and_fails_once_it_is_taken_over(team: Team) -> None:
    rid = team.release()
    mine, fresh = lease.take(team.session(ALICE), rid, ttl=600)
    assert fresh and lease.heartbeat(team.store, mine)
    lease.takeover(team.session(BOB), rid, "alice lost her VPN")
    assert not lease.heartbeat(team.store, mine)


# ----------------------------------------------------------------- takeover


def test_a_takeover_is_recorded_with_its_reason_and_the_old_holder_is_then_refused(
    sqlite_team: Team,
) -> None:
    team = sqlite_team
    rid = team.release()
    holder = team.cli("lease", "take", rid, "--hold")
    wait_for(lambda: lease.current(team.store, rid)[0] is not None)
    code, out, err = team.run("lease", "show", rid)
    assert code == 0 and f"driven by {ME} since" in out, (out, err)
    # bob (a stand-in on this rehearsal) is refused a plain take, then takes over with a reason.
    bob = ME.replace(ME.split("@")[0], "bob", 1)
    code, out, err = team.run("lease", "take", rid, acting_as="bob")
    assert code == 1 and f"driven by {ME} since" in err and "lease takeover" in err, err
    code, out, err = team.run("lease", "takeover", rid, acting_as="bob")
    assert code == 2 and "--reason" in err  # a takeover without a reason is bad input
    code, out, err = team.run(
        "lease", "takeover", rid, "--reason", "alice's session froze", acting_as="bob"
    )
    assert code == 0, err
    over = team.events(rid)[-1]
    assert (over.action, over.actor, over.reason) == (
        "lease.taken_over",
        bob,
        "alice's session froze",
    )
    assert over.details_obj["previous"]["holder"] == ME
    assert over.details_obj["previous"]["pid"] == holder.pid and not over.details_obj["expired"]
    # The old holder's heartbeat finds the lease gone: it says so and ends.
    out, _err = holder.communicate(timeout=60)
    assert holder.returncode == 1 and f"taken over (now: {bob})" in out
    # Its CLI is refused any driving action, in one line naming the driver; nothing recorded.
    head = team.store.head()[0]
    code, out, err = team.run("item", "done", rid, "t14.requirements")
    assert code == 1 and err.count("\n") == 1, err
    assert f"driven by {bob} since" in err
    code, out, err = team.run("item", "skip", rid, "t14.requirements", "--reason", "x")
    assert code == 1 and f"driven by {bob} since" in err
    assert team.store.head()[0] == head
    # Japanese operators read it in Japanese.
    code, out, err = team.run("--lang", "ja", "item", "done", rid, "t14.requirements")
    assert code == 1 and f"{bob} が" in err and "操作中" in err
    # Other people's roles are not driving: a note and an approval go through.
    code, out, err = team.run("note", "--release", rid, "watching from bastion-3")
    assert code == 0, err


def test_production_takeover_of_a_live_lease_needs_a_second_operators_approval(
    team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    rid = team.release("production")
    lease.take(team.session(ALICE), rid, ttl=600)
    head = team.store.head()[0]
    with pytest.raises(Refused) as refused:
        lease.takeover(team.session(BOB), rid, "alice is unreachable")
    assert "second operator's approval" in str(refused.value)
    assert f"cockpit lease approve-takeover {rid} --for {BOB.actor}" in str(refused.value)
    assert team.store.head()[0] == head  # nothing recorded
    # The taker cannot approve their own takeover.
    with pytest.raises(Refused, match="cannot approve their own takeover"):
        lease.approve_takeover(team.session(BOB), rid, "bob")
    approval = lease.approve_takeover(team.session(CAROL), rid, "bob", "called alice: no answer")
    assert (approval.action, approval.subject) == ("lease.takeover_approved", "bob")
    mine = lease.takeover(team.session(BOB), rid, "alice is unreachable")
    over = team.events(rid)[-1]
    assert over.action == "lease.taken_over" and over.reason == "alice is unreachable"
    assert over.details_obj["approval_seq"] == approval.seq
    assert over.details_obj["approved_by"] == CAROL.actor
    assert over.details_obj["previous"]["holder"] == ALICE.actor
    with pytest.raises(Refused, match=f"driven by {BOB.actor}"):
        lease.require_driver(team.session(ALICE), rid)
    # An approval is used once: alice comes back with carol's approval, then bob's old one no
    # longer counts.
    lease.approve_takeover(team.session(CAROL), rid, ALICE.actor)
    lease.takeover(team.session(ALICE), rid, "back online")
    with pytest.raises(Refused, match="second operator's approval"):
        lease.takeover(team.session(BOB), rid, "again")
    # An approval is valid a few minutes only.
    monkeypatch.setattr(lease, "APPROVAL_VALID_S", 0.3)
    lease.approve_takeover(team.session(CAROL), rid, "bob")
    time.sleep(0.5)
    with pytest.raises(Refused, match="second operator's approval"):
        lease.takeover(team.session(BOB), rid, "again")
    # A dead lease (heartbeat loss) needs no approval, even in production.
    assert mine.holder == BOB.actor
    monkeypatch.undo()
    lease.approve_takeover(team.session(BOB), rid, "carol")
    short = lease.takeover(team.session(CAROL), rid, "alice unreachable again", ttl=1.0)
    assert short.holder == CAROL.actor
    time.sleep(1.2)
    lease.takeover(team.session(BOB), rid, "carol's lease is dead")
    expired, over = team.events(rid)[-2:]
    assert (expired.action, expired.subject) == ("lease.expired", CAROL.actor)
    assert over.details_obj["expired"] is True and "approval_seq" not in over.details_obj


def test_the_same_operator_from_another_process_is_the_same_driver(team: Team) -> None:
    rid = team.release()
    first, fresh = lease.take(team.session(ALICE), rid, ttl=600)
    again, fresh_again = lease.take(team.session(ALICE), rid)
    assert fresh and not fresh_again and again.token == first.token
    lease.require_driver(team.session(ALICE), rid)  # not refused
    decide(team.session(ALICE), rid, "t14.requirements", "done")
    # bob may approve and note while alice drives; he may not tick an item.
    with pytest.raises(Refused, match=f"driven by {ALICE.actor}"):
        decide(team.session(BOB), rid, "t14.dependencies", "done")
    assert [ev.action for ev in team.events(rid)] == ["lease.taken"]
    released = lease.release(team.session(ALICE), rid)
    assert released.action == "lease.released"
    assert lease.current(team.store, rid)[0] is None
    decide(team.session(BOB), rid, "t14.dependencies", "done")  # nobody drives: anyone may


# ----------------------------------------------------------------- --readonly


def test_readonly_refuses_writing_commands_in_one_line(sqlite_team: Team) -> None:
    team = sqlite_team
    rid = team.release()
    head = team.store.head()[0]
    for args in (
        ("item", "done", rid, "t14.requirements"),
        ("note", "--release", rid, "hello"),
        ("lease", "take", rid),
    ):
        code, out, err = team.run("--readonly", *args)
        command = " ".join(args[:2]) if args[0] != "note" else "note"
        assert code == 2 and out == "", err
        assert err == (
            f"cockpit: --readonly: `{command}` can change a release or the log; "
            "run it without --readonly\n"
        )
    assert team.store.head()[0] == head
    code, out, err = team.run("--readonly", "lease", "show", rid)
    assert code == 0 and "nobody drives it" in out, err
    code, out, err = team.run("--readonly", "release", "show", rid)
    assert code == 0, err


# ----------------------------------------------------------------- the app


def lease_events(app: CockpitApp) -> list[Event]:
    return [ev for ev in app.session.store.events() if ev.action.startswith("lease.")]


@pytest.fixture
def build(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Callable[..., RecordingApp]]:
    made: list[RecordingApp] = []

    def build(**options: Any) -> RecordingApp:
        app = make_app(monkeypatch, tmp_path, drive=True, **options)
        made.append(app)
        return app

    yield build
    for app in made:
        app.session.store.close()


async def until(pilot: Pilot[None], condition: Callable[[], bool], seconds: float = 5) -> None:
    """Let the app run until ``condition`` holds (its workers report through the UI thread)."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        await pilot.pause(0.1)
    await settle(pilot)


def bob_session(app: CockpitApp) -> Session:
    return Session(store=app.session.store, loaded=app.session.loaded, operator=BOB)


async def test_the_app_drives_a_release_it_opens_and_lets_go_on_quit(build) -> None:
    app = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert lease_events(app) == []  # the dashboard only looks
        await pilot.press("enter")
        await settle(pilot)
        assert [(ev.action, ev.actor) for ev in lease_events(app)] == [
            ("lease.taken", "alice@bastion-1")
        ]
        held, _ = lease.current(app.session.store, RELEASE_ID)
        assert held is not None and held.pid == os.getpid()
        with pytest.raises(Refused, match="driven by alice@bastion-1"):
            lease.require_driver(bob_session(app), RELEASE_ID)
        await pilot.press("q")
        await settle(pilot)
    assert app.return_code == 0
    assert [ev.action for ev in lease_events(app)] == ["lease.taken", "lease.released"]
    assert lease.current(app.session.store, RELEASE_ID)[0] is None


async def test_the_app_opens_read_only_when_someone_else_drives_and_takes_over(build) -> None:
    app = build()
    lease.take(bob_session(app), RELEASE_ID, ttl=600)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        header = screen_text(app).splitlines()[0]
        assert header.startswith(" READ-ONLY driven by bob@bastion-2 since "), header
        # The one key that gets alice driving leads the footer.
        assert screen_text(app).splitlines()[-1].startswith(" T take over ? help")
        head = app.session.store.head()[0]
        await pilot.press("enter", "s")
        await settle(pilot)
        assert app.session.store.head()[0] == head  # nothing was done
        why = app.driver_text + "; T takes over"
        assert app.notified == [f"refused: {why}", f"refused: {why}"]
        assert why.startswith("driven by bob@bastion-2 since ")
        # Other people's roles stay open: the note key opens its dialog.
        await pilot.press("n")
        await settle(pilot)
        assert type(app.screen).__name__ == "DecisionScreen"
        await pilot.press("escape")
        # T asks why, then takes over (staging: the reason is enough).
        await pilot.press("T")
        await settle(pilot)
        await pilot.press(*"bob went home", "enter")
        await settle(pilot)
        over = lease_events(app)[-1]
        assert (over.action, over.actor, over.reason) == (
            "lease.taken_over",
            "alice@bastion-1",
            "bob went home",
        )
        assert over.details_obj["previous"]["holder"] == "bob@bastion-2"
        assert screen_text(app).splitlines()[0].startswith(" Release Cockpit")
        assert "take over" not in screen_text(app).splitlines()[-1]
        await pilot.press("enter")  # now alice drives: the manual item is ticked
        await settle(pilot)
        assert app.session.store.events(last=1)[0].action == "item.done"


async def test_the_app_turns_read_only_when_its_lease_is_taken_over(
    build, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COCKPIT_LEASE_TTL", "1.2")  # a heartbeat every 0.4 s
    app = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert app.lease is not None
        time.sleep(1.5)  # alive, the app beats: the lease outlives its ttl
        held, now = lease.current(app.session.store, RELEASE_ID)
        assert held is not None and held.live(now) and held.holder == "alice@bastion-1"
        lease.takeover(bob_session(app), RELEASE_ID, "alice's laptop died", ttl=600)
        await until(pilot, lambda: app.driver is not None)  # the next heartbeat finds it gone
        assert "taken over by bob@bastion-2: this cockpit is read-only now" in app.notified
        assert screen_text(app).splitlines()[0].startswith(" READ-ONLY driven by bob@bastion-2")
        head = app.session.store.head()[0]
        await pilot.press("enter")
        await settle(pilot)
        assert app.session.store.head()[0] == head
        await pilot.press("q")
        await settle(pilot)
    # The lease is bob's: quitting does not let go of it.
    assert lease_events(app)[-1].action == "lease.taken_over"


async def test_a_driver_who_died_is_noticed_and_the_app_takes_the_lease(build) -> None:
    app = build()
    lease.take(bob_session(app), RELEASE_ID, ttl=1.0)  # bob's cockpit, gone: no heartbeat
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert screen_text(app).splitlines()[0].startswith(" READ-ONLY driven by bob@bastion-2")
        await until(pilot, lambda: app.lease is not None)  # it watches bob's: dead after 1 s
        assert "you drive this release now" in app.notified
        assert screen_text(app).splitlines()[0].startswith(" Release Cockpit")
        expired, taken = lease_events(app)[-2:]
        assert (expired.action, expired.subject, expired.actor) == (
            "lease.expired",
            "bob@bastion-2",
            "alice@bastion-1",
        )
        assert expired.details_obj["cause"] == "heartbeat loss"
        assert (taken.action, taken.actor) == ("lease.taken", "alice@bastion-1")


async def test_a_readonly_cockpit_refuses_every_action_that_writes(build) -> None:
    app = build()
    app.readonly = True
    lease.take(bob_session(app), RELEASE_ID, ttl=600)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("n")  # a note from the dashboard
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        header = screen_text(app).splitlines()[0]
        assert header.startswith(" READ-ONLY driven by bob@bastion-2 since "), header
        head, screen = app.session.store.head()[0], app.screen
        await pilot.press("enter", "a", "n")
        await settle(pilot)
        assert app.session.store.head()[0] == head
        why = "refused: read-only: opened with --readonly"
        assert app.notified == [why] * 4
        await pilot.press("T")  # a follower does not take over: the key is not there
        await settle(pilot)
        assert app.screen is screen and len(app.notified) == 4
        labels = [label for label, _key, _call in app.palette_commands()]
        assert labels == [
            "previous phase", "next phase", "filter", "audit log", "back", "help", "quit",
            "times in UTC / the window's zone", "open the runbook", "open the metrics",
            "open tagging",
        ]  # fmt: skip


# ----------------------------------------------------------------- the real cockpit, in tmux


def test_the_cockpit_in_a_terminal_drives_a_follower_sees_who_and_quitting_lets_go(
    sqlite_team: Team,
    tmux: Tmux,  # noqa: F811 (the fixture)
) -> None:
    team = sqlite_team
    rid = team.release()
    config = str(team.root / "cockpit.toml")

    def start(session: str, *args: str) -> Tmux:
        term = Tmux(tmux.socket, session, tmux.env)
        command = shlex.join([sys.executable, "-m", "cockpit", "--config", config, *args])
        term.run(
            "new-session", "-d", "-x", "80", "-y", "24", "-s", session,
            f"env TERM=xterm-256color {command}; echo '[cockpit exited '$?']'; exec sleep 600",
        )  # fmt: skip
        return term

    driver = start("driver", "open", "--release", rid)
    driver.wait_text("1.4.0    release", "chain ok", timeout=30)
    driver.keys("Enter")
    driver.wait_text("[ ] Requirements are met")
    wait_for(lambda: lease.current(team.store, rid)[0] is not None)
    held, _now = lease.current(team.store, rid)
    assert held is not None and held.holder == ME

    follower = start("follower", "follow", rid)
    follower.wait_text("1.4.0    release", "chain ok", timeout=30)
    follower.keys("Enter")
    screen = follower.wait_text("[ ] Requirements are met", f"READ-ONLY driven by {ME}")
    assert screen.splitlines()[0].startswith(f" READ-ONLY driven by {ME} since "), screen
    head = team.store.head()[0]
    follower.keys("Enter")
    follower.wait_text("refused: read-only: opened with")
    assert team.store.head()[0] == head
    follower.keys("q")
    assert exit_code(follower) == "0"

    driver.keys("q")
    assert exit_code(driver) == "0"
    assert [ev.action for ev in team.events(rid)] == ["lease.taken", "lease.released"]
    assert lease.current(team.store, rid)[0] is None
