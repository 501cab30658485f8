"""A step run from the operator's side: start its supervisor, follow it, attach to it, cancel it.

:func:`start` hands a step to a new :mod:`cockpit.supervisor` process and, unless asked to
detach, follows it: the spool's lines as they come and then the outcome event the supervisor
recorded. Following is only watching: if the cockpit is hung up, killed or quits, the step goes
on and its outcome is still recorded, once. :func:`attach` follows a step that is already
running, whoever started it. :func:`request_cancel` records who asked to stop a step and why,
then signals its supervisor (on this host; elsewhere the supervisor sees the request in the log).
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING

import msgspec

from cockpit.checklist import Checklist, Refused, Status, load_checklist
from cockpit.events import Event, NewEvent
from cockpit.liveness import intent_alive
from cockpit.rollback import RollbackResult
from cockpit.steplock import StepLock, step_dir
from cockpit.steps.base import Cancelled, StepFailed
from cockpit.vocabulary import STEP_BLOCKED, STEP_CANCEL_REQUESTED, STEP_CANCELLED, STEP_FAILED

if TYPE_CHECKING:
    from cockpit.session import Session

Output = Callable[[str], None]
HANDSHAKE_S = 60.0  # a supervisor that says nothing for this long is not coming
POLL_S = 0.05


class Detached(Exception):
    """The cockpit stopped following; the step goes on under its supervisor."""


def _quiet(_line: str) -> None:
    return None


def spool_path(session: Session, release_id: str, item_id: str) -> Path:
    folder = step_dir(session.store) / "spool" / release_id
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    return folder / f"{item_id}.{stamp}.{os.getpid()}.log"


def refuse_if_running(session: Session, release_id: str, item_id: str) -> None:
    """Refused, naming the holder, while a supervisor runs this step (on any host)."""
    holder = StepLock(session.store, release_id, item_id).holder()
    if holder is not None:
        raise Refused(
            f"{item_id} is running: {holder.text()}; follow it with "
            f"`cockpit item attach {release_id} {item_id}`"
        )


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
) -> Event:
    """Run a step under its supervisor. Returns the outcome event (the intent's, with
    ``detach``); raises :class:`StepFailed` (:class:`Cancelled`) when the step failed (was
    cancelled), :class:`Refused` when it may not run, :class:`Detached` when ``leave`` is set
    before the outcome (the step goes on)."""
    release_id = checklist.release.id
    refuse_if_running(session, release_id, item_id)
    spool = spool_path(session, release_id, item_id)
    launch = _launch_of(session, release_id, item_id, mode, spool)
    reap, stream = _launch(session, launch, spool.with_suffix(".err"))
    lines = _lines_of(stream)
    first = _next(lines, HANDSHAKE_S)
    if first is None:
        raise StepFailed(f"{item_id}: the step's supervisor did not start (see {spool}.err)")
    word, _, rest = first.partition(" ")
    if word == "refused":
        raise Refused(rest)
    if word != "accepted":
        raise StepFailed(f"{item_id}: the step's supervisor said {first!r}")
    follower = _Follower(spool, output or _quiet)
    if detach:
        while (said := _next(lines, HANDSHAKE_S)) is not None:
            if said in {"started"} or said.startswith("finished"):
                break
        follower.drain()
        return _last_of(session, release_id, item_id)
    outcome_seq: int | None = None
    asked = False
    while True:
        follower.drain()
        if cancel is not None and cancel.is_set() and not asked:
            asked = True
            request_cancel(session, release_id, item_id, "cancelled from the cockpit")
        if leave is not None and leave.is_set():
            raise Detached(item_id)
        said = _next(lines, POLL_S)
        if said is None and lines.done:
            break
        if said is not None and said.startswith("finished"):
            outcome_seq = int(said.split()[1])
            break
    # The outcome is recorded: the supervisor is only exiting now. Reap it without waiting.
    threading.Thread(target=reap, name="reap-supervisor", daemon=True).start()
    follower.drain()
    if outcome_seq is None:
        raise StepFailed(f"{item_id}: the step's supervisor ended without an outcome (interrupted)")
    return _judged(session, release_id, outcome_seq)


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
        raise Refused("a rollback needs a reason (what was seen, or the trigger)")
    spool = spool_path(session, release_id, "rollback")
    launch = _launch_of(session, release_id, "rollback", "run", spool) | {
        "kind": "rollback",
        "reason": reason.strip(),
    }
    reap, stream = _launch(session, launch, spool.with_suffix(".err"))
    lines = _lines_of(stream)
    first = _next(lines, HANDSHAKE_S)
    if first is None:
        raise StepFailed(f"the rollback's supervisor did not start (see {spool}.err)")
    word, _, rest = first.partition(" ")
    if word == "refused":
        raise Refused(rest)
    pid = int(rest)
    follower = _Follower(spool, output or _quiet)
    seq: int | None = None
    asked = False
    while True:
        follower.drain()
        if cancel is not None and cancel.is_set() and not asked:
            asked = True
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        if leave is not None and leave.is_set():
            raise Detached("rollback")
        said = _next(lines, POLL_S)
        if said is None and lines.done:
            break
        if said is not None and said.startswith("refused"):
            raise Refused(said.partition(" ")[2])
        if said is not None and said.startswith("finished"):
            seq = int(said.split()[1])
            break
    threading.Thread(target=reap, name="reap-supervisor", daemon=True).start()
    follower.drain()
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
    """Follow a running step from its spool until its outcome (or its supervisor is gone);
    the step's status then. Setting ``cancel`` asks the step to stop (recorded)."""
    checklist = load_checklist(session.store, release_text)
    state = checklist.state(item_id)
    if state.status is not Status.RUNNING or state.intent is None:
        raise Refused(f"{item_id} is not running ({state.status.value})")
    details, started_at = state.intent
    spool = details.get("spool")
    if not spool or not Path(spool).exists():
        output(f"(no output here: the step runs on {details.get('host', '?')})")
    follower = _Follower(Path(spool), output) if spool and Path(spool).exists() else None
    asked = False
    while True:
        if follower is not None:
            follower.drain()
        if cancel is not None and cancel.is_set() and not asked:
            asked = True
            with contextlib.suppress(Refused):  # it ended meanwhile
                request_cancel(session, checklist.release.id, item_id, "cancelled from the runbook")
        now = load_checklist(session.store, checklist.release.id).state(item_id)
        if now.status is not Status.RUNNING or not intent_alive(details, started_at):
            if follower is not None:
                follower.drain()
            return now.status if now.status is not Status.RUNNING else Status.INTERRUPTED
        if leave is not None and leave.wait(0.25):
            raise Detached(item_id)
        time.sleep(0.25)


