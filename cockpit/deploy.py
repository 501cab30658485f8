"""Deployment steps tied to a release, its plan and the event log: preview, run, resume, rollback.

The step kinds (:mod:`cockpit.steps`) do the work; this module decides what runs, records the
intent before anything changes and the outcome after, and turns the done steps into a rollback.

Events (all with the release and the item as subject):

``step.started``
    The intent: the kind, where its definition came from (the plan, or the environment's
    ``steps`` in cockpit.toml), the exact calls or commands, the state read by the preview, the
    mode (``run``, ``resume``, ``redo``), and the process (host, pid) doing it.
``step.succeeded`` / ``step.failed``
    The outcome with what undo needs (previous image, revision before, snapshot id ...).
``step.rechecked``
    After an interruption: what the real state showed before resuming.
``step.undo_started`` / ``step.undone`` / ``step.undo_failed``
    One step's undo in a rollback.
``rollback.started`` / ``rollback.finished``
    The decision (with its reason and what will be undone) and the result: undone, failed, what
    is left, and the seconds from the decision to healthy.

A step whose intent has no outcome is *interrupted* when the process that wrote it is gone (same
host, pid not alive) or its timeout has passed; until then it is *running*.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import msgspec

from cockpit.checklist import Refused, Status, load_checklist
from cockpit.config import LoadedConfig
from cockpit.events import Event, NewEvent, redact_text
from cockpit.operator import Operator
from cockpit.plan import StepItem, StepRun, TagRun
from cockpit.steps.base import Preview, Recheck, StepContext, StepFailed, StepKind, kind_for
from cockpit.steps.spec import HttpChecksRun, KubernetesRun

if TYPE_CHECKING:
    from cockpit.checklist import Checklist
    from cockpit.release import Release
    from cockpit.store import Store

Output = Callable[[str], None]
MODES = ("run", "resume", "redo")


def _quiet(_line: str) -> None:
    return None


@dataclass
class StepInfo:
    """A step item of the release: the run in force for its environment, and its runner."""

    item: StepItem
    run: StepRun
    source: str  # "plan" or "config"
    status: Status
    kind: StepKind | None  # None for the tag kind (cockpit.tagging runs it)

    @property
    def id(self) -> str:
        return self.item.id


def effective_run(loaded: LoadedConfig, release: Release, item: StepItem) -> tuple[StepRun, str]:
    """What ``item`` runs in the release's environment: the environment's replacement from
    cockpit.toml (``steps."ITEM"``) when there is one, else the plan's ``run``."""
    env = loaded.environment(release.environment)
    override = env.steps.get(item.id)
    run, source = (override, "config") if override is not None else (item.run, "plan")
    if isinstance(run, HttpChecksRun) and not run.base_url and env.app_url:
        run = msgspec.structs.replace(run, base_url=env.app_url)
    if isinstance(run, KubernetesRun) and run.action == "set_image" and not run.image:
        run = msgspec.structs.replace(run, image=env.kubernetes.image)
    return run, source


def step_info(loaded: LoadedConfig, checklist: Checklist, item_id: str) -> StepInfo:
    item = checklist.plan.plan.item(item_id)
    if not isinstance(item, StepItem):
        raise Refused(f"{item_id}: is a {item.kind} item, not a step")
    run, source = effective_run(loaded, checklist.release, item)
    kind = None if isinstance(run, TagRun) else kind_for(run.kind)
    return StepInfo(item, run, source, checklist.state(item_id).status, kind)


def steps_of(
    loaded: LoadedConfig, checklist: Checklist, phase_id: str | None = None
) -> list[StepInfo]:
    """The step items of the plan (of one phase when given), in plan order."""
    return [
        step_info(loaded, checklist, item.id)
        for phase, item in checklist.plan.plan.items()
        if isinstance(item, StepItem) and (phase_id is None or phase.id == phase_id)
    ]


def context(
    loaded: LoadedConfig,
    release: Release,
    item_id: str,
    operator: Operator,
    *,
    output: Output | None = None,
    cancel: threading.Event | None = None,
) -> StepContext:
    return StepContext(
        loaded=loaded,
        env_name=release.environment,
        env=loaded.environment(release.environment),
        release_id=release.id,
        item_id=item_id,
        version=release.version,
        operator=operator.actor,
        rehearsal=release.rehearsal,
        output=output or _quiet,
        cancel=cancel or threading.Event(),
    )


