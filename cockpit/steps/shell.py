"""The ``shell`` step kind: run a program from an argv list (never a shell string), with the
step's environment variables over the cockpit's, in its working directory, streaming its output.

The cockpit's own secrets (:mod:`cockpit.secrets`: the database URL, AWS keys, metrics tokens)
are left out of the program's environment unless the step names them in ``inherit`` or sets them
in ``env``; every known secret value is masked in what it prints, streamed and recorded alike.

Each argv element is rendered on its own (``{version}``, ``{release}``, ``{env}``), so a value
such as ``x; rm -rf /`` stays one argument and never becomes shell syntax. The process runs in its
own process group: the timeout and a cancel kill the whole group, children included.
``check_argv`` re-checks an interrupted step (exit 0: its effect is there) and ``undo_argv``
reverses it in a rollback.
"""

from __future__ import annotations

import os
import shlex
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cockpit.errors import Phrase
from cockpit.events import redact_text
from cockpit.plan.runs import ShellRun
from cockpit.runner import MAX_TAIL_LINES, CheckFailed, run_process
from cockpit.secrets import MASK, Masker, known_secrets, secret_name
from cockpit.steps.base import (
    Cancelled,
    Preview,
    Recheck,
    StepContext,
    StepFailed,
    StepKind,
    StepTimeout,
)

__all__ = ["MASK", "ShellStep", "secret_name"]


class ShellStep(StepKind):
    kind = "shell"
    undo_text = "run the step's undo_argv"

    def preview(self, spec: ShellRun, ctx: StepContext) -> Preview:
        argv = self._argv(spec.argv, ctx)
        cwd = self._cwd(spec, ctx)
        env = self._env_overrides(spec, ctx)
        known = known_secrets(ctx.loaded.config)
        shown = redact_text(shlex.join(argv))
        lines: list[str | Phrase] = [f"$ {shown}", f"cwd: {cwd}"]
        lines += [f"env: {name}={_shown_value(name, value, known)}" for name, value in env.items()]
        lines.append(Phrase("step.timeout", {"seconds": f"{spec.timeout:g}"}))
        if spec.check_argv:
            lines.append(f"re-check: {redact_text(shlex.join(self._argv(spec.check_argv, ctx)))}")
        if spec.undo_argv:
            lines.append(f"undo: {redact_text(shlex.join(self._argv(spec.undo_argv, ctx)))}")
        return Preview(
            summary=f"run {shown}",
            calls=[shown],
            lines=lines,
            state={"argv": [redact_text(a) for a in argv], "cwd": str(cwd), "env": sorted(env)},
        )

    def run(self, spec: ShellRun, ctx: StepContext, outcome: dict[str, Any]) -> None:
        argv = self._argv(spec.argv, ctx)
        outcome["argv"] = [redact_text(a) for a in argv]
        code, tail = self._execute(argv, spec, ctx, outcome)
        if code != 0:
            raise StepFailed(f"{argv[0]} exited {code}: {_last(tail)}")

    def recheck(self, spec: ShellRun, ctx: StepContext, started: dict[str, Any]) -> Recheck:
        if not spec.check_argv:
            return Recheck(
                False, "no check_argv: the step's effect cannot be re-checked; redo or skip"
            )
        argv = self._argv(spec.check_argv, ctx)
        details: dict[str, Any] = {"argv": [redact_text(a) for a in argv]}
        code, tail = self._execute(argv, spec, ctx, details, stream=False)
        shown = redact_text(shlex.join(argv))
        if code == 0:
            return Recheck(True, f"{shown} exited 0: the step's effect is there", details)
        return Recheck(False, f"{shown} exited {code}: {_last(tail)}", details)

    def can_undo(self, spec: ShellRun) -> bool:
        return bool(spec.undo_argv)

    def undo_summary(self, spec: ShellRun, ctx: StepContext, done: dict[str, Any]) -> str:
        if not spec.undo_argv:
            return "no undo_argv: nothing to undo"
        return f"run {redact_text(shlex.join(self._argv(spec.undo_argv, ctx)))}"

    def undo(
        self, spec: ShellRun, ctx: StepContext, done: dict[str, Any], outcome: dict[str, Any]
    ) -> None:
        if not spec.undo_argv:
            raise StepFailed("shell step has no undo_argv: nothing can undo it")
        argv = self._argv(spec.undo_argv, ctx)
        outcome["argv"] = [redact_text(a) for a in argv]
        code, tail = self._execute(argv, spec, ctx, outcome)
        if code != 0:
            raise StepFailed(f"undo {argv[0]} exited {code}: {_last(tail)}")

    # -- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _argv(template: list[str], ctx: StepContext) -> list[str]:
        return [ctx.render(arg) for arg in template]

    @staticmethod
    def _cwd(spec: ShellRun, ctx: StepContext) -> Path:
        return ctx.resolve(spec.cwd) if spec.cwd else ctx.loaded.base_dir

    @staticmethod
    def _env_overrides(spec: ShellRun, ctx: StepContext) -> dict[str, str]:
        return {name: ctx.render(value) for name, value in spec.env.items()}

    def _execute(
        self,
        argv: list[str],
        spec: ShellRun,
        ctx: StepContext,
        outcome: dict[str, Any],
        *,
        stream: bool = True,
    ) -> tuple[int, list[str]]:
        """Run one argv of this step; the exit code, elapsed time and output tail go into
        ``outcome``. Raises :class:`Cancelled` / :class:`StepTimeout` when stopped."""
        ctx.check()
        cwd = self._cwd(spec, ctx)
        if not cwd.is_dir():
            raise StepFailed(f"{argv[0]}: working directory {cwd} does not exist (cwd of the step)")
        overrides = self._env_overrides(spec, ctx)
        known = known_secrets(ctx.loaded.config)
        known = known.with_values(v for n, v in overrides.items() if _hidden(n, known))
        env = {**known.scrubbed_env(os.environ, spec.inherit), **overrides}
        timeout = min(spec.timeout, ctx.remaining())
        lines: list[str] = []
        emit: Callable[[str], None] = ctx.output if stream else (lambda _line: None)

        def take(line: str) -> None:
            clean = redact_text(known.mask(line))
            lines.append(clean)
            del lines[:-MAX_TAIL_LINES]
            emit(clean)

        started = time.monotonic()
        try:
            result = run_process(argv, timeout, cwd, take, env=env, cancel=ctx.cancel)
        except CheckFailed as exc:
            raise StepFailed(str(exc)) from None
        outcome["exit_code"] = result.code
        outcome["elapsed_s"] = round(time.monotonic() - started, 3)
        outcome["output_tail"] = lines
        if result.cancelled:
            raise Cancelled(f"{argv[0]}: cancelled by the operator (process group killed)")
        if result.timed_out:
            raise StepTimeout(f"{argv[0]}: timed out after {timeout:g} s (process group killed)")
        return result.code, lines


def _last(tail: list[str]) -> str:
    """The last line the program printed, for a one-line failure."""
    lines = [line.strip() for line in tail if line.strip()]
    return lines[-1][:300] if lines else "no output"


def _hidden(name: str, known: Masker) -> bool:
    """Whether the step's own variable ``name`` holds a secret: its value is never shown."""
    return secret_name(name) or known.secret(name)


def _shown_value(name: str, value: str, known: Masker) -> str:
    return MASK if _hidden(name, known) else redact_text(known.mask(value))