def request_cancel(session: Session, release_id: str, item_id: str, reason: str) -> Event:
    """Record who asked to stop the step and why, then signal its supervisor when it runs on
    this host (a supervisor elsewhere sees the request in the log within a second)."""
    checklist = load_checklist(session.store, release_id)
    state = checklist.state(item_id)
    if state.status is not Status.RUNNING or state.intent is None:
        raise Refused(f"{item_id} is not running ({state.status.value}): nothing to cancel")
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


# --- starting ----------------------------------------------------------------------------------


def _launch_of(
    session: Session, release_id: str, item_id: str, mode: str, spool: Path
) -> dict[str, object]:
    """What a supervisor needs: the step, its spool, and the session as data."""
    store, loaded = session.store, session.loaded
    return {
        "release_id": release_id,
        "item_id": item_id,
        "mode": mode,
        "spool": str(spool),
        "database": store.url,
        "checkpoint": None if store.checkpoint_file is None else str(store.checkpoint_file),
        "config": msgspec.to_builtins(loaded.config),
        "config_path": None if loaded.path is None else str(loaded.path),
        "operator": session.operator.evidence(),
        "lang": session.lang,
    }


# The app's supervisor factory (:func:`start_zygote`), when it has one.
_zygote: socket.socket | None = None
_zygote_lock = threading.Lock()


