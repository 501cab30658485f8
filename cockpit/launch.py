"""Starting a supervisor and reading it: the launch, the three ways to start one (a fork of a
single-threaded cockpit, the app's zygote, a new interpreter), its report lines, and the spool
followed line by line. :mod:`cockpit.steprun` builds on this; nothing here knows about steps.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING

import msgspec

# The checklist (PyYAML, the plans), the step kinds and the output feed are imported where used:
# `cockpit open` imports this module for start_zygote before the app's first frame.

if TYPE_CHECKING:
    from cockpit.session import Session

Output = Callable[[str], None]
HANDSHAKE_S = 60.0  # a supervisor that says nothing for this long is not coming
POLL_S = 0.05


class Detached(Exception):
    """The cockpit stopped following; the step goes on under its supervisor."""


def quiet(_line: str) -> None:
    return None


class Run:
    """One supervisor from the starter's side: started, its handshake read, then followed."""

    def __init__(
        self, session: Session, launch: dict[str, object], spool: Path, output: Output | None
    ) -> None:
        self.spool = spool
        self.reap, stream = _launch(session, launch, spool.with_suffix(".err"))
        self.lines = _lines_of(stream)
        self.follower = Follower(spool, output or quiet)

    def handshake(self, what: str) -> int:
        """The supervisor's pid once it holds the lock; :class:`Refused` when it may not run."""
        from cockpit.checklist import Refused
        from cockpit.steps.base import StepFailed

        first = _next(self.lines, HANDSHAKE_S)
        if first is None:
            raise StepFailed(f"{what} did not start (see {self.spool}.err)")
        word, _, rest = first.partition(" ")
        if word == "refused":
            raise Refused(rest)
        if word != "accepted":
            raise StepFailed(f"{what} said {first!r}")
        return int(rest)

    def until_started(self) -> None:
        """Wait for the intent (or an early end), then leave it running."""
        while (said := _next(self.lines, HANDSHAKE_S)) is not None:
            if said == "started" or said.startswith("finished"):
                break
        self.follower.drain()

    def follow(
        self,
        ask_to_stop: Callable[[], None],
        cancel: threading.Event | None,
        leave: threading.Event | None,
        what: str,
    ) -> int | None:
        """Pass on the spool's lines until the supervisor reports the outcome's seq (``None``
        when it ended without one). ``cancel`` asks it to stop (once); ``leave`` raises
        :class:`Detached`, and the supervisor goes on."""
        seq: int | None = None
        asked = False
        while True:
            self.follower.drain()
            if cancel is not None and cancel.is_set() and not asked:
                asked = True
                ask_to_stop()
            if leave is not None and leave.is_set():
                raise Detached(what)
            said = _next(self.lines, POLL_S)
            if said is None and self.lines.done:
                break
            if said is not None and said.startswith("refused"):
                from cockpit.checklist import Refused

                raise Refused(said.partition(" ")[2])
            if said is not None and said.startswith("finished"):
                seq = int(said.split()[1])
                break
        # The outcome is recorded: the supervisor is only exiting now. Reap it without waiting.
        threading.Thread(target=self.reap, name="reap-supervisor", daemon=True).start()
        self.follower.drain()
        return seq


# --- starting ----------------------------------------------------------------------------------


def launch_of(
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
        # The key the operator signs with (its public half and where it lives: a file or the
        # agent's socket; never the private key), so the supervisor signs the step's events too.
        "signing_key": _key_data(session),
        "lang": session.lang,
    }


def _key_data(session: Session) -> dict[str, object] | None:
    key = session.operator.signing_key
    if key is None:
        return None
    return {"public": key.public, "path": key.path, "source": key.source, "agent": key.agent}


# The app's supervisor factory (:func:`start_zygote`), when it has one.
_zygote: socket.socket | None = None
_zygote_process: subprocess.Popen[bytes] | None = None
_zygote_lock = threading.Lock()


def start_zygote() -> None:
    """Start the process that will fork the app's step supervisors
    (:func:`cockpit.supervisor.zygote`), so a step started from the app costs a fork, not a new
    interpreter. It is an interpreter of its own (``python -m cockpit.supervisor --zygote``,
    spawned: a fork of the app would copy, page by page, all the memory the app writes while it
    starts, ~10 ms of its first screen). It ends when this process exits."""
    global _zygote, _zygote_process
    if _zygote is not None or not hasattr(os, "fork"):
        return
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        _zygote_process = subprocess.Popen(
            [sys.executable, "-m", "cockpit.supervisor", "--zygote", str(theirs.fileno())],
            pass_fds=[theirs.fileno()],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,  # never on the app's terminal
        )
    except OSError:  # no zygote: each step starts a new interpreter
        ours.close()
        return
    finally:
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
    the step starts within milliseconds. A cockpit with threads (the app) asks its zygote (a
    process of its own, :func:`start_zygote`); without one it starts a new interpreter, since
    a fork of a process with threads would copy locks those threads may hold."""
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


class Follower:
    """The spool's whole lines, each passed on once."""

    def __init__(self, path: Path, output: Output) -> None:
        from cockpit.stepoutput import LineFeed

        self.path, self.offset, self.lines = path, 0, LineFeed(output)

    def drain(self) -> None:
        try:
            with open(self.path, encoding="utf-8", errors="replace") as spool:
                spool.seek(self.offset)
                chunk = spool.read()
                self.offset = spool.tell()
        except FileNotFoundError:
            return
        self.lines.feed(chunk)
