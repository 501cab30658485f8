"""Reports drafted from the log: the seed's ロールバック報告書 (rollback report). Who acted is
shown as claimed unless the event is signed by a key of theirs (:mod:`cockpit.identity`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cockpit.checklist import Refused, load_checklist
from cockpit.identity import shown_actor
from cockpit.timefmt import TimeFormat
from cockpit.vocabulary import (
    NOTE,
    ROLLBACK_FINISHED,
    ROLLBACK_STARTED,
    STEP_FAILED,
    STEP_RECHECKED,
    STEP_STARTED,
    STEP_SUCCEEDED,
    STEP_UNDO_FAILED,
    STEP_UNDONE,
    TRIGGER_FIRED,
)

if TYPE_CHECKING:
    from cockpit.store import Store


def rollback_report(store: Store, release_text: str, times: TimeFormat | None = None) -> str:
    """A draft of the seed's ロールバック報告書 (rollback report) in Markdown, from the log: what
    happened (the timeline), the cause as recorded (failed steps, the decision's reason), and the
    sections the release manager completes (原因分析 cause analysis, 再発防止策 prevention).
    Moments as ``times`` writes them (the window's zone, named; UTC without one)."""
    times = times or TimeFormat("UTC", utc=True)
    checklist = load_checklist(store, release_text)
    release = checklist.release
    events = store.events(release_id=release.id)
    signers = store.signers
    rollbacks = [ev for ev in events if ev.action == ROLLBACK_STARTED]
    if not rollbacks:
        raise Refused.said("report.no_rollback", release=release.id)
    decision = rollbacks[-1]
    finished = next(
        (
            ev
            for ev in events
            if ev.action == ROLLBACK_FINISHED and ev.details_obj.get("rollback_seq") == decision.seq
        ),
        None,
    )
    fin = finished.details_obj if finished else {}
    decided_by = shown_actor(decision, signers)
    failed_steps = [ev for ev in events if ev.action == STEP_FAILED and ev.seq < decision.seq]
    lines = [
        f"# ロールバック報告書 / Rollback report: {release.version} ({release.environment})",
        "",
        f"- Release: {release.id}, plan {release.plan}, T-0 {times.show(release.t0, 'minute')}"
        + (" (REHEARSAL)" if release.rehearsal else ""),
        f"- Decided: {times.show(decision.recorded_at, 'full')} by {decided_by} "
        f"(event #{decision.seq})",
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
        STEP_STARTED,
        STEP_SUCCEEDED,
        STEP_FAILED,
        STEP_RECHECKED,
        STEP_UNDONE,
        STEP_UNDO_FAILED,
        ROLLBACK_STARTED,
        ROLLBACK_FINISHED,
        TRIGGER_FIRED,
        NOTE,
    }
    for ev in events:
        if ev.action not in shown:
            continue
        what = ev.details_obj.get("summary") or ev.details_obj.get("error") or ev.reason or ""
        subject = ev.subject or ""
        who = shown_actor(ev, signers)
        line = (
            f"- #{ev.seq} {times.show(ev.recorded_at, 'full')} {who} {ev.action} {subject} {what}"
        )
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