def preview(
    store: Store, loaded: LoadedConfig, operator: Operator, release_text: str, item_id: str
) -> tuple[StepInfo, Preview]:
    """What the step will do, exactly; reads, changes nothing, records nothing."""
    checklist = load_checklist(store, release_text)
    info = step_info(loaded, checklist, item_id)
    if info.kind is None:
        raise Refused(f"{item_id}: a tag step; its preview is the tagging screen or `cockpit tag`")
    ctx = context(loaded, checklist.release, item_id, operator)
    ctx.deadline = time.monotonic() + min(60.0, info.run.timeout)  # type: ignore[union-attr]
    return info, info.kind.preview(info.run, ctx)


def _base(checklist: Checklist, item_id: str) -> dict[str, Any]:
    release = checklist.release
    return {"release_id": release.id, "subject": item_id, "rehearsal": release.rehearsal}


def _details(checklist: Checklist, info: StepInfo) -> dict[str, Any]:
    return {
        "plan": checklist.release.plan,
        "plan_sha256": checklist.plan.sha256,
        "phase": checklist.phase_of(info.id).id,
        "kind": info.run.kind,
        "source": info.source,
        "run": msgspec.to_builtins(info.run),
    }


def process_id() -> dict[str, Any]:
    """Who is running a step: recorded in the intent, read to tell running from interrupted."""
    return {"host": socket.gethostname(), "pid": os.getpid()}


def execute(
    store: Store,
    loaded: LoadedConfig,
    operator: Operator,
    checklist: Checklist,
    item_id: str,
    *,
    mode: str = "run",
    output: Output | None = None,
    cancel: threading.Event | None = None,
) -> Event:
    """Run a step item (the checks of :func:`cockpit.checklist.decide` already passed).

    ``resume`` (an interrupted step) re-checks the real state first and records what it found:
    when the step's effect is there it is recorded as done without running again; otherwise the
    step runs again, and the kinds do only what is left. ``redo`` runs it again as new.
    """
    if mode not in MODES:
        raise Refused(f"mode {mode!r}: use one of {', '.join(MODES)}")
    info = step_info(loaded, checklist, item_id)
    assert info.kind is not None
    kind, run = info.kind, info.run
    out = output or _quiet
    ctx = context(loaded, checklist.release, item_id, operator, output=out, cancel=cancel)
    timeout = float(run.timeout)  # type: ignore[union-attr]
    base, details = _base(checklist, item_id), _details(checklist, info)
    if mode == "resume":
        started = _open_intent(store, checklist, item_id)
        ctx.deadline = time.monotonic() + min(120.0, timeout)
        found = _recheck(kind, run, ctx, started)
        store.append(
            NewEvent(
                action="step.rechecked",
                details={
                    **details,
                    "intent_seq": started.seq if started else None,
                    "done": found.done,
                    "found": redact_text(found.text),
                    "state": found.details,
                },
                **base,
            ),
            operator,
        )
        out(("already done: " if found.done else "not done: ") + found.text)
        if found.done:
            return store.append(
                NewEvent(
                    action="step.succeeded",
                    outcome="ok",
                    details={
                        "intent_seq": started.seq if started else None,
                        "resumed": True,
                        "rechecked": found.details,
                        **_outcome_of_intent(started),
                    },
                    **base,
                ),
                operator,
            )
    ctx.deadline = time.monotonic() + min(120.0, timeout)
    try:
        shown = kind.preview(run, ctx)
    except StepFailed as exc:
        store.append(
            NewEvent(
                action="step.blocked",
                reason=None,
                outcome="failed",
                details={**details, "error": redact_text(str(exc))},
                **base,
            ),
            operator,
        )
        raise
    intent = {
        **details,
        "mode": mode,
        "summary": shown.summary,
        "calls": shown.calls,
        "state": shown.state,
        "timeout": timeout,
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        **process_id(),
    }
    out(shown.summary)
    ctx.deadline = time.monotonic() + timeout
    with store.write_ahead(
        NewEvent(action="step.started", details=intent, **base),
        operator,
        done="step.succeeded",
        failed="step.failed",
    ) as outcome:
        started_clock = time.monotonic()
        try:
            kind.run(run, ctx, outcome)
            kind.verify(run, ctx, outcome)
        finally:
            outcome["elapsed_s"] = round(time.monotonic() - started_clock, 3)
    return store.events(release_id=checklist.release.id, last=1)[0]


