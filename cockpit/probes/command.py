"""The ``command`` probe: a program exits 0. It runs without the cockpit's secrets in its
environment, its output masked (:mod:`cockpit.secrets`), and is killed with its process group at
its ``timeout``."""

from __future__ import annotations

import os
import shlex

from cockpit.events import redact_text
from cockpit.plan.probes import CommandProbe
from cockpit.probes.base import ProbeContext, ProbeKind, Result
from cockpit.runner import MAX_TAIL_LINES, run_process
from cockpit.secrets import known_secrets


class CommandProbeKind(ProbeKind):
    name = "command"

    def preview(self, spec: CommandProbe, ctx: ProbeContext) -> str:
        return f"run {shlex.join(spec.argv)}: exits 0 within {spec.timeout:g} s"

    def run(self, spec: CommandProbe, ctx: ProbeContext) -> Result:
        argv = list(spec.argv)
        known = known_secrets(ctx.loaded.config)
        lines: list[str] = []
        env = known.scrubbed_env(os.environ, ())
        code = run_process(argv, spec.timeout, ctx.loaded.base_dir, lines.append, env=env).code
        tail = [redact_text(known.mask(line)) for line in lines[-MAX_TAIL_LINES:]]
        details = {"argv": argv, "exit_code": code, "output_tail": tail}
        if code != 0:
            last = tail[-1] if tail else "no output"
            return Result(
                False,
                f"exit {code}: {last}",
                "exit 0",
                details,
                line=f"{argv[0]} exited {code}: {last}",
            )
        return Result(True, "exit 0", "exit 0", details)