def start_zygote() -> None:
    """Before the app starts its threads: fork the process that will fork the app's step
    supervisors (:func:`cockpit.supervisor.zygote`), so a step started from the app costs a
    fork, not a new interpreter. It ends when this process exits."""
    global _zygote
    if _zygote is not None or threading.active_count() != 1 or not hasattr(os, "fork"):
        return
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    if os.fork() == 0:  # the child: never returns
        ours.close()
        from cockpit.supervisor import zygote

        zygote(theirs)
    theirs.close()
    _zygote = ours


def _via_zygote(launch: dict[str, object], errors: Path) -> IO[str] | None:
    """Ask the zygote for a supervisor; ``None`` when there is none (or it is gone)."""
    if _zygote is None:
        return None
    read_fd, write_fd = os.pipe()
    err_fd = os.open(errors, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with _zygote_lock:
            socket.send_fds(_zygote, [json.dumps(launch).encode()], [write_fd, err_fd])
    except OSError:
        os.close(read_fd)
        return None
    finally:
        os.close(write_fd)
        os.close(err_fd)
    return os.fdopen(read_fd, encoding="utf-8", errors="replace")


def _launch(
    session: Session, launch: dict[str, object], errors: Path
) -> tuple[Callable[[], None], IO[str]]:
    """Start the supervisor; how to reap it, and the stream of its reports.

    A single-threaded cockpit (the CLI) forks it: the child has everything loaded already, so
    the step starts within milliseconds. A cockpit with threads (the app) asks its zygote,
    forked before the threads started; without one it starts a new interpreter, since a fork
    of a process with threads would copy locks those threads may hold."""
    if threading.active_count() == 1 and hasattr(os, "fork"):
        from cockpit.supervisor import forked

        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            os.close(read_fd)
            forked(session, dict(launch), write_fd, str(errors))
        os.close(write_fd)

        def reap_fork() -> None:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)

        return reap_fork, os.fdopen(read_fd, encoding="utf-8", errors="replace")
    stream = _via_zygote(launch, errors)
    if stream is not None:
        return (lambda: None), stream
    with open(errors, "w", encoding="utf-8") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cockpit.supervisor"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            start_new_session=True,  # no terminal: a hangup of ours never reaches it
            close_fds=True,
        )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(json.dumps(launch) + "\n")
    proc.stdin.close()
    return proc.wait, proc.stdout  # type: ignore[return-value]


# --- following ---------------------------------------------------------------------------------


class _Lines:
    """The supervisor's report lines, read by a thread so the follower never blocks on them."""

    def __init__(self, stream: IO[str]) -> None:
        self.queue: queue.Queue[str] = queue.Queue()
        self.done = False
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: IO[str]) -> None:
        try:
            for line in stream:
                self.queue.put(line.rstrip("\n"))
        finally:
            self.done = True


def _lines_of(stream: IO[str]) -> _Lines:
    return _Lines(stream)


def _next(lines: _Lines, wait: float) -> str | None:
    """The next line within ``wait`` seconds; ``None`` sooner when the supervisor is gone."""
    deadline = time.monotonic() + wait
    while True:
        try:
            return lines.queue.get(timeout=min(POLL_S, max(0.0, deadline - time.monotonic())))
        except queue.Empty:
            if lines.done and lines.queue.empty():
                return None
            if time.monotonic() >= deadline:
                return None


class _Follower:
    """The spool's whole lines, each passed on once."""

    def __init__(self, path: Path, output: Output) -> None:
        self.path, self.output, self.offset, self.partial = path, output, 0, ""

    def drain(self) -> None:
        try:
            with open(self.path, encoding="utf-8", errors="replace") as spool:
                spool.seek(self.offset)
                chunk = spool.read()
                self.offset = spool.tell()
        except FileNotFoundError:
            return
        text = self.partial + chunk
        *whole, self.partial = text.split("\n")
        for line in whole:
            self.output(line)


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