def _recheck(kind: StepKind, run: StepRun, ctx: StepContext, started: Event | None) -> Recheck:
    try:
        return kind.recheck(run, ctx, started.details_obj if started else {})
    except StepFailed as exc:
        return Recheck(False, f"the re-check could not tell: {exc}")


def _open_intent(store: Store, checklist: Checklist, item_id: str) -> Event | None:
    """The step's last ``step.started`` when nothing followed it (an interrupted run)."""
    state = checklist.state(item_id)
    if state.open_intent is None:
        return None
    for ev in store.events(release_id=checklist.release.id):
        if ev.seq == state.open_intent:
            return ev
    return None


def _outcome_of_intent(started: Event | None) -> dict[str, Any]:
    """What a resumed-as-done step can pass to undo: the state before it ran."""
    if started is None:
        return {}
    return {"state_before": started.details_obj.get("state", {})}


# --- running or interrupted ---------------------------------------------------------------------


def intent_alive(details: dict[str, Any], started_at: str, now: float | None = None) -> bool:
    """Whether the process that recorded a step's intent may still be running it: on this host
    its pid must be alive; elsewhere its timeout must not have passed."""
    now = time.time() if now is None else now
    if "pid" not in details:
        return False
    try:
        began = datetime.fromisoformat(started_at).timestamp()
    except ValueError:
        return False
    if now - began > float(details.get("timeout", 0)) + 60:
        return False
    if details.get("host") == socket.gethostname():
        pid = details.get("pid")
        if not isinstance(pid, int):
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return True


# --- rollback -----------------------------------------------------------------------------------


@dataclass
class UndoEntry:
    """One step of a rollback: a step that ran (succeeded, or failed after changing things)."""

    info: StepInfo
    done: Event  # the step's last outcome event
    can_undo: bool
    summary: str

    @property
    def id(self) -> str:
        return self.info.id


@dataclass
class RollbackPlan:
    release: Release
    entries: list[UndoEntry] = field(default_factory=list)

    @property
    def to_undo(self) -> list[UndoEntry]:
        return [e for e in self.entries if e.can_undo]

    def question(self) -> str:
        """The confirmation names the things: "Roll back t0.deploy, t0.database (1.4.0)?"."""
        names = ", ".join(e.id for e in self.to_undo) or "nothing"
        return f"Roll back {names} of {self.release.version} in {self.release.environment}?"


def rollback_plan(
    store: Store, loaded: LoadedConfig, operator: Operator, release_text: str
) -> RollbackPlan:
    """The steps a rollback would undo, newest first: every step whose last outcome is a success
    (or a failure that left changes: its undo decides), not undone since."""
    checklist = load_checklist(store, release_text)
    last: dict[str, Event] = {}
    for ev in store.events(release_id=checklist.release.id):
        if ev.subject and ev.action in {"step.succeeded", "step.failed", "step.undone"}:
            last[ev.subject] = ev
    plan = RollbackPlan(checklist.release)
    for item_id, ev in sorted(last.items(), key=lambda kv: -kv[1].seq):
        if ev.action == "step.undone":
            continue
        try:
            info = step_info(loaded, checklist, item_id)
        except (Refused, KeyError):
            continue
        if info.kind is None:  # a tag stays: a release tag is history, not deployment state
            continue
        if ev.action == "step.failed" and not _changed_anything(ev):
            continue
        ctx = context(loaded, checklist.release, item_id, operator)
        can = info.kind.can_undo(info.run)
        summary = (
            info.kind.undo_summary(info.run, ctx, ev.details_obj)
            if can
            else (
                f"no undo ({info.kind.undo_text or 'nothing to reverse'})"
                if not info.kind.undoable
                else "no undo defined for this step"
            )
        )
        plan.entries.append(UndoEntry(info, ev, can, summary))
    return plan


