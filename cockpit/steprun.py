"""A step run from the operator's side: start its supervisor, follow it, attach to it, cancel it.

:func:`start` hands a step to a new :mod:`cockpit.supervisor` process and, unless asked to
detach, follows it: the spool's lines as they come and then the outcome event the supervisor
recorded. Following is only watching: if the cockpit is hung up, killed or quits, the step goes
on and its outcome is still recorded, once. :func:`attach` follows a step that is already
running, whoever started it, on this host or another (its output then comes from the database).
:func:`request_cancel` records who asked to stop a step and why, then signals its supervisor (on
this host; elsewhere the supervisor sees the request in the log).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cockpit.checklist import Checklist, Refused, Status, load_checklist
from cockpit.events import Event, NewEvent
from cockpit.follow import Changes, Waker, waker_for
from cockpit.launch import Detached, Follower, Output, Run, launch_of
from cockpit.lease import require_driver
from cockpit.liveness import intent_alive
from cockpit.rollback import RollbackResult
from cockpit.steplock import StepLock, step_dir
from cockpit.stepoutput import END_WAIT_S, StoredOutput
from cockpit.steps.base import Cancelled, StepFailed
from cockpit.vocabulary import (
    ROLLBACK_FINISHED,
    ROLLBACK_STARTED,
    STEP_BLOCKED,
    STEP_CANCEL_REQUESTED,
    STEP_CANCELLED,
    STEP_FAILED,
)

if TYPE_CHECKING:
    from cockpit.session import Session


def spool_path(session: Session, release_id: str, item_id: str) -> Path:
    folder = step_dir(session.store) / "spool" / release_id
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    return folder / f"{item_id}.{stamp}.{os.getpid()}.log"


def refuse_if_running(session: Session, release_id: str, item_id: str) -> None:
    """Refused, naming the holder, while a supervisor runs this step (on any host)."""
    holder = StepLock(session.store, release_id, item_id).holder()
    if holder is not None:
        raise Refused.said("run.busy", item=item_id, holder=holder.text(), release=release_id)


def start(
    session: Session,
    checklist: Checklist,
    item_id: str,
    *,
    mode: str = "run",
    output: Output | None = None,
    cancel: threading.Event | None = None,
    detach: bool = False,
    leave: threading.Event | None = None,
    reason: str | None = None,
) -> Event:
    """Run a step under its supervisor. Returns the outcome event (the intent's, with
    ``detach``); raises :class:`StepFailed` (:class:`Cancelled`) when the step failed (was
    cancelled), :class:`Refused` when it may not run, :class:`Detached` when ``leave`` is set
    before the outcome (the step goes on). ``reason``: why a done step runs again (``redo``),
    recorded in its intent."""
    release_id = checklist.release.id
    refuse_if_running(session, release_id, item_id)
    spool = spool_path(session, release_id, item_id)
    launch = launch_of(session, release_id, item_id, mode, spool)
    if reason:
        launch["reason"] = reason.strip()
    run = Run(session, launch, spool, output)
    run.handshake(f"{item_id}: the step's supervisor")
    if detach:
        run.until_started()
        return _last_of(session, release_id, item_id)

    def ask_to_stop() -> None:
        request_cancel(session, release_id, item_id, "cancelled from the cockpit")

    seq = run.follow(ask_to_stop, cancel, leave, item_id)
    if seq is None:
        raise StepFailed(f"{item_id}: the step's supervisor ended without an outcome (interrupted)")
    return _judged(session, release_id, seq)


def start_rollback(
    session: Session,
    release_id: str,
    reason: str,
    *,
    output: Output | None = None,
    cancel: threading.Event | None = None,
    leave: threading.Event | None = None,
) -> RollbackResult:
    """A rollback under its supervisor (:func:`cockpit.rollback.rollback` run apart from the
    terminal), followed to its end; an interrupted one is resumed where it stopped."""
    if not (reason and reason.strip()):
        raise Refused.said("roll.reason")
    require_driver(session, release_id)
    spool = spool_path(session, release_id, "rollback")
    launch = launch_of(session, release_id, "rollback", "run", spool) | {
        "kind": "rollback",
        "reason": reason.strip(),
    }
    run = Run(session, launch, spool, output)
    pid = run.handshake("the rollback's supervisor")

    def ask_to_stop() -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)

    seq = run.follow(ask_to_stop, cancel, leave, "rollback")
    if seq is None:
        raise StepFailed("the rollback's supervisor ended before the rollback did (interrupted)")
    return result_of(session, release_id, seq)


def result_of(session: Session, release_id: str, finished_seq: int) -> RollbackResult:
    """A finished rollback, from its ``rollback.finished`` event."""
    events = {ev.seq: ev for ev in session.store.events(release_id=release_id)}
    finished = events[finished_seq]
    info = finished.details_obj
    return RollbackResult(
        started=events[int(info["rollback_seq"])],
        undone=list(info.get("undone") or []),
        skipped=list(info.get("skipped") or []),
        failed=info.get("failed"),
        error=info.get("error"),
        left=list(info.get("left") or []),
        healthy=info.get("healthy"),
        elapsed_s=float(info.get("elapsed_s") or 0.0),
        finished=finished,
    )


def attach(
    session: Session,
    release_text: str,
    item_id: str,
    *,
    output: Output,
    leave: threading.Event | None = None,
    cancel: threading.Event | None = None,
) -> Status:
    """Follow a running step until its outcome (or its supervisor is gone); the step's status
    then. Its output comes from the spool when the step runs on this host and the spool is
    there, else from the database (a follower on another host), as soon as the log says it
    changed (:mod:`cockpit.follow`). Setting ``cancel`` asks the step to stop (recorded)."""
    store = session.store
    with waker_for(store.url) as waker:  # listening before the state is read: nothing is missed
        checklist = load_checklist(store, release_text)
        release_id = checklist.release.id
        state = checklist.state(item_id)
        if state.status is not Status.RUNNING or state.intent is None or not state.open_intent:
            raise Refused.said("run.not_running", item=item_id, status=state.status.value)
        details, started_at = state.intent
        source = _output_of(session, release_id, state.open_intent, details, output)
        asked, look_at, changes = False, 0.0, Changes(everything=True)
        while True:
            if isinstance(source, Follower) or changes.output_of(release_id, state.open_intent):
                source.drain()
            if cancel is not None and cancel.is_set() and not asked:
                asked = True
                with contextlib.suppress(Refused):  # it ended meanwhile
                    request_cancel(session, release_id, item_id, "cancelled from the runbook")
            if changes.events_of(release_id) or time.monotonic() >= look_at:
                now = load_checklist(store, release_id).state(item_id)
                if now.status is not Status.RUNNING or not intent_alive(details, started_at):
                    ended = now.status if now.status is not Status.RUNNING else Status.INTERRUPTED
                    _last_output(source, waker, ended is not Status.INTERRUPTED)
                    return ended
                look_at = time.monotonic() + LOOK_S
            if leave is not None and leave.is_set():
                raise Detached(item_id)
            changes = waker.wait(WAIT_S)


def running_rollback(session: Session, release_id: str) -> Event | None:
    """The release's rollback being run now (its ``rollback.started``, no end recorded, its
    process alive or its time not up), by this cockpit or another, here or elsewhere."""
    from cockpit.rollback import open_rollback

    events = session.store.events(
        release_id=release_id, actions=(ROLLBACK_STARTED, ROLLBACK_FINISHED)
    )
    found = open_rollback(events)
    if found is None:
        return None
    details = found.details_obj
    began = str(details.get("started_at") or found.recorded_at)
    return found if intent_alive(details, began) else None


def attach_rollback(
    session: Session, release_id: str, *, output: Output, leave: threading.Event | None = None
) -> RollbackResult | None:
    """Follow a rollback run by another cockpit (a colleague's, another host's) to its end:
    its output from the database as its supervisor writes it, then its result (``None``: it
    was interrupted, no end recorded). Nothing is written: a follower only watches."""
    store = session.store
    with waker_for(store.url) as waker:  # listening before the state is read: nothing is missed
        started = running_rollback(session, release_id)
        if started is None:
            raise Refused(f"no rollback of {release_id} is running")
        details, began = started.details_obj, str(started.details_obj.get("started_at"))
        source = StoredOutput(store, release_id, started.seq, output)
        look_at, changes = 0.0, Changes(everything=True)
        while True:
            if changes.output_of(release_id, started.seq):
                source.drain()
            if changes.events_of(release_id) or time.monotonic() >= look_at:
                ends = store.events(
                    release_id=release_id, after_seq=started.seq, actions=(ROLLBACK_FINISHED,)
                )
                end = next(
                    (e for e in ends if e.details_obj.get("rollback_seq") == started.seq), None
                )
                if end is not None or not intent_alive(details, began):
                    _last_output(source, waker, end is not None)
                    return None if end is None else result_of(session, release_id, end.seq)
                look_at = time.monotonic() + LOOK_S
            if leave is not None and leave.is_set():
                raise Detached("rollback")
            changes = waker.wait(WAIT_S)


# A follower looks at the step's state at least this often (a supervisor on this host may die
# without an outcome), and waits on the log in slices this long (to notice ``leave``).
LOOK_S = 1.0
WAIT_S = 0.25


def _output_of(
    session: Session, release_id: str, intent_seq: int, details: dict[str, Any], output: Output
) -> Follower | StoredOutput:
    """The spool when the step runs on this host and we may read its spool, else the
    database (another host, or another operator's private spool)."""
    spool = details.get("spool")
    if spool and details.get("host") == socket.gethostname() and os.access(spool, os.R_OK):
        return Follower(Path(spool), output)
    return StoredOutput(session.store, release_id, intent_seq, output)


def _last_output(source: Follower | StoredOutput, waker: Waker, finished: bool) -> None:
    """The output written up to the outcome: the spool's rest, or from the database up to the
    end mark its supervisor writes just after the outcome (a few seconds at most)."""
    source.drain()
    if not isinstance(source, StoredOutput) or not finished:
        return
    deadline = time.monotonic() + END_WAIT_S
    while not source.ended and (left := deadline - time.monotonic()) > 0:
        waker.wait(min(left, WAIT_S))
        source.drain()


def request_cancel(session: Session, release_id: str, item_id: str, reason: str) -> Event:
    """Record who asked to stop the step and why, then signal its supervisor when it runs on
    this host (a supervisor elsewhere sees the request in the log within a second)."""
    checklist = load_checklist(session.store, release_id)
    state = checklist.state(item_id)
    if state.status is not Status.RUNNING or state.intent is None:
        raise Refused.said("run.nothing_to_cancel", item=item_id, status=state.status.value)
    require_driver(session, checklist.release.id)
    release = checklist.release
    event = session.store.append(
        NewEvent(
            action=STEP_CANCEL_REQUESTED,
            release_id=release.id,
            subject=item_id,
            reason=reason,
            rehearsal=release.rehearsal,
            details={"intent_seq": state.open_intent},
        ),
        session.operator,
    )
    details = state.intent[0]
    pid = details.get("pid")
    if details.get("host") == socket.gethostname() and isinstance(pid, int):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGTERM)
    return event


def _last_of(session: Session, release_id: str, item_id: str) -> Event:
    for ev in reversed(session.store.events(release_id=release_id)):
        if ev.subject == item_id:
            return ev
    raise StepFailed(f"{item_id}: nothing recorded")


def _judged(session: Session, release_id: str, seq: int) -> Event:
    """The outcome event; a failure raises as the step did in-process."""
    found = [ev for ev in session.store.events(release_id=release_id) if ev.seq == seq]
    if not found:
        raise StepFailed(f"the outcome #{seq} is not in the log")
    event = found[0]
    error = str(event.details_obj.get("error") or "")
    if event.action == STEP_CANCELLED:
        raise Cancelled(error or "cancelled")
    if event.action in {STEP_FAILED, STEP_BLOCKED}:
        raise StepFailed(error or event.action)
    return event
