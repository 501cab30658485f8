"""The ``alembic`` step kind: the application's own migrations, run as its own command.

The command is the environment's ``alembic.command`` (an argv list, e.g. ``["alembic"]`` or
``["poetry", "run", "alembic", "-c", "alembic.ini"]``) in ``alembic.cwd``; the database URL
reaches the application only through the environment variable named by
``alembic.database_url_env``, passed on from the cockpit's environment (the cockpit's other
secrets are left out, :mod:`cockpit.secrets`). Its value is never shown, recorded or put in a
message: every line the command prints has it replaced by ``$NAME``, and any other known secret
value by ``***``.

- status: one ``history --indicate-current -r base:heads`` gives the current revision(s), the
  heads and the pending revisions (those that are not the current revision or its ancestors);
- preview: the status and the SQL of an offline ``upgrade CURRENT:TARGET --sql``;
- run: ``upgrade TARGET``, streaming its output, with ``revision_before`` (``alembic current``)
  recorded first and ``revision_after`` at the end;
- verify and recheck: current is the target (the heads, for ``head``);
- undo: ``downgrade REVISION_BEFORE`` (``base`` when the database was empty before, ``-1`` when
  nothing was recorded), then current must be that revision.

Every command runs with the step's timeout (never past the deadline) and is killed, with its
process group, within a tenth of a second of a cancel.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cockpit.events import redact_text
from cockpit.plan.runs import AlembicRun
from cockpit.runner import MAX_TAIL_LINES, CheckFailed, run_process
from cockpit.secrets import known_secrets
from cockpit.steps.base import (
    Cancelled,
    Preview,
    Recheck,
    StepContext,
    StepFailed,
    StepKind,
    StepTimeout,
)
from cockpit.urls import USER_PASSWORD, refusal, url_credentials

# `alembic current`: "0003_seed (head)"; several lines when several branches are current.
_REVISION_LINE_RE = re.compile(r"^(?P<rev>[A-Za-z0-9_]+)(?P<marks>(?: \([a-z ]+\))*)\s*$")
# `alembic history -i`: "0001_datasets -> 0002_owner (head) (current), Add the owner column.";
# a merge names its down revisions: "a1, b2 -> c3 (mergepoint), merge"; the first: "<base> -> ...".
_HISTORY_LINE_RE = re.compile(
    r"^(?P<down>.+?) -> (?P<rev>[A-Za-z0-9_]+)(?P<marks>(?: \([a-z ]+\))*)(?:, ?(?P<msg>.*))?$"
)
# Alembic's own log lines ("INFO  [alembic.runtime.migration] ...").
_LOG_LINE_RE = re.compile(r"^(?:INFO|WARNI?N?G?|DEBUG|ERROR)\s+\[")
_BACKGROUND_RE = re.compile(r"\s*\(Background on this error at: [^)]*\)")
_EXCEPTION_LINE_RE = re.compile(r"^[A-Za-z_][\w.]*(?:Error|Exception|Exit)\b")
# Targets relative to the current revision ("+1", "-2", "ae10+2"): verified as "moved".
_RELATIVE_RE = re.compile(r"[+-]\d+$")
SQL_PREVIEW_LINES = 400
EMPTY = "(empty database)"


_URL_ADVICE = "url.put_alembic_step"


@dataclass
class _Output:
    """What one Alembic command printed (masked)."""

    lines: list[str] = field(default_factory=list)


@dataclass
class Status:
    """Where the database stands: its current revision(s), the scripts' heads, and the pending
    revisions oldest first as (revision, message)."""

    current: list[str]
    heads: list[str]
    pending: list[tuple[str, str]]

    @property
    def shown(self) -> str:
        return ",".join(self.current) or EMPTY


class AlembicStep(StepKind):
    kind = "alembic"
    undo_text = "alembic downgrade to the revision recorded before the upgrade"

    def preview(self, spec: AlembicRun, ctx: StepContext) -> Preview:
        target = ctx.render(spec.target)
        status = self.status(spec, ctx)
        before = ",".join(status.current)
        state: dict[str, Any] = {
            "revision_before": before,
            "current": status.current,
            "heads": status.heads,
            "target": target,
            "pending": [f"{rev}: {msg}" for rev, msg in status.pending],
        }
        calls = [self._shown(["upgrade", target])]
        head = [
            f"current: {status.shown}",
            f"target: {target} (heads: {', '.join(status.heads) or 'none'})",
        ]
        if _at_target(target, status, before=None):
            return Preview(
                summary=f"alembic: already at {status.shown}, nothing to upgrade",
                calls=calls,
                lines=[*head, "no pending revisions"],
                state=state,
            )
        sql_args = ["upgrade", f"{before}:{target}" if before else target, "--sql"]
        body = [
            line
            for line in self._command(spec, ctx, sql_args, stream=False).lines
            if not _LOG_LINE_RE.match(line)
        ]
        while body and not body[-1].strip():
            body.pop()
        if len(body) > SQL_PREVIEW_LINES:
            body = [*body[:SQL_PREVIEW_LINES], f"... {len(body) - SQL_PREVIEW_LINES} more lines"]
        lines = [
            *head,
            f"pending: {len(status.pending)} revision(s)",
            *(f"  {rev}: {msg}" for rev, msg in status.pending),
            f"SQL ({self._shown(sql_args)}):",
            *body,
        ]
        return Preview(
            summary=(
                f"alembic upgrade {status.shown} -> {target}: "
                f"{len(status.pending)} pending revision(s)"
            ),
            calls=calls,
            lines=lines,
            state=state,
        )

    def run(self, spec: AlembicRun, ctx: StepContext, outcome: dict[str, Any]) -> None:
        target = ctx.render(spec.target)
        outcome["revision_before"] = ",".join(self.current(spec, ctx))
        outcome["target"] = target
        upgrade = self._command(spec, ctx, ["upgrade", target], stream=True)
        outcome["output_tail"] = upgrade.lines[-MAX_TAIL_LINES:]
        outcome["revision_after"] = ",".join(self.current(spec, ctx))

    def verify(self, spec: AlembicRun, ctx: StepContext, outcome: dict[str, Any]) -> None:
        target = ctx.render(spec.target)
        status = self.status(spec, ctx)
        outcome["revision_after"] = ",".join(status.current)
        if not _at_target(target, status, before=outcome.get("revision_before")):
            want = ", ".join(status.heads) if target in ("head", "heads") else target
            raise StepFailed(f"alembic: current is {status.shown}, expected {want}")

    def recheck(self, spec: AlembicRun, ctx: StepContext, started: dict[str, Any]) -> Recheck:
        target = ctx.render(spec.target)
        status = self.status(spec, ctx)
        details = {"current": status.current, "heads": status.heads, "target": target}
        if _at_target(target, status, before=started.get("revision_before")):
            return Recheck(
                True, f"alembic: current is {status.shown}, the target {target}", details
            )
        return Recheck(
            False,
            f"alembic: current is {status.shown}, target {target} not reached "
            f"({len(status.pending)} pending)",
            details,
        )

    def undo_summary(self, spec: AlembicRun, ctx: StepContext, done: dict[str, Any]) -> str:
        args = _downgrade_args(done)
        after = done.get("revision_after") or "the current revision"
        return f"alembic downgrade {args[1]} (from {after})"

    def undo(
        self, spec: AlembicRun, ctx: StepContext, done: dict[str, Any], outcome: dict[str, Any]
    ) -> None:
        args = _downgrade_args(done)
        outcome["downgrade_to"] = args[1]
        recorded = "revision_before" in done
        want = str(done.get("revision_before") or "")
        current = ",".join(self.current(spec, ctx))
        outcome["revision_before_undo"] = current
        if recorded and current == want:
            outcome["skipped"] = f"already at {want or EMPTY}"
            return
        downgrade = self._command(spec, ctx, args, stream=True)
        outcome["output_tail"] = downgrade.lines[-MAX_TAIL_LINES:]
        after = ",".join(self.current(spec, ctx))
        outcome["revision_after_undo"] = after
        if recorded and after != want:
            raise StepFailed(
                f"alembic: after downgrade current is {after or EMPTY}, expected {want or EMPTY}"
            )

    # -- the application's commands -------------------------------------------------------

    def current(self, spec: AlembicRun, ctx: StepContext) -> list[str]:
        """``alembic current``: the database's revision(s); empty for a database never
        migrated."""
        found: list[str] = []
        for line in self._command(spec, ctx, ["current"], stream=False).lines:
            m = _REVISION_LINE_RE.match(line.strip())
            if m and m["rev"] not in found:
                found.append(m["rev"])
        return found

    def status(self, spec: AlembicRun, ctx: StepContext) -> Status:
        """Current, heads and pending from one ``history --indicate-current -r base:heads``."""
        args = ["history", "--indicate-current", "-r", "base:heads"]
        current: list[str] = []
        heads: list[str] = []
        parents: dict[str, list[str]] = {}
        messages: dict[str, str] = {}
        order: list[str] = []  # newest first, as history prints them
        for line in self._command(spec, ctx, args, stream=False).lines:
            m = _HISTORY_LINE_RE.match(line.strip())
            if not m:
                continue
            rev, marks = m["rev"], m["marks"]
            order.append(rev)
            messages[rev] = (m["msg"] or "").strip()
            parents[rev] = [d.strip() for d in m["down"].strip("()").split(",") if "<" not in d]
            if "(current)" in marks:
                current.append(rev)
            if "(head)" in marks:
                heads.append(rev)
        applied: set[str] = set()
        todo = list(current)
        while todo:
            rev = todo.pop()
            if rev not in applied:
                applied.add(rev)
                todo.extend(parents.get(rev, []))
        pending = [(rev, messages[rev]) for rev in reversed(order) if rev not in applied]
        return Status(current, heads, pending)

    def _shown(self, args: list[str]) -> str:
        return "alembic " + shlex.join(args)

    def _command(
        self, spec: AlembicRun, ctx: StepContext, args: list[str], *, stream: bool
    ) -> _Output:
        """Run the application's Alembic with ``args``, its output masked; a failure is one line
        naming the command and the error it printed."""
        ctx.check()
        alembic = ctx.env.alembic
        name = alembic.database_url_env
        if not name:
            raise StepFailed(
                f"environment {ctx.env_name}: alembic.database_url_env is not set "
                "(name the variable holding the database URL in cockpit.toml)"
            )
        secret = os.environ.get(name, "") or alembic.database_url
        if not secret:
            raise StepFailed(
                f"{name} is not set: export the database URL for environment {ctx.env_name} "
                "(alembic.database_url_env in cockpit.toml), or set alembic.database_url"
            )
        found = url_credentials(secret)
        if found and found != USER_PASSWORD:  # the variable named for the URL may hold its password
            raise StepFailed(f"{name}: the database URL {refusal(found, _URL_ADVICE)}")
        known = known_secrets(ctx.loaded.config)
        env = {**known.scrubbed_env(os.environ, ()), name: secret}
        command = [ctx.render(arg) for arg in alembic.command]
        if not command:
            raise StepFailed(f"environment {ctx.env_name}: alembic.command is empty (cockpit.toml)")
        cwd = ctx.resolve(alembic.cwd)
        if not cwd.is_dir():
            raise StepFailed(f"alembic.cwd {cwd} does not exist (environment {ctx.env_name})")
        result = _Output()
        emit: Callable[[str], None] = ctx.output if stream else (lambda _line: None)
        # The URL with its password masked too: the application may print it that way.
        hidden = sorted({secret, redact_text(secret)} - {""}, key=len, reverse=True)

        def take(line: str) -> None:
            for value in hidden:
                line = line.replace(value, f"${name}")
            line = redact_text(known.mask(line))
            result.lines.append(line)
            emit(line)

        timeout = min(spec.timeout, ctx.remaining())
        label = self._shown(args)
        try:
            ended = run_process([*command, *args], timeout, cwd, take, env=env, cancel=ctx.cancel)
        except CheckFailed as exc:
            raise StepFailed(f"{exc} (alembic.command in cockpit.toml)") from None
        if ended.cancelled:
            raise Cancelled(f"{label}: cancelled by the operator (process group killed)")
        if ended.timed_out:
            raise StepTimeout(f"{label}: timed out after {timeout:g} s (process group killed)")
        if ended.code != 0:
            raise StepFailed(f"{label} exited {ended.code}: {_error_line(result.lines)}")
        return result


def _at_target(target: str, status: Status, *, before: Any) -> bool:
    current = status.current
    if target == "base":
        return not current
    if not current:
        return False
    if target in ("head", "heads"):
        return sorted(current) == sorted(status.heads)
    if _RELATIVE_RE.search(target):
        return before is not None and ",".join(current) != str(before)
    if "@" in target:  # branch@revision
        target = target.split("@", 1)[1]
    return len(current) == 1 and current[0].startswith(target)


def _downgrade_args(done: dict[str, Any]) -> list[str]:
    if "revision_before" not in done:
        return ["downgrade", "-1"]
    before = str(done["revision_before"] or "")
    if "," in before:
        raise StepFailed(
            f"alembic: several revisions were current before the upgrade ({before}); "
            "downgrade each branch by hand"
        )
    return ["downgrade", before or "base"]


def _error_line(lines: list[str]) -> str:
    """The line that says what went wrong: a traceback's exception line, else the last line."""
    meaningful = [line.strip() for line in lines if line.strip()]
    if not meaningful:
        return "no output"
    chosen = next(
        (line for line in reversed(meaningful) if _EXCEPTION_LINE_RE.match(line)), meaningful[-1]
    )
    return _BACKGROUND_RE.sub("", chosen)[:300]
