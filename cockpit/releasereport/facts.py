"""What the release report says, gathered from the log at one audit head: the timeline of
decisions, approvals with their signatures' status, steps with durations, deviations (skips,
overrides, trigger continuations, takeovers, with reasons), the watch's metrics as points, the
notices sent, and the rollback if any. Who acted keeps its marking: verified only when signed by
a key of theirs (:mod:`cockpit.identity`), claimed otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cockpit.checklist import load_checklist
from cockpit.events import Event
from cockpit.identity import Signers, shown_actor
from cockpit.release import Release
from cockpit.vocabulary import (
    GATE_APPROVED,
    GATE_REJECTED,
    ITEM_SKIPPED,
    LEASE_TAKEN_OVER,
    METRICS_BASELINE,
    NODATA_OVERRIDE,
    NOTICE_ATTEMPT,
    NOTICE_ATTEMPT_FAILED,
    NOTICE_FAILED,
    NOTICE_QUEUED,
    NOTICE_SENT,
    OVERRIDE,
    ROLLBACK_STARTED,
    STEP_CANCELLED,
    STEP_FAILED,
    STEP_STARTED,
    STEP_SUCCEEDED,
    STEP_UNDO_SKIPPED,
    TRIGGER_CONTINUED,
    TRIGGER_FIRED,
    WATCH_GO,
    WATCH_NO_GO,
)

if TYPE_CHECKING:
    from cockpit.store import Store
    from cockpit.timefmt import TimeFormat

# Deviations from the plan: each carries its reason.
DEVIATIONS = (
    ITEM_SKIPPED,
    OVERRIDE,
    TRIGGER_CONTINUED,
    NODATA_OVERRIDE,
    STEP_UNDO_SKIPPED,
    LEASE_TAKEN_OVER,
)
# Not decisions: the outbox's bookkeeping stays out of the timeline (notices have a section).
_QUIET = (NOTICE_QUEUED, NOTICE_ATTEMPT, NOTICE_ATTEMPT_FAILED, NOTICE_SENT, NOTICE_FAILED)
_STEP_ENDS = (STEP_SUCCEEDED, STEP_FAILED, STEP_CANCELLED)


def moment(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


@dataclass(frozen=True)
class Line:
    """One event as the report shows it."""

    seq: int
    at: str
    who: str
    action: str
    subject: str
    outcome: str
    reason: str


@dataclass(frozen=True)
class Approval:
    seq: int
    at: str
    item: str
    who: str
    decision: str
    signature: str  # verified (fingerprint), unsigned, or what is wrong with it
    reason: str


@dataclass(frozen=True)
class StepRun:
    item: str
    started_seq: int
    started_at: str
    outcome: str  # succeeded, failed, cancelled, or running (no outcome yet)
    seconds: float | None
    error: str


@dataclass
class Watch:
    """The watch's metrics as recorded: per panel, points (epoch seconds, value), and the
    threshold a trigger named; decisions and triggers as lines."""

    points: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    thresholds: dict[str, float] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    lines: list[Line] = field(default_factory=list)

    def add(self, panel: str, at: float, value: Any) -> None:
        if isinstance(value, (int, float)):
            self.points.setdefault(panel, []).append((at, float(value)))


@dataclass
class ReleaseFacts:
    release: Release
    head: tuple[int, str]
    phases: list[tuple[str, str, str, int, int]]  # id, title ja, title en, settled, total
    timeline: list[Line]
    approvals: list[Approval]
    steps: list[StepRun]
    deviations: list[Line]
    watch: Watch
    notices: list[tuple[int, str, str, str]]  # queued seq, channel, title, state
    rollback: str | None


def signature_status(ev: Event, signers: Signers | None) -> str:
    if ev.signature is None:
        return "unsigned (claimed)"
    if signers is None:
        return "signed, not checked (no allowed-signers file)"
    verdict = signers.verdict(ev)
    if verdict.verified:
        return f"verified ({verdict.key})" if verdict.key else "verified"
    return f"{verdict.code} (claimed)"


def _line(ev: Event, signers: Signers | None) -> Line:
    return Line(
        ev.seq,
        ev.recorded_at,
        shown_actor(ev, signers),
        ev.action,
        ev.subject or "",
        ev.outcome or "",
        ev.reason or "",
    )


def gather(store: Store, release_text: str, times: TimeFormat | None = None) -> ReleaseFacts:
    """The report's facts, drawn from the log up to the head read first (a later append does
    not change a report already begun); ``times``: how the rollback report within writes
    moments."""
    head = store.head()
    checklist = load_checklist(store, release_text)
    release = checklist.release
    events = [ev for ev in store.events(release_id=release.id) if ev.seq <= head[0]]
    signers = store.signers
    phases = [
        (p.id, p.title_ja, p.title_en, *checklist.progress(p)) for p in checklist.plan.plan.phases
    ]
    timeline = [_line(ev, signers) for ev in events if ev.action not in _QUIET]
    approvals = [
        Approval(
            ev.seq,
            ev.recorded_at,
            ev.subject or "",
            shown_actor(ev, signers),
            "approved" if ev.action == GATE_APPROVED else "rejected",
            signature_status(ev, signers),
            ev.reason or "",
        )
        for ev in events
        if ev.action in (GATE_APPROVED, GATE_REJECTED)
    ]
    return ReleaseFacts(
        release=release,
        head=head,
        phases=phases,
        timeline=timeline,
        approvals=approvals,
        steps=_steps(events),
        deviations=[_line(ev, signers) for ev in events if ev.action in DEVIATIONS],
        watch=_watch(events, signers),
        notices=_notices(events),
        rollback=_rollback(store, release, events, times),
    )


def _steps(events: list[Event]) -> list[StepRun]:
    ends = {
        int(ev.details_obj["intent_seq"]): ev
        for ev in events
        if ev.action in _STEP_ENDS and "intent_seq" in ev.details_obj
    }
    runs = []
    for ev in events:
        if ev.action != STEP_STARTED:
            continue
        end = ends.get(ev.seq)
        seconds = None
        if end is not None:
            seconds = round((moment(end.recorded_at) - moment(ev.recorded_at)).total_seconds(), 1)
        outcome = end.action.split(".")[1] if end is not None else "running"
        error = str(end.details_obj.get("error", "")) if end is not None else ""
        runs.append(StepRun(ev.subject or "", ev.seq, ev.recorded_at, outcome, seconds, error))
    return runs


def _watch(events: list[Event], signers: Signers | None) -> Watch:
    watch = Watch()
    for ev in events:
        d = ev.details_obj
        at = moment(ev.recorded_at).timestamp()
        if ev.action == METRICS_BASELINE:
            for name, panel in (d.get("panels") or {}).items():
                watch.add(
                    name, moment(d["end"]).timestamp() if d.get("end") else at, panel.get("value")
                )
        elif ev.action == TRIGGER_FIRED:
            name = str(d.get("panel") or ev.subject)
            for sample in d.get("samples") or []:
                watch.add(name, moment(sample["at"]).timestamp(), sample.get("value"))
            if isinstance(d.get("threshold"), (int, float)):
                watch.thresholds[name] = float(d["threshold"])
            if d.get("unit"):
                watch.units[name] = str(d["unit"])
            watch.lines.append(_line(ev, signers))
        elif ev.action in (WATCH_GO, WATCH_NO_GO):
            for name, panel in (d.get("panels") or {}).items():
                watch.add(name, at, panel.get("value"))
            watch.lines.append(_line(ev, signers))
        elif ev.action in (TRIGGER_CONTINUED, NODATA_OVERRIDE):
            watch.lines.append(_line(ev, signers))
    for pts in watch.points.values():
        pts.sort()
    return watch


def _notices(events: list[Event]) -> list[tuple[int, str, str, str]]:
    from cockpit.notify.state import fold_notices

    shown = []
    for state in fold_notices(events).values():
        d = state.queued.details_obj
        done = "sent" if state.sent else "failed" if state.gave_up else "waiting"
        shown.append((state.queued.seq, str(d.get("channel")), str(d.get("title")), done))
    return shown


def _rollback(
    store: Store, release: Release, events: list[Event], times: TimeFormat | None
) -> str | None:
    if not any(ev.action == ROLLBACK_STARTED for ev in events):
        return None
    from cockpit.reports import rollback_report

    return rollback_report(store, release.id, times)