def _changed_anything(ev: Event) -> bool:
    """A failed step changed something when its outcome recorded more than the failure."""
    quiet = {"intent_seq", "error", "elapsed_s", "exit_code", "output_tail"}
    return any(key not in quiet for key in ev.details_obj)


@dataclass
class RollbackResult:
    started: Event
    undone: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: str | None = None
    error: str | None = None
    left: list[str] = field(default_factory=list)
    healthy: bool | None = None
    elapsed_s: float = 0.0
    finished: Event | None = None

    @property
    def ok(self) -> bool:
        return self.failed is None and self.healthy is not False


def rollback(
    store: Store,
    loaded: LoadedConfig,
    operator: Operator,
    release_text: str,
    reason: str,
    *,
    output: Output | None = None,
    cancel: threading.Event | None = None,
) -> RollbackResult:
    """One decision: undo the done steps in reverse order, stop at the first failure and say what
    is left, then check health (the plan's HTTP-check steps) and record the time from the
    decision to healthy."""
    if not (reason and reason.strip()):
        raise Refused("a rollback needs a reason (what was seen, or the trigger)")
    out = output or _quiet
    plan = rollback_plan(store, loaded, operator, release_text)
    release = plan.release
    if release.status != "open":
        raise Refused(f"release {release.id} is {release.status}")
    decided = time.monotonic()
    base: dict[str, Any] = {"release_id": release.id, "rehearsal": release.rehearsal}
    started = store.append(
        NewEvent(
            action="rollback.started",
            reason=reason,
            details={
                "steps": [
                    {"item": e.id, "undo": e.summary, "can_undo": e.can_undo} for e in plan.entries
                ],
                "question": plan.question(),
            },
            **base,
        ),
        operator,
    )
    result = RollbackResult(started)
    todo = plan.to_undo
    for number, entry in enumerate(todo):
        out(f"undo {entry.id}: {entry.summary}")
        try:
            outcome = _undo_one(store, loaded, operator, release, entry, started.seq, out, cancel)
        except StepFailed as exc:
            result.failed, result.error = entry.id, str(exc)
            result.left = [e.id for e in todo[number + 1 :]]
            out(f"undo {entry.id} failed: {exc}")
            break
        if outcome.get("skipped"):
            result.skipped.append(entry.id)
            out(f"undo {entry.id}: skipped ({outcome['skipped']})")
        else:
            result.undone.append(entry.id)
    if result.failed is None:
        result.healthy = _healthy(store, loaded, operator, release_text, out, cancel)
    result.elapsed_s = round(time.monotonic() - decided, 3)
    result.finished = store.append(
        NewEvent(
            action="rollback.finished",
            outcome="ok" if result.ok else "failed",
            details={
                "rollback_seq": started.seq,
                "undone": result.undone,
                "skipped": result.skipped,
                "failed": result.failed,
                "error": redact_text(result.error) if result.error else None,
                "left": result.left,
                "healthy": result.healthy,
                "elapsed_s": result.elapsed_s,
            },
            **base,
        ),
        operator,
    )
    return result


def _undo_one(
    store: Store,
    loaded: LoadedConfig,
    operator: Operator,
    release: Release,
    entry: UndoEntry,
    rollback_seq: int,
    out: Output,
    cancel: threading.Event | None,
) -> dict[str, Any]:
    info = entry.info
    assert info.kind is not None
    ctx = context(loaded, release, info.id, operator, output=out, cancel=cancel)
    ctx.deadline = time.monotonic() + float(info.run.timeout)  # type: ignore[union-attr]
    with store.write_ahead(
        NewEvent(
            action="step.undo_started",
            release_id=release.id,
            subject=info.id,
            rehearsal=release.rehearsal,
            details={
                "kind": info.run.kind,
                "undo": entry.summary,
                "done_seq": entry.done.seq,
                "rollback_seq": rollback_seq,
                **process_id(),
            },
        ),
        operator,
        done="step.undone",
        failed="step.undo_failed",
    ) as outcome:
        info.kind.undo(info.run, ctx, entry.done.details_obj, outcome)
    return outcome


