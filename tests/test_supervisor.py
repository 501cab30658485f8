"""Steps that outlive the operator: a step runs under its own supervisor process, exactly once,
whatever happens to the cockpit that started it (real processes, real signals)."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cockpit.checklist import Status
from cockpit.stepoutput import last_run
from tests.test_deploy import PLAN, World, _cli, _wait_for, app_port  # noqa: F401 (fixture)
from tests.test_e2e_tmux import Tmux, tmux  # noqa: F401 (fixture)

SLOW = "echo run >> runs.log; sleep 3; echo 1.4.0 > version.txt; echo deployed"
QUICK = "- echo run >> runs.log; echo {version} > version.txt; echo deployed {version}"


def _slow(world: World, step: str = SLOW) -> None:
    world.replan(PLAN.replace(QUICK, f"- {step}"))


@pytest.fixture
def world(tmp_path: Path, app_port: int) -> Iterator[World]:  # noqa: F811
    w = World(tmp_path, app_port)
    yield w
    w.store.close()


@pytest.fixture
def pg_world(tmp_path: Path, app_port: int, pg_url: str) -> Iterator[World]:  # noqa: F811
    w = World(tmp_path, app_port, url=pg_url)
    yield w
    w.store.close()


def _started(world: World) -> dict[str, object]:
    return [e for e in world.store.events(release_id=world.rid) if e.action == "step.started"][
        -1
    ].details_obj


@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGTERM, signal.SIGKILL])
def test_the_cockpit_hung_up_or_killed_mid_step_the_step_runs_once_to_its_outcome(
    world: World, sig: signal.Signals
) -> None:
    _slow(world)
    proc = _cli(world.root, "item", "done", world.rid, "t0.deploy")
    _wait_for(lambda: (world.root / "runs.log").exists())
    assert world.status("t0.deploy") is Status.RUNNING
    # While it runs, nobody starts it again: not this operator, not a resume, not a redo.
    for action in ("done", "resume", "redo"):
        other = _cli(world.root, "item", action, world.rid, "t0.deploy")
        out, _ = other.communicate(timeout=60)
        assert other.returncode == 1 and "running" in out, (action, out)
    os.kill(proc.pid, sig)
    proc.communicate(timeout=30)
    assert proc.returncode != 0  # the cockpit is gone ...
    _wait_for(lambda: world.status("t0.deploy") is Status.DONE)  # ... the step is not
    assert world.read("runs.log").splitlines() == ["run"]  # exactly once
    assert world.read("version.txt") == "1.4.0"
    assert world.actions("t0.deploy") == ["step.started", "step.succeeded"]
    # The outcome was recorded by the supervisor: the process named in the intent.
    assert _started(world)["pid"] != proc.pid
    verify = _cli(world.root, "audit", "verify")
    out, _ = verify.communicate(timeout=60)
    assert verify.returncode == 0, out


def test_detach_returns_at_once_and_attach_follows_to_the_outcome(world: World) -> None:
    _slow(world)
    proc = _cli(world.root, "item", "done", world.rid, "t0.deploy", "--detach")
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0 and "cockpit item attach" in out, out
    assert world.status("t0.deploy") is Status.RUNNING
    attached = _cli(world.root, "item", "attach", world.rid, "t0.deploy")
    out, _ = attached.communicate(timeout=60)
    assert attached.returncode == 0, out
    assert "deployed" in out and out.rstrip().endswith("t0.deploy: done")
    assert world.read("runs.log").splitlines() == ["run"]


def test_cancel_from_another_cockpit_is_recorded_with_who_and_why(world: World) -> None:
    _slow(world, "echo run >> runs.log; sleep 30")
    proc = _cli(world.root, "item", "done", world.rid, "t0.deploy", "--detach")
    proc.communicate(timeout=60)
    _wait_for(lambda: world.status("t0.deploy") is Status.RUNNING)
    refused = _cli(world.root, "item", "cancel", world.rid, "t0.deploy")
    out, _ = refused.communicate(timeout=60)
    assert refused.returncode == 2 and "--reason" in out
    cancel = _cli(world.root, "item", "cancel", world.rid, "t0.deploy", "--reason", "wrong image")
    out, _ = cancel.communicate(timeout=60)
    assert cancel.returncode == 0, out
    _wait_for(lambda: world.status("t0.deploy") is Status.CANCELLED)
    asked = [e for e in world.store.events(release_id=world.rid) if e.subject == "t0.deploy"]
    assert [e.action for e in asked][-2:] == ["step.cancel_requested", "step.cancelled"]
    assert asked[-2].reason == "wrong image" and asked[-2].actor == asked[0].actor


def _race(world: World) -> None:
    _slow(world)
    first = _cli(world.root, "item", "done", world.rid, "t0.deploy")
    second = _cli(world.root, "item", "done", world.rid, "t0.deploy")
    outs = [p.communicate(timeout=90)[0] for p in (first, second)]
    codes = sorted(p.returncode for p in (first, second))
    assert codes == [0, 1], outs
    refused = outs[0] if first.returncode == 1 else outs[1]
    # The loser is told who holds the step (or, if it came late, that it is done).
    assert ("is running: " in refused and "(pid " in refused) or "already done" in refused, refused
    assert world.read("runs.log").splitlines() == ["run"]
    assert world.actions("t0.deploy").count("step.started") == 1


def test_two_cockpits_racing_for_a_step_on_sqlite_one_runs(world: World) -> None:
    _race(world)


@pytest.mark.postgres
def test_two_cockpits_racing_for_a_step_on_postgresql_one_runs(pg_world: World) -> None:
    _race(pg_world)


def test_a_step_orphaned_by_the_cockpit_does_not_die_on_a_closed_pipe(world: World) -> None:
    # Printing after its cockpit is gone used to kill the step on the closed pipe.
    _slow(world, "echo run >> runs.log; sleep 1; for i in 1 2 3; do echo line $i; done; touch end")
    proc = subprocess.Popen(
        [sys.executable, "-m", "cockpit", "item", "done", world.rid, "t0.deploy"],
        cwd=world.root,
        env={**os.environ, "COCKPIT_CONFIG": str(world.root / "cockpit.toml"), "USER": "alice"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    _wait_for(lambda: (world.root / "runs.log").exists())
    assert proc.stdout is not None
    proc.stdout.close()  # the terminal goes away
    proc.kill()
    proc.wait()
    _wait_for(lambda: world.status("t0.deploy") is Status.DONE)
    assert (world.root / "end").exists()


def test_the_tui_in_tmux_hung_up_mid_step_the_step_runs_once(
    world: World,
    tmux: Tmux,  # noqa: F811
) -> None:
    world.replan(
        PLAN.replace(
            'argv: [sh, -c, "echo backup > backup.txt"]',
            'argv: [sh, -c, "echo run >> runs.log; sleep 3; echo backup > backup.txt"]',
        )
    )
    cockpit = shlex.join([sys.executable, "-m", "cockpit", "--lang", "en", "open"])
    tmux.start(
        f"cd {shlex.quote(str(world.root))} && env TERM=xterm-256color "
        f"COCKPIT_CONFIG={shlex.quote(str(world.root / 'cockpit.toml'))} {cockpit} "
        f"--release {world.rid}; exec sleep 600"
    )
    # The first frame comes before the data; d waits for the release to be read (Next says it).
    tmux.wait_text("Timeline", "Next    T-0 Take a backup", timeout=30)
    tmux.press_until("d", "Take a backup", "timeout: 10 s", timeout=10)  # the step's preview
    tmux.press_until("Enter", "Run Take a backup?")
    time.sleep(0.35)  # a key sooner is a held key: the dialog ignores it
    tmux.keys("Enter")
    _wait_for(lambda: (world.root / "runs.log").exists())
    assert world.status("t0.backup") is Status.RUNNING
    tmux.run("kill-server")  # the terminal and everything in it hang up
    _wait_for(lambda: world.status("t0.backup") is Status.DONE)
    assert world.read("runs.log").splitlines() == ["run"]
    assert world.read("backup.txt") == "backup"
    assert world.actions("t0.backup") == ["step.started", "step.succeeded"]


SLOW_UNDO = 'undo_argv: [sh, -c, "echo 1.3.2 > version.txt; echo undo >> undos.log; sleep 30"]'
QUICK_UNDO = 'undo_argv: [sh, -c, "echo 1.3.2 > version.txt"]'
PACED_UNDO = (  # it says "half-21", then waits for the test to let it finish
    'undo_argv: [sh, -c, "echo undo >> undos.log; echo half-$((20 + 1)); '
    'while [ ! -e go-on ]; do sleep 0.1; done; echo 1.3.2 > version.txt"]'
)


def _deployed(world: World) -> None:
    for item in ("t0.backup", "t0.deploy", "t0.migrate", "t0.verify"):
        world.do(item)


def test_a_rollback_interrupted_mid_undo_resumes_where_it_stopped(world: World) -> None:
    _deployed(world)
    world.replan(
        PLAN.replace(QUICK_UNDO, SLOW_UNDO).replace(
            "timeout: 10\n      - id: t0.config", "timeout: 60\n      - id: t0.config"
        )
    )
    proc = _cli(world.root, "rollback", "run", world.rid, "--reason", "error rate 12%", "--yes")
    stored = (world.store, world.rid, "rollback")
    _wait_for(lambda: (world.root / "undos.log").exists())
    _wait_for(lambda: any("undo t0.deploy" in line for line in last_run(*stored)[0]))
    assert world.status("t0.deploy") is Status.UNDOING
    # The supervisor running the rollback dies in the middle of t0.deploy's undo.
    undo = [e for e in world.store.events(release_id=world.rid) if e.action == "step.undo_started"]
    os.kill(undo[-1].details_obj["pid"], signal.SIGKILL)
    subprocess.run(["pkill", "-f", "sleep 30"], check=False)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 1 and "interrupted" in out, out
    assert world.status("t0.deploy") is Status.UNDO_INTERRUPTED  # [#u], not [x] done
    shown = _cli(world.root, "rollback", "plan", world.rid)
    out, _ = shown.communicate(timeout=60)
    assert "an interrupted rollback" in out and "re-checked first" in out, out
    world.replan(PLAN)
    again = _cli(world.root, "rollback", "run", world.rid, "--reason", "resume", "--yes")
    out, _ = again.communicate(timeout=90)
    assert again.returncode == 0, out
    assert "resuming the rollback decided at" in out and "already undone" in out
    # Its output in the database goes on after what the killed supervisor wrote.
    lines = last_run(*stored)[0]
    resumed = next(n for n, line in enumerate(lines) if line.startswith("resuming the rollback"))
    assert any(line.startswith("undo t0.deploy") for line in lines[:resumed]), lines
    assert lines[-1] == "healthy" or lines[-1].startswith("undo "), lines
    # The in-flight undo had taken effect: recorded without running it again.
    assert world.read("undos.log").splitlines() == ["undo"]
    assert world.read("version.txt") == "1.3.2" and world.read("schema.txt") == "1"
    actions = world.actions()
    assert actions.count("rollback.started") == 1 and actions.count("rollback.finished") == 1
    assert world.status("t0.deploy") is Status.UNDONE
    verify = _cli(world.root, "audit", "verify")
    assert verify.communicate(timeout=60)[0] and verify.returncode == 0


def test_a_failed_undo_stays_on_its_step_then_is_retried_or_skipped(world: World) -> None:
    _deployed(world)
    (world.root / "undo-breaks").touch()
    failed = _cli(world.root, "rollback", "run", world.rid, "--reason", "p95 3x", "--yes")
    out, _ = failed.communicate(timeout=90)
    assert failed.returncode == 1 and "FAILED at t0.migrate" in out, out
    assert world.status("t0.migrate") is Status.UNDO_FAILED  # [!u] with its error
    assert world.status("t0.deploy") is Status.DONE  # not reached: left to undo
    # Its output is in the database too (for a follower on another host), with the error.
    lines, error = last_run(world.store, world.rid, "rollback")
    assert "undo t0.migrate failed" in "\n".join(lines) and "exited 1" in error, (lines, error)
    assert [line[4:] for line in out.splitlines() if line.startswith("  | ")] == lines
    # Retry: the failed undo comes first again.
    (world.root / "undo-breaks").unlink()
    retry = _cli(world.root, "rollback", "run", world.rid, "--reason", "retry", "--yes")
    out, _ = retry.communicate(timeout=90)
    assert retry.returncode == 0, out
    assert world.status("t0.migrate") is Status.UNDONE
    assert world.status("t0.deploy") is Status.UNDONE
    # The retry is a rollback of its own: its output, no error.
    lines, error = last_run(world.store, world.rid, "rollback")
    assert error == "" and [line.split(":")[0] for line in lines if line.startswith("undo ")] == [
        "undo t0.migrate",
        "undo t0.deploy",
    ], lines
    assert lines[-1] == "healthy"


def test_a_failed_undo_skipped_with_a_reason_lets_the_rollback_go_on(world: World) -> None:
    _deployed(world)
    (world.root / "undo-breaks").touch()
    _cli(world.root, "rollback", "run", world.rid, "--reason", "p95 3x", "--yes").communicate(
        timeout=90
    )
    assert world.status("t0.migrate") is Status.UNDO_FAILED
    skip = _cli(
        world.root,
        "rollback",
        "skip",
        world.rid,
        "t0.migrate",
        "--reason",
        "schema 2 is compatible",
    )
    out, _ = skip.communicate(timeout=60)
    assert skip.returncode == 0, out
    again = _cli(world.root, "rollback", "run", world.rid, "--reason", "go on", "--yes")
    out, _ = again.communicate(timeout=90)
    assert again.returncode == 0, out
    assert world.read("schema.txt") == "2"  # left as it is, on purpose
    assert world.status("t0.deploy") is Status.UNDONE


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[list[str]]:
    """A real sshd on 127.0.0.1 (key login for the user running the tests); yields the ssh
    command line that logs in to it."""
    import getpass
    import shutil
    import socket
    import time

    assert shutil.which("ssh") and os.path.exists("/usr/sbin/sshd"), "run bash .ci/install"
    home = tmp_path / "ssh"
    home.mkdir()
    for name in ("host", "client"):
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(home / name)], check=True
        )
    (home / "authorized_keys").write_text((home / "client.pub").read_text())
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = home / "sshd_config"
    config.write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {home / 'host'}\n"
        f"AuthorizedKeysFile {home / 'authorized_keys'}\nPidFile {home / 'sshd.pid'}\n"
        "UsePAM no\nStrictModes no\nPermitRootLogin prohibit-password\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\n"
        f"AcceptEnv LANG LC_*\nSubsystem sftp internal-sftp\n"
    )
    os.makedirs("/run/sshd", exist_ok=True)
    server = subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", str(config)])
    ssh = [
        "ssh",
        "-i",
        str(home / "client"),
        "-p",
        str(port),
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        f"UserKnownHostsFile={home / 'known_hosts'}",
        "-o",
        "BatchMode=yes",
        f"{getpass.getuser()}@127.0.0.1",
    ]
    deadline = time.monotonic() + 20
    while subprocess.run([*ssh, "true"], capture_output=True).returncode != 0:
        assert time.monotonic() < deadline, "sshd did not let us in"
        time.sleep(0.2)
    try:
        yield ssh
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_an_ssh_drop_mid_step_leaves_the_step_to_run_once(world: World, sshd: list[str]) -> None:
    _slow(world)
    # The login's environment is sshd's: the code under test is named again (a worktree's).
    path = [f"PYTHONPATH={os.environ['PYTHONPATH']}"] if "PYTHONPATH" in os.environ else []
    cockpit = ["env", *path, f"COCKPIT_CONFIG={world.root / 'cockpit.toml'}", sys.executable, "-m"]
    command = shlex.join([*cockpit, "cockpit", "item", "done", world.rid, "t0.deploy"])
    # A real login with a terminal (-tt), as a release manager on a bastion host.
    client = subprocess.Popen(
        [*sshd, "-tt", f"cd {shlex.quote(str(world.root))} && {command}"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait_for(lambda: (world.root / "runs.log").exists())
    assert world.status("t0.deploy") is Status.RUNNING
    client.kill()  # the connection drops: sshd hangs up the session
    client.wait()
    _wait_for(lambda: world.status("t0.deploy") is Status.DONE)
    assert world.read("runs.log").splitlines() == ["run"]
    assert world.actions("t0.deploy") == ["step.started", "step.succeeded"]


async def test_a_runbook_elsewhere_follows_a_running_rollback_to_its_end(world: World) -> None:
    """Alice rolls back from the CLI; bob's cockpit (not driving) opens the runbook meanwhile
    and sees the rollback's output as its supervisor writes it, then its result."""
    from cockpit.session import Session
    from screens.app import CockpitApp
    from screens.runbook import RunbookScreen
    from tests.appfixture import screen_text, settle
    from tests.test_deploy import bob

    _deployed(world)
    world.replan(
        PLAN.replace(QUICK_UNDO, PACED_UNDO).replace(
            "timeout: 10\n      - id: t0.config", "timeout: 60\n      - id: t0.config"
        )
    )
    proc = _cli(world.root, "rollback", "run", world.rid, "--reason", "p95 3x", "--yes")
    _wait_for(lambda: (world.root / "undos.log").exists())
    session = Session(store=world.store, loaded=world.loaded, operator=bob)
    app = CockpitApp(session, release_id=world.rid, refresh_seconds=3600, drive=False)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        app.push_screen(RunbookScreen(world.rid))
        for _ in range(200):  # the undo prints "half-21" (not its text), then waits for go-on
            await pilot.pause(0.1)
            if "half-21" in screen_text(app):
                break
        shown = screen_text(app)
        assert "--- rollback: following the running step" in shown, shown
        assert "undo t0.deploy: run sh -c" in shown and "half-21" in shown, shown
        (world.root / "go-on").touch()
        for _ in range(200):
            await pilot.pause(0.1)
            if "rolled back: " in screen_text(app):
                break
        assert "rolled back: t0.migrate, t0.deploy" in screen_text(app), screen_text(app)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    # The follower wrote nothing: no event is bob's but the plan's approval.
    bobs = [e.action for e in world.store.events(release_id=world.rid) if e.actor.startswith("bob")]
    assert set(bobs) == {"gate.approved"}, bobs


