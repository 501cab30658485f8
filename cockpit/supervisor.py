"""The step supervisor: the small process that runs one step, apart from the operator's terminal.

``python -m cockpit.supervisor`` is started by :mod:`cockpit.steprun` in a session of its own
(no controlling terminal: a dropped SSH connection, a closed terminal or the cockpit's exit sends
it no hangup). It reads its launch (JSON, one line) on stdin, takes the step's lock
(:mod:`cockpit.steplock`), checks again under the lock that the step may run, then runs it with
:func:`cockpit.deploy.execute`: the intent is recorded before anything runs and the outcome
(succeeded, failed, cancelled) after, by this process, whatever happened to the cockpit that
started it. The step's output goes to a spool file, never to a terminal, and to the database's
``step_output`` for followers on other hosts (:mod:`cockpit.stepoutput`). It tells its starter
how it goes on stdout, one line each (``refused WHY``, ``accepted PID``, ``started``,
``finished SEQ``), and carries on alone when nobody reads them any more.

SIGTERM or SIGINT, or a ``step.cancel_requested`` event in the log (from any host), cancels
the step: the kinds stop within a second (a shell step's process group is killed) and the
outcome is ``step.cancelled``.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# The decisions a run mode answers to (the checklist's rules are asked again under the lock).
MODE_DECISION = {"run": "done", "resume": "resume", "redo": "redo"}
CANCEL_POLL_S = 0.5
WARM_UP_AFTER_S = 2.0  # the zygote loads the supervisor's modules this long after the app starts


class Reporter:
    """One line at a time to the cockpit that started us, while it listens."""

    def __init__(self) -> None:
        self.open = True

    def say(self, *words: str) -> None:
        if not self.open:
            return
        try:
            sys.stdout.write(" ".join(words) + "\n")
            sys.stdout.flush()
        except (BrokenPipeError, OSError, ValueError):
            self.open = False  # the starter is gone (detached, hung up): go on alone
            with contextlib.suppress(OSError):
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())


def session_of(launch: dict[str, Any]) -> Any:
    """The starter's session, rebuilt: the same config, log, checkpoint file and operator."""
    import msgspec

    from cockpit.config import Config, LoadedConfig
    from cockpit.operator import Operator
    from cockpit.session import Session
    from cockpit.store import Store

    config = msgspec.convert(launch["config"], Config)
    path = launch.get("config_path")
    loaded = LoadedConfig(config, None if path is None else Path(path))
    checkpoint = launch.get("checkpoint")
    store = Store(
        launch["database"],
        checkpoint_file=None if checkpoint is None else Path(checkpoint),
        busy_timeout_ms=config.database.busy_timeout_ms,
    )
    session = Session(loaded=loaded, store=store, lang=str(launch.get("lang", "en")))
    operator = Operator.from_evidence(launch["operator"])
    if launch.get("signing_key"):
        from cockpit.operator import with_key
        from cockpit.signing import SigningKey

        operator = with_key(operator, SigningKey(**launch["signing_key"]), session.signers)
    session.operator = operator
    return session


def watch_for_cancel(session: Any, release_id: str, item_id: str, after: int, cancel: Any) -> None:
    """Set ``cancel`` when the log gets a cancel request for this step (from any host)."""
    from cockpit.vocabulary import STEP_CANCEL_REQUESTED

    while not cancel.wait(CANCEL_POLL_S):
        try:
            asked = session.store.events(
                release_id=release_id, after_seq=after, actions=(STEP_CANCEL_REQUESTED,)
            )
        except Exception:  # the database hiccuped: look again next time
            continue
        if any(ev.subject == item_id for ev in asked):
            cancel.set()


def output_recorder(store: Any, release_id: str, item_id: str, head: int) -> Any:
    """The step's output to the database as well as the spool, for followers on other hosts
    (:mod:`cockpit.stepoutput`): filed under the step's intent, the ``step.started`` of the
    item after ``head`` (this supervisor holds the step's lock: no other can start it). The
    rollback's (``item_id`` ``rollback``) goes under the release's latest ``rollback.started``:
    the one it records or resumes before its first line of output, under the rollback's lock."""
    from cockpit.stepoutput import ROLLBACK_OUTPUT, OutputRecorder, intent_seq_of, rollback_seq_of

    return OutputRecorder(
        store,
        release_id,
        item_id,
        find_intent=(
            (lambda: rollback_seq_of(store, release_id))
            if item_id == ROLLBACK_OUTPUT
            else (lambda: intent_seq_of(store, release_id, item_id, head))
        ),
        mask=store.masker.mask,
        truncated_line=f"--- output truncated: the rest is in the spool on {socket.gethostname()}",
    )