def _healthy(
    store: Store,
    loaded: LoadedConfig,
    operator: Operator,
    release_text: str,
    out: Output,
    cancel: threading.Event | None,
) -> bool | None:
    """Run the plan's HTTP-check steps (their verify) after the undo; None when there are none."""
    checklist = load_checklist(store, release_text)
    checks = [s for s in steps_of(loaded, checklist) if s.run.kind == "http_checks"]
    if not checks:
        return None
    for info in checks:
        assert info.kind is not None
        ctx = context(loaded, checklist.release, info.id, operator, output=out, cancel=cancel)
        ctx.deadline = time.monotonic() + float(info.run.timeout)  # type: ignore[union-attr]
        try:
            info.kind.run(info.run, ctx, {})
        except StepFailed as exc:
            out(f"health {info.id}: {exc}")
            return False
    out("healthy")
    return True


# --- the rollback report ----------------------------------------------------------------------


def rollback_report(store: Store, release_text: str) -> str:
    """A draft of the seed's ロールバック報告書 (rollback report) in Markdown, from the log: what
    happened (the timeline), the cause as recorded (failed steps, the decision's reason), and the
    sections the release manager completes (原因分析 cause analysis, 再発防止策 prevention)."""
    checklist = load_checklist(store, release_text)
    release = checklist.release
    events = store.events(release_id=release.id)
    rollbacks = [ev for ev in events if ev.action == "rollback.started"]
    if not rollbacks:
        raise Refused(f"release {release.id}: no rollback recorded")
    decision = rollbacks[-1]
    finished = next(
        (
            ev
            for ev in events
            if ev.action == "rollback.finished"
            and ev.details_obj.get("rollback_seq") == decision.seq
        ),
        None,
    )
    fin = finished.details_obj if finished else {}
    failed_steps = [ev for ev in events if ev.action == "step.failed" and ev.seq < decision.seq]
    lines = [
        f"# ロールバック報告書 / Rollback report: {release.version} ({release.environment})",
        "",
        f"- Release: {release.id}, plan {release.plan}, T-0 {release.t0}"
        + (" (REHEARSAL)" if release.rehearsal else ""),
        f"- Decided: {decision.recorded_at} by {decision.actor} (event #{decision.seq})",
        f"- Reason: {decision.reason}",
    ]
    if finished:
        healthy = {True: "healthy", False: "NOT healthy", None: "no health checks in the plan"}[
            fin.get("healthy")
        ]
        lines += [
            f"- Result: {finished.outcome}; {healthy}; {fin.get('elapsed_s')} s from the decision",
            f"- Undone: {', '.join(fin.get('undone') or []) or 'none'}"
            + (f"; skipped: {', '.join(fin['skipped'])}" if fin.get("skipped") else ""),
        ]
        if fin.get("failed"):
            lines.append(f"- Undo failed at {fin['failed']}: {fin.get('error')}")
            lines.append(f"- Left to undo by hand: {', '.join(fin.get('left') or []) or 'none'}")
    else:
        lines.append("- Result: the rollback has no recorded end (interrupted?)")
    lines += ["", "## 経過 / What happened", ""]
    shown = {
        "step.started",
        "step.succeeded",
        "step.failed",
        "step.rechecked",
        "step.undone",
        "step.undo_failed",
        "rollback.started",
        "rollback.finished",
        "trigger.fired",
        "note",
    }
    for ev in events:
        if ev.action not in shown:
            continue
        what = ev.details_obj.get("summary") or ev.details_obj.get("error") or ev.reason or ""
        subject = ev.subject or ""
        line = f"- #{ev.seq} {ev.recorded_at} {ev.actor} {ev.action} {subject} {what}"
        lines.append(line.rstrip())
    lines += ["", "## 原因分析 / Cause analysis", ""]
    if failed_steps:
        for ev in failed_steps:
            lines.append(f"- {ev.subject} failed: {ev.details_obj.get('error', '')}")
    lines.append(f"- The decision's reason: {decision.reason}")
    lines += [
        "- (To complete: why it happened, why the rehearsal and the checks did not catch it.)",
        "",
        "## 再発防止策 / Prevention",
        "",
        "- (To complete: what changes, who owns it, by when.)",
        "",
    ]
    return "\n".join(lines)