def test_the_apps_steps_start_from_a_spawned_zygote(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`cockpit open` starts its zygote as an interpreter of its own (spawned, not a fork of
    the starting app); a step decided while the app's threads run is forked by it, and the
    zygote ends when the app closes its socket."""
    import threading

    import cockpit.launch as launch

    monkeypatch.setattr(launch, "_zygote", None)
    monkeypatch.setattr(launch, "_zygote_process", None)
    launch.start_zygote()
    zygote, process = launch._zygote, launch._zygote_process
    assert zygote is not None and process is not None
    assert process.args[1:4] == ["-m", "cockpit.supervisor", "--zygote"]
    assert process.poll() is None
    asked: list[dict[str, object]] = []
    via = launch._via_zygote

    def spy(launch_: dict[str, object], errors: Path) -> object:
        stream = via(launch_, errors)
        asked.append({"launch": launch_, "answered": stream is not None})
        return stream

    monkeypatch.setattr(launch, "_via_zygote", spy)
    stop = threading.Event()
    app_thread = threading.Thread(target=stop.wait)  # the app's threads: no fork of this one
    app_thread.start()
    try:
        world.do("t0.backup")
    finally:
        stop.set()
        app_thread.join()
    assert [a["answered"] for a in asked] == [True]  # forked by the zygote, no new interpreter
    assert world.read("backup.txt") == "backup"
    assert world.actions("t0.backup") == ["step.started", "step.succeeded"]
    zygote.close()  # what the app's exit does
    assert process.wait(timeout=10) == 0
