"""Running a program for a check or a step: :func:`run_process` (its own process group, a
deadline, cancel within a tenth of a second) and :class:`CheckFailed`, the one-line failure of a
check (or of a program that cannot start). The probes themselves are in :mod:`cockpit.probes`;
callers wrap them in :meth:`cockpit.store.Store.write_ahead`, so the intent is in the log before
anything runs.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from cockpit.errors import CockpitError

MAX_TAIL_LINES = 20


class CheckFailed(CockpitError):
    """A probe or step ran and did not pass."""

    exit_code = 1


@dataclass(frozen=True)
class ProcessResult:
    """How a program ended: its exit code (``-9`` when killed), and whether it was killed for
    running past its timeout or because the operator cancelled."""

    code: int
    timed_out: bool = False
    cancelled: bool = False


def run_process(
    argv: list[str],
    timeout: float,
    cwd: Path,
    output: Callable[[str], None],
    *,
    env: Mapping[str, str] | None = None,
    cancel: threading.Event | None = None,
) -> ProcessResult:
    """Run ``argv`` (a list, never a shell string) in its own process group in ``cwd`` with
    ``env`` (default: the cockpit's environment), feeding each line of stdout+stderr to
    ``output``. The whole group is killed after ``timeout`` seconds (with a line saying so) or
    within a tenth of a second of ``cancel`` being set. Raises :class:`CheckFailed` when the
    program cannot be started."""
    try:
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            env=dict(os.environ if env is None else env),
            start_new_session=True,
        )
    except OSError as exc:
        raise CheckFailed(f"{argv[0]}: cannot run ({exc.strerror or exc})") from None
    deadline = time.monotonic() + timeout
    finished = threading.Event()
    why: list[str] = []

    def watch() -> None:
        # One watcher for both reasons to stop, so a cancel is seen while the reader blocks.
        while not finished.wait(0.05):
            if cancel is not None and cancel.is_set():
                why.append("cancelled")
            elif time.monotonic() >= deadline:
                why.append("timed_out")
            else:
                continue
            _kill_group(proc)
            return

    watcher = threading.Thread(target=watch, name=f"watch-{proc.pid}", daemon=True)
    watcher.start()
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            output(line.rstrip("\n"))
        code = proc.wait()
    finally:
        finished.set()
        watcher.join()
        if proc.poll() is None:
            # The reader stopped early (output raised): leave nothing behind.
            _kill_group(proc)
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
    timed_out = why == ["timed_out"]
    if timed_out:
        output(f"timed out after {timeout:g} s")
    return ProcessResult(code, timed_out=timed_out, cancelled=why == ["cancelled"])


def _kill_group(proc: subprocess.Popen[str]) -> None:
    try:
        os.killpg(proc.pid, 9)
    except ProcessLookupError:
        return