def _on_signals(cancel: threading.Event) -> None:
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda _sig, _frame: cancel.set())


def supervise_rollback(session: Any, launch: dict[str, Any], report: Reporter, cancel: Any) -> None:
    """A rollback under its supervisor: one at a time per release (the lock of the release's
    ``rollback``), its undos run and recorded here, whatever happens to the cockpit."""
    from cockpit.errors import CockpitError
    from cockpit.rollback import rollback
    from cockpit.steplock import Holder, StepLock

    release_id, store, operator = launch["release_id"], session.store, session.operator
    since = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    lock = StepLock(store, release_id, "rollback")
    held = lock.acquire(Holder(operator.actor, socket.gethostname(), os.getpid(), since))
    if held is not None:
        report.say(
            "refused", session.t("sup.rollback_running", release=release_id, holder=held.text())
        )
        return
    shared = output_recorder(store, release_id, "rollback", 0)
    try:
        with open(launch["spool"], "a", encoding="utf-8", buffering=1) as spool:
            report.say("accepted", str(os.getpid()))

            def write(line: str) -> None:
                spool.write(line + "\n")
                shared.add(line)
                shared.intent_recorded()  # every line comes after the rollback's intent

            try:
                result = rollback(
                    session, release_id, launch["reason"], output=write, cancel=cancel
                )
            except CockpitError as exc:
                report.say("refused", exc.text(session.lang))
                return
            assert result.finished is not None
            report.say("finished", str(result.finished.seq))
    finally:
        shared.close()
        lock.release()
        store.close()


def supervise(session: Any, launch: dict[str, Any], report: Reporter, cancel: Any) -> None:
    """Take the step's lock, check again under it, run the step, record its outcome."""
    if launch.get("kind") == "rollback":
        supervise_rollback(session, launch, report, cancel)
        return
    from cockpit import deploy
    from cockpit.checklist import load_checklist
    from cockpit.errors import CockpitError
    from cockpit.steplock import Holder, StepLock

    release_id, item_id, mode = launch["release_id"], launch["item_id"], launch["mode"]
    store, operator = session.store, session.operator
    since = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    lock = StepLock(store, release_id, item_id)
    holder = Holder(operator.actor, socket.gethostname(), os.getpid(), since)
    held = lock.acquire(holder)
    if held is not None:
        report.say("refused", session.t("sup.step_running", item=item_id, holder=held.text()))
        return
    try:
        checklist = load_checklist(store, release_id)
        roles = session.loaded.config.roles
        reason = launch.get("reason")  # redo of a done step: why it runs again
        why = checklist.why_not(item_id, MODE_DECISION[mode], operator, roles, reason)
        if why is not None:
            report.say("refused", f"{item_id}: {why.text(session.lang)}")
            return
        head = store.head()[0]
        threading.Thread(
            target=watch_for_cancel,
            args=(session, release_id, item_id, head, cancel),
            name="cancel-watch",
            daemon=True,
        ).start()
        spool = open(launch["spool"], "a", encoding="utf-8", buffering=1)  # noqa: SIM115
        shared = output_recorder(store, release_id, item_id, head)
        report.say("accepted", str(os.getpid()))

        def write(line: str) -> None:
            spool.write(line + "\n")
            shared.add(line)

        def on_intent() -> None:
            report.say("started")
            shared.intent_recorded()

        try:
            event = deploy.execute(
                session,
                checklist,
                item_id,
                mode=mode,
                output=write,
                cancel=cancel,
                spool=launch["spool"],
                on_intent=on_intent,
                reason=reason,
            )
            report.say("finished", str(event.seq))
        except CockpitError as exc:
            write(f"--- {exc.text(session.lang)}")
            last = store.events(release_id=release_id, last=1)
            report.say("finished", str(last[0].seq if last else 0))
        finally:
            cancel.set()  # stops the cancel watcher
            spool.close()
            shared.close()
    finally:
        lock.release()
        store.close()


