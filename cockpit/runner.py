"""Running what check and step items ask for: probes and shell steps.

Every runner returns the details recorded with the outcome event and raises :class:`CheckFailed`
(one line saying what was found) when the check or step did not pass. Callers wrap them in
:meth:`cockpit.store.Store.write_ahead`, so the intent is in the log before anything runs.
A ``command`` probe runs without the cockpit's secrets in its environment, its output masked
(:mod:`cockpit.secrets`).
"""

from __future__ import annotations

import fnmatch
import os
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cockpit.config import EnvironmentConfig, LoadedConfig
from cockpit.errors import CockpitError
from cockpit.events import redact_text
from cockpit.plan import (
    CommandProbe,
    FileExistsProbe,
    FileYoungerThanProbe,
    GitBranchProbe,
    GitCleanProbe,
    HttpProbe,
    Probe,
)
from cockpit.secrets import Masker, known_secrets
from cockpit.urls import redact_url

MAX_TAIL_LINES = 20


class CheckFailed(CockpitError):
    """A probe or step ran and did not pass."""

    exit_code = 1


def run_probe(probe: Probe, env: EnvironmentConfig, loaded: LoadedConfig) -> dict[str, Any]:
    """Look at the world as ``probe`` says; details of what was seen, or :class:`CheckFailed`."""
    if isinstance(probe, GitCleanProbe):
        return _git_clean(loaded.resolve(env.git.repo))
    if isinstance(probe, GitBranchProbe):
        return _git_branch(loaded.resolve(env.git.repo), probe.branches or env.git.branches)
    if isinstance(probe, CommandProbe):
        return _command(
            list(probe.argv), probe.timeout, loaded.base_dir, known_secrets(loaded.config)
        )
    if isinstance(probe, HttpProbe):
        return _http(probe.url, probe.status, probe.timeout)
    if isinstance(probe, FileExistsProbe):
        path = loaded.resolve(probe.path)
        if not path.exists():
            raise CheckFailed(f"{path}: does not exist")
        return {"path": str(path)}
    if isinstance(probe, FileYoungerThanProbe):
        path = loaded.resolve(probe.path)
        try:
            age_h = (time.time() - path.stat().st_mtime) / 3600
        except FileNotFoundError:
            raise CheckFailed(f"{path}: does not exist") from None
        if age_h >= probe.hours:
            raise CheckFailed(f"{path}: {age_h:.1f} h old, needs to be under {probe.hours:g} h")
        return {"path": str(path), "age_hours": round(age_h, 2)}
    raise CheckFailed(f"probe {type(probe).__name__} has no runner")


def _repo(path: Path) -> Any:
    import git

    try:
        return git.Repo(path)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise CheckFailed(f"{path}: not a git repository") from None


def _git_clean(path: Path) -> dict[str, Any]:
    repo = _repo(path)
    dirty = repo.git.status("--porcelain").splitlines()
    if dirty:
        shown = ", ".join(line[3:] for line in dirty[:3])
        raise CheckFailed(f"{path}: {len(dirty)} uncommitted change(s): {shown}")
    return {"repo": str(path), "head": repo.head.commit.hexsha}


def _git_branch(path: Path, allowed: list[str]) -> dict[str, Any]:
    repo = _repo(path)
    if repo.head.is_detached:
        raise CheckFailed(f"{path}: HEAD is detached at {repo.head.commit.hexsha[:12]}")
    branch = repo.active_branch.name
    if not any(fnmatch.fnmatchcase(branch, pattern) for pattern in allowed):
        raise CheckFailed(f"{path}: on branch {branch}, allowed: {', '.join(allowed)}")
    return {"repo": str(path), "branch": branch, "head": repo.head.commit.hexsha}


def _command(argv: list[str], timeout: float, cwd: Path, known: Masker) -> dict[str, Any]:
    lines: list[str] = []
    env = known.scrubbed_env(os.environ, ())
    code = run_process(argv, timeout, cwd, lines.append, env=env).code
    tail = [redact_text(known.mask(line)) for line in lines[-MAX_TAIL_LINES:]]
    if code != 0:
        last = tail[-1] if tail else "no output"
        raise CheckFailed(f"{argv[0]} exited {code}: {last}")
    return {"argv": argv, "exit_code": code, "output_tail": tail}


def _http(url: str, status: int, timeout: float) -> dict[str, Any]:
    import httpx

    started = time.perf_counter()
    try:
        response = httpx.get(url, timeout=timeout, follow_redirects=False)
    except httpx.HTTPError as exc:
        raise CheckFailed(f"GET {redact_url(url)}: {type(exc).__name__}: {exc}") from None
    elapsed_ms = round((time.perf_counter() - started) * 1000)
    if response.status_code != status:
        raise CheckFailed(
            f"GET {redact_url(url)}: status {response.status_code}, expected {status}"
        )
    return {"url": url, "status": response.status_code, "elapsed_ms": elapsed_ms}


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
