"""Rollback: one decision that undoes the release's done steps, newest first.

:func:`rollback_plan` says what would be undone (and what cannot be); :func:`rollback` records
the decision (``rollback.started``, with its reason and the plan), undoes each step under
write-ahead (``step.undo_started`` then ``step.undone`` or ``step.undo_failed``), stops at the
first failure and says what is left, checks health with the plan's HTTP-check steps, and records
the result with the seconds from the decision to healthy (``rollback.finished``).

A rollback is a run that can be resumed. When the process running it is gone before
``rollback.finished`` (an SSH drop, a kill), the rollback is *interrupted*: rolling back again
resumes it (no second decision is recorded) where it stopped. The undo that was in flight is
re-checked first: when the step's effect is gone, the undo is recorded as done without running
again; otherwise it runs again; then the rest, newest first. A failed undo stays on its step
(``[!u]`` with its error): roll back again to retry it, or :func:`skip_undo` with a reason to
leave it and go on with the rest.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from cockpit.checklist import Refused, Status, Why, load_checklist
from cockpit.deploy import Output, StepInfo, context, quiet, step_info, steps_of
from cockpit.events import Event, NewEvent, redact_text
from cockpit.lease import require_driver
from cockpit.liveness import intent_alive, process_id
from cockpit.session import Session
from cockpit.steps.base import StepFailed
from cockpit.vocabulary import (
    ROLLBACK_FINISHED,
    ROLLBACK_STARTED,
    STEP_FAILED,
    STEP_SUCCEEDED,
    STEP_UNDO_FAILED,
    STEP_UNDO_SKIPPED,
    STEP_UNDO_STARTED,
    STEP_UNDONE,
)

if TYPE_CHECKING:
    from cockpit.release import Release


@dataclass
class UndoEntry:
    """One step of a rollback: a step that ran (succeeded, or failed after changing things)."""

    info: StepInfo
    done: Event  # the step's last outcome event
    can_undo: bool
    summary: str
    in_flight: Event | None = None  # an undo started and never finished (interrupted)

    @property
    def id(self) -> str:
        return self.info.id


@dataclass
class RollbackPlan:
    release: Release
    entries: list[UndoEntry] = field(default_factory=list)
    interrupted: Event | None = None  # the rollback.started of a rollback that did not finish

    @property
    def to_undo(self) -> list[UndoEntry]:
        return [e for e in self.entries if e.can_undo]

    def question(self) -> str:
        """The confirmation names the things: "Roll back t0.deploy, t0.database (1.4.0)?"."""
        names = ", ".join(e.id for e in self.to_undo) or "nothing"
        return f"Roll back {names} of {self.release.version} in {self.release.environment}?"


def rollback_plan(session: Session, release_text: str) -> RollbackPlan:
    """The steps a rollback would undo, newest first: every step whose last outcome is a success
    (or a failure that left changes: its undo decides), not undone since."""
    store, loaded, operator = session.store, session.loaded, session.operator
    checklist = load_checklist(store, release_text)
    last: dict[str, Event] = {}
    undoing: dict[str, Event] = {}  # an undo started and not finished, by item
    events = store.events(release_id=checklist.release.id)
    for ev in events:
        if ev.subject and ev.action in {
            STEP_SUCCEEDED,
            STEP_FAILED,
            STEP_UNDONE,
            STEP_UNDO_SKIPPED,
        }:
            last[ev.subject] = ev
            undoing.pop(ev.subject, None)
        elif ev.subject and ev.action == STEP_UNDO_STARTED:
            undoing[ev.subject] = ev
        elif ev.subject and ev.action == STEP_UNDO_FAILED:
            undoing.pop(ev.subject, None)
    plan = RollbackPlan(checklist.release, interrupted=open_rollback(events))
    for item_id, ev in sorted(last.items(), key=lambda kv: -kv[1].seq):
        if ev.action in {STEP_UNDONE, STEP_UNDO_SKIPPED}:
            continue
        try:
            info = step_info(loaded, checklist, item_id)
        except (Refused, KeyError):
            continue
        if info.kind is None:  # a tag stays: a release tag is history, not deployment state
            continue
        if ev.action == STEP_FAILED and not _changed_anything(ev):
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
        plan.entries.append(UndoEntry(info, ev, can, summary, undoing.get(item_id)))
    return plan


# The outcomes that settle what a step's undo has to do.
SETTLING = frozenset({STEP_SUCCEEDED, STEP_FAILED, STEP_UNDONE, STEP_UNDO_SKIPPED})


def open_rollback(events: list[Event]) -> Event | None:
    """The last ``rollback.started`` with no ``rollback.finished`` for it."""
    started = [ev for ev in events if ev.action == ROLLBACK_STARTED]
    finished = {
        ev.details_obj.get("rollback_seq") for ev in events if ev.action == ROLLBACK_FINISHED
    }
    return next((ev for ev in reversed(started) if ev.seq not in finished), None)


def skip_undo(session: Session, release_text: str, item_id: str, reason: str) -> Event:
    """Leave a step whose undo failed as it is (its effect stays), saying why; the next
    rollback goes on with the rest."""
    if not (reason and reason.strip()):
        raise Refused.said("roll.skip_reason")
    checklist = load_checklist(session.store, release_text)
    state = checklist.state(item_id)
    if state.status not in {Status.UNDO_FAILED, Status.UNDO_INTERRUPTED}:
        raise Refused.said("roll.not_failed", item=item_id, status=state.status.value)
    require_driver(session, checklist.release.id)
    release = checklist.release
    return session.store.append(
        NewEvent(
            action=STEP_UNDO_SKIPPED,
            release_id=release.id,
            subject=item_id,
            reason=reason.strip(),
            rehearsal=release.rehearsal,
            details={"error": state.reason},
        ),
        session.operator,
    )


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
    session: Session,
    release_text: str,
    reason: str,
    *,
    output: Output | None = None,
    cancel: threading.Event | None = None,
) -> RollbackResult:
    """One decision: undo the done steps in reverse order, stop at the first failure and say what
    is left, then check health (the plan's HTTP-check steps) and record the time from the
    decision to healthy."""
    store, operator = session.store, session.operator
    if not (reason and reason.strip()):
        raise Refused.said("roll.reason")
    out = output or quiet
    plan = rollback_plan(session, release_text)
    release = plan.release
    if release.status != "open":
        raise Refused.of(Why("closed", {"release": release.id, "status": release.status}))
    require_driver(session, release.id)
    decided = time.monotonic()
    base: dict[str, Any] = {"release_id": release.id, "rehearsal": release.rehearsal}
    started = plan.interrupted
    began = started and str(started.details_obj.get("started_at") or started.recorded_at)
    if started is not None and began and intent_alive(started.details_obj, began):
        host, pid = started.details_obj.get("host"), started.details_obj.get("pid")
        where = f"#{started.seq}, {host} pid {pid}"
        raise Refused.said("roll.running", release=release.id, where=where)
    if started is not None:
        out(f"resuming the rollback decided at #{started.seq}: {started.reason}")
    else:
        started = store.append(
            NewEvent(
                action=ROLLBACK_STARTED,
                reason=reason,
                details={
                    "steps": [
                        {"item": e.id, "undo": e.summary, "can_undo": e.can_undo}
                        for e in plan.entries
                    ],
                    "question": plan.question(),
                    "timeout": _timeout(plan),
                    "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
                    **process_id(),
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
            if entry.in_flight is not None and _undone_already(session, release, entry, out):
                result.undone.append(entry.id)
                continue
            outcome = _undo_one(session, release, entry, started.seq, out, cancel)
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
        result.healthy = _healthy(session, release_text, out, cancel)
    result.elapsed_s = round(time.monotonic() - decided, 3)
    result.finished = store.append(
        NewEvent(
            action=ROLLBACK_FINISHED,
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


def _timeout(plan: RollbackPlan) -> float:
    """How long the whole rollback may take: its undos' timeouts and the health checks."""
    return sum(float(getattr(e.info.run, "timeout", 0)) for e in plan.to_undo) + 120.0


def _undone_already(session: Session, release: Release, entry: UndoEntry, out: Output) -> bool:
    """An undo interrupted in flight: look at the world first. When the step's effect is gone
    the undo took effect: record it as done (closing its intent) without running it again."""
    info, in_flight = entry.info, entry.in_flight
    assert info.kind is not None and in_flight is not None
    ctx = context(session.loaded, release, info.id, session.operator, output=out)
    ctx.deadline = time.monotonic() + min(120.0, float(info.run.timeout))  # type: ignore[union-attr]
    try:
        found = info.kind.recheck(info.run, ctx, entry.done.details_obj)
    except StepFailed as exc:
        out(f"undo {info.id}: the re-check could not tell ({exc}): undoing again")
        return False
    if found.done:
        out(f"undo {info.id}: not undone yet ({found.text}): undoing again")
        return False
    out(f"undo {info.id}: already undone ({found.text})")
    session.store.append(
        NewEvent(
            action=STEP_UNDONE,
            release_id=release.id,
            subject=info.id,
            rehearsal=release.rehearsal,
            details={
                "intent_seq": in_flight.seq,
                "resumed": True,
                "found": redact_text(found.text),
            },
        ),
        session.operator,
    )
    return True


def _undo_one(
    session: Session,
    release: Release,
    entry: UndoEntry,
    rollback_seq: int,
    out: Output,
    cancel: threading.Event | None,
) -> dict[str, Any]:
    store, loaded, operator = session.store, session.loaded, session.operator
    info = entry.info
    assert info.kind is not None
    ctx = context(loaded, release, info.id, operator, output=out, cancel=cancel)
    ctx.deadline = time.monotonic() + float(info.run.timeout)  # type: ignore[union-attr]
    with store.write_ahead(
        NewEvent(
            action=STEP_UNDO_STARTED,
            release_id=release.id,
            subject=info.id,
            rehearsal=release.rehearsal,
            details={
                "kind": info.run.kind,
                "undo": entry.summary,
                "done_seq": entry.done.seq,
                "rollback_seq": rollback_seq,
                "timeout": float(info.run.timeout),  # type: ignore[union-attr]
                "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
                **process_id(),
            },
        ),
        operator,
        done=STEP_UNDONE,
        failed=STEP_UNDO_FAILED,
    ) as outcome:
        info.kind.undo(info.run, ctx, entry.done.details_obj, outcome)
    return outcome


def _healthy(
    session: Session,
    release_text: str,
    out: Output,
    cancel: threading.Event | None,
) -> bool | None:
    """Run the plan's HTTP-check steps (their verify) after the undo; None when there are none."""
    store, loaded, operator = session.store, session.loaded, session.operator
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