def main() -> int:
    """``python -m cockpit.supervisor``: the launch on stdin, the reports on stdout; with
    ``--zygote FD``, the app's zygote on the socket ``FD`` (:func:`zygote`)."""
    if sys.argv[1:2] == ["--zygote"]:
        zygote(socket.socket(fileno=int(sys.argv[2])))
    cancel = threading.Event()
    _on_signals(cancel)
    launch = json.loads(sys.stdin.readline())
    supervise(session_of(launch), launch, Reporter(), cancel)
    return 0


def _become_supervisor(launch: dict[str, Any], report_fd: int, err_fd: int, session: Any) -> None:
    """In a forked child: leave the cockpit's session and terminal, report on ``report_fd``,
    write errors to ``err_fd``, take fresh handles on the log (nothing the parent holds is used
    or closed here), run the step, and end with ``os._exit``: never returns."""
    code = 0
    try:
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 0)
        os.dup2(report_fd, 1)
        os.dup2(err_fd, 2)
        sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
        cancel = threading.Event()
        _on_signals(cancel)
        from cockpit.session import Session
        from cockpit.store import Store

        if session is None:
            session = session_of(launch)
        else:
            store = Store(
                launch["database"],
                checkpoint_file=None
                if launch["checkpoint"] is None
                else Path(launch["checkpoint"]),
                busy_timeout_ms=session.loaded.config.database.busy_timeout_ms,
            )
            session = Session(
                loaded=session.loaded, store=store, operator=session.operator, lang=session.lang
            )
        supervise(session, launch, Reporter(), cancel)
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        os._exit(code)


def forked(session: Any, launch: dict[str, Any], report_fd: int, errors: str) -> None:
    """The supervisor as a fork of a single-threaded cockpit (the CLI): no new interpreter to
    start and nothing to import, so a step starts within milliseconds. Never returns."""
    err = os.open(errors, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    _become_supervisor(launch, report_fd, err, session)


def _warm_up() -> None:
    """Load what a supervisor needs (the engine, the plan reader, the local step kinds, the
    database layer) and run what every supervisor runs once, on a throwaway log, so the first
    use of the database layer (its statement caches, the driver) is paid here and not by each
    step."""
    import tempfile

    import cockpit.checklist
    import cockpit.deploy
    import cockpit.plan.loader
    import cockpit.stepoutput
    import cockpit.steps.http
    import cockpit.steps.shell  # noqa: F401
    from cockpit.store import Store

    with tempfile.TemporaryDirectory(prefix="cockpit-zygote-") as tmp:
        store = Store(f"sqlite:///{tmp}/warm.db").open()
        try:
            store.head()
            store.events(release_id="r-warm-up", last=1)
            store.events(release_id="r-warm-up", after_seq=0, actions=("note",))
        finally:
            store.close()


def zygote(sock: socket.socket) -> None:
    """A process started by the cockpit app (:func:`cockpit.launch.start_zygote`) that forks a
    supervisor for each step the app asks for (the launch, the report pipe and the error file
    come over ``sock``): the app's steps start as fast as the CLI's, without forking a process
    that runs threads. Ends when the app closes its end of ``sock``. Never returns."""
    try:
        os.setsid()
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the supervisors
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        # What a supervisor needs is loaded here once rather than in each one, but only once
        # the cockpit has had its start to itself (two cores are common on a bastion: this
        # warm-up, ~250 ms of work, would share them with the app's first screen), or at once
        # after a first step asked for early (that supervisor loads what it needs itself).
        sock.settimeout(WARM_UP_AFTER_S)
        warm = False
        while True:
            try:
                message, fds, _flags, _addr = socket.recv_fds(sock, 1 << 20, 2)
            except TimeoutError:
                message, fds = None, []
            except OSError:
                break
            if message is not None:
                if not message or len(fds) != 2:
                    break
                report_fd, err_fd = fds
                if os.fork() == 0:
                    sock.close()
                    _become_supervisor(json.loads(message), report_fd, err_fd, None)
                os.close(report_fd)
                os.close(err_fd)
            if not warm:
                _warm_up()
                warm = True
                sock.settimeout(None)
    finally:
        os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
