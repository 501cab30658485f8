"""Work done ahead, in a process forked as a command starts: on the other core while this one
goes on (``cockpit open`` reads the dashboard's first view there while the app imports
Textual and draws its first frame).

The child gets a copy of this process as it is (the parsed command, the session), runs one
function and sends back what it returns, pickled, through a pipe; it never touches the
terminal (its standard streams are ``/dev/null``) and ends on its own after ``limit_s``
whatever it is waiting for. A failure in it is not said: it sends nothing, and whoever waits
does the work itself, the usual way, which says what went wrong.

Forked only from a single thread (a fork copies one thread; a lock another thread held would
stay held in the child) and where there is ``os.fork``.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from typing import NoReturn

# The child's life at most, in seconds: a database that hangs does not keep it.
LIMIT_S = 10


class ReadAhead:
    """The child working ahead: :meth:`result` waits for what it sends; :meth:`cancel` ends
    it, whoever waits."""

    def __init__(self, pid: int, fd: int) -> None:
        self.pid, self._fd = pid, fd
        self._reading = threading.Lock()  # one reader of the pipe at a time
        self._child = threading.Lock()  # the child killed and reaped once (its pid is not
        self._reaped = False  # ours to signal after that: another process may have it)

    def ready(self) -> bool:
        """Whether the child has sent something (then :meth:`result` soon has it all): a
        look that never waits (``False`` while another thread reads)."""
        if not self._reading.acquire(blocking=False):
            return False
        try:
            return self._fd >= 0 and bool(select.select([self._fd], [], [], 0)[0])
        finally:
            self._reading.release()

    def result(self, timeout: float) -> object | None:
        """What the child's function returned, or ``None``: it failed, it was cancelled, or it
        sent nothing within ``timeout`` seconds (then it is killed). Once: the pipe is closed
        after."""
        with self._reading:
            if self._fd < 0:
                return None
            chunks: list[bytes] = []
            deadline = time.monotonic() + timeout
            finished = False
            try:
                while (left := deadline - time.monotonic()) > 0:
                    if not select.select([self._fd], [], [], left)[0]:
                        continue
                    chunk = os.read(self._fd, 1 << 16)
                    if not chunk:
                        finished = True
                        break
                    chunks.append(chunk)
            finally:
                os.close(self._fd)
                self._fd = -1
                self._end(kill=not finished)
        if not finished or not chunks:
            return None
        try:
            sent: object = pickle.loads(b"".join(chunks))
        except Exception:  # cut short (killed half-way): as if it sent nothing
            return None
        return sent

    def cancel(self) -> None:
        """Nobody needs it any more: end the child now if it has not ended (a thread waiting
        in :meth:`result` gets ``None`` at once); the pipe is closed unless one reads it."""
        self._end(kill=True)
        if self._reading.acquire(blocking=False):
            try:
                if self._fd >= 0:
                    os.close(self._fd)
                    self._fd = -1
            finally:
                self._reading.release()

    def _end(self, *, kill: bool) -> None:
        with self._child:
            if self._reaped:
                return
            if kill:
                with suppress(ProcessLookupError):
                    os.kill(self.pid, signal.SIGKILL)
            with suppress(ChildProcessError):  # reaped already (someone waits for any child)
                os.waitpid(self.pid, 0)
            self._reaped = True


def read_ahead(work: Callable[[], object], *, limit_s: int = LIMIT_S) -> ReadAhead | None:
    """Run ``work`` in a forked child; ``None`` (nothing started) where there is no fork or
    when this process runs more than one thread."""
    if not hasattr(os, "fork") or threading.active_count() > 1:
        return None
    read_fd, write_fd = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(read_fd)
        os.close(write_fd)
        return None
    if pid == 0:  # the child: never returns
        _child(work, read_fd, write_fd, limit_s)
    os.close(write_fd)
    return ReadAhead(pid, read_fd)


def _child(work: Callable[[], object], read_fd: int, write_fd: int, limit_s: int) -> NoReturn:
    code = 1
    try:
        os.close(read_fd)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        signal.alarm(limit_s)  # ended by the kernel then, whatever it waits for
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):  # never the terminal: the app draws on it
            os.dup2(null, fd)
        data = pickle.dumps(work(), protocol=pickle.HIGHEST_PROTOCOL)
        view = memoryview(data)
        while view:
            view = view[os.write(write_fd, view) :]
        code = 0
    finally:
        os._exit(code)  # no atexit, no flush of the parent's buffers: they are the parent's
