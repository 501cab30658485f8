"""A program run on a pseudo-terminal of a given size until it ends: what it wrote there."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import termios
import time


def run_on_pty(
    argv: list[str], env: dict[str, str], *, rows: int = 24, cols: int = 80, timeout: float = 60
) -> bytes:
    """Run ``argv`` (a path first) on a new terminal ``cols`` x ``rows`` (set before it starts)
    and read what it writes until it ends or ``timeout`` seconds pass (the reading keeps it from
    blocking on a full terminal)."""
    return run_on_pty_status(argv, env, rows=rows, cols=cols, timeout=timeout)[0]


def run_on_pty_status(
    argv: list[str], env: dict[str, str], *, rows: int = 24, cols: int = 80, timeout: float = 60
) -> tuple[bytes, int]:
    """:func:`run_on_pty`, and the program's exit status."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: the program, on the terminal
        try:
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
            os.execve(argv[0], argv, env)
        finally:
            os._exit(127)
    deadline, said = time.monotonic() + timeout, b""
    try:
        while time.monotonic() < deadline:
            if select.select([fd], [], [], 0.1)[0]:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:  # the program ended: the terminal is gone
                    break
                if not chunk:
                    break
                said += chunk
    finally:
        os.close(fd)
        status = os.waitpid(pid, 0)[1]
    return said, os.waitstatus_to_exitcode(status)
