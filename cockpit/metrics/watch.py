"""The watch's record in the event log: the baseline, the watch's start, fired triggers and the
decisions, and whether a go is allowed now.

Missing data never fires a trigger but blocks a go decision instead: it fails closed until a
second operator overrides with a reason. The rules themselves are :mod:`cockpit.metrics.triggers`.

Events (all for the release, ``rehearsal`` as the release says):

``metrics.baseline``
    The window, each panel's source and query, its median and the number of points.
``watch.started``
    The post-release watch begins; its length (``metrics.watch_hours``) and the panels.
``trigger.fired``
    The rule, the panel's source and query, the baseline, the threshold, and the raw samples
    (time and value) that fired it.
``trigger.continued``
    The operator chose to continue despite a fired trigger (reason required).
``nodata.override``
    Panels without data, and the operator who accepts going on without them (reason required;
    must not be the operator who then records go).
``watch.go`` / ``watch.no_go``
    The end of the watch (no-go needs a reason; go only when :func:`go_blocked` says nothing).

Rolling back is :func:`cockpit.rollback.rollback` (its ``rollback.started`` also settles a fired
trigger).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal, Protocol

from cockpit.errors import CockpitError, Phrase
from cockpit.events import Event, NewEvent, redact_text
from cockpit.i18n import tr
from cockpit.metrics.model import Panel, PanelState
from cockpit.metrics.triggers import Baseline, Fired, epoch, iso_utc
from cockpit.vocabulary import (
    METRICS_BASELINE,
    NODATA_OVERRIDE,
    ROLLBACK_STARTED,
    TRIGGER_CONTINUED,
    TRIGGER_FIRED,
    WATCH_GO,
    WATCH_NO_GO,
    WATCH_STARTED,
)

if TYPE_CHECKING:
    from cockpit.operator import Operator
    from cockpit.store import Store

Decision = Literal["go", "no_go", "continue", "nodata_override"]
DECISION_ACTIONS: dict[str, str] = {
    "go": WATCH_GO,
    "no_go": WATCH_NO_GO,
    "continue": TRIGGER_CONTINUED,
    "nodata_override": NODATA_OVERRIDE,
}
WATCH_ACTIONS = (
    METRICS_BASELINE,
    WATCH_STARTED,
    TRIGGER_FIRED,
    TRIGGER_CONTINUED,
    NODATA_OVERRIDE,
    WATCH_GO,
    WATCH_NO_GO,
    ROLLBACK_STARTED,
)


class GoBlocked(CockpitError):
    """A go decision is not allowed now; the message says why."""


class ReleaseRef(Protocol):
    """What the events need of a release (:class:`cockpit.release.Release` has it)."""

    @property
    def id(self) -> str: ...

    @property
    def rehearsal(self) -> bool: ...


def _base(release: ReleaseRef, subject: str | None = None) -> dict[str, Any]:
    return {"release_id": release.id, "rehearsal": release.rehearsal, "subject": subject}


def record_baseline(
    store: Store, operator: Operator, baseline: Baseline, *, release: ReleaseRef
) -> Event:
    """Record the baseline (``metrics.baseline``) with its window, queries and values."""
    return store.append(
        NewEvent(action=METRICS_BASELINE, details=baseline.as_details(), **_base(release)),
        operator,
    )


def latest_baseline(store: Store, release_id: str) -> Baseline | None:
    """The release's newest recorded baseline."""
    found = store.events(release_id=release_id, actions=(METRICS_BASELINE,), last=1)
    return Baseline.from_event(found[0]) if found else None


def record_watch_start(
    store: Store,
    operator: Operator,
    *,
    release: ReleaseRef,
    panels: Sequence[Panel],
    watch_hours: float,
    speed: float = 1.0,
) -> Event:
    """Start the post-release watch (``watch.started``); it lasts ``watch_hours``, on a clock
    ``speed`` times faster in a rehearsal (``metrics.watch_speed``, the demo's: recorded)."""
    if speed != 1.0 and not release.rehearsal:
        raise CockpitError.said("err.watch_speed")
    fast = {"speed": speed} if speed != 1.0 else {}
    return store.append(
        NewEvent(
            action=WATCH_STARTED,
            details={
                "watch_hours": watch_hours,
                **fast,
                "panels": {p.name: f"{p.source}: {p.query}" for p in panels},
            },
            **_base(release),
        ),
        operator,
    )


def record_trigger(store: Store, operator: Operator, fired: Fired, *, release: ReleaseRef) -> Event:
    """Record a fired trigger (``trigger.fired``): rule, query, baseline and raw samples."""
    return store.append(
        NewEvent(
            action=TRIGGER_FIRED,
            outcome="rollback" if fired.automatic else "prompt",
            details=fired.as_details(),
            **_base(release, fired.panel),
        ),
        operator,
    )


def record_decision(
    store: Store,
    operator: Operator,
    decision: Decision,
    *,
    release: ReleaseRef,
    reason: str = "",
    states: Mapping[str, PanelState] | None = None,
    trigger: Event | None = None,
    now: float | None = None,
) -> Event:
    """Record a decision of the watch.

    ``go`` (``watch.go``): refused with :class:`GoBlocked` while :func:`go_blocked` gives a
    reason (``states`` required). ``no_go`` (``watch.no_go``), ``continue`` (``trigger.continued``,
    after a fired ``trigger`` event) and ``nodata_override`` (``nodata.override``, the panels
    missing in ``states``) need a reason.
    """
    if decision not in DECISION_ACTIONS:
        raise GoBlocked(f"decision {decision!r}: use one of {', '.join(DECISION_ACTIONS)}")
    reason = redact_text(reason.strip())
    if decision != "go" and not reason:
        raise GoBlocked.said("met.reason_required", action=DECISION_ACTIONS[decision])
    details: dict[str, Any] = {}
    subject: str | None = None
    if decision == "go":
        if states is None:
            raise GoBlocked("go: the panels' states are needed to decide")
        found = go_blocked_reason(store, operator, release=release, states=states, now=now)
        if found is not None:
            raise GoBlocked.said("met.go_blocked", why=Phrase(*found))
        details["panels"] = _snapshot(states.values())
    elif decision == "no_go":
        if states is not None:
            details["panels"] = _snapshot(states.values())
    elif decision == "continue":
        if trigger is None or trigger.action != TRIGGER_FIRED:
            raise GoBlocked("trigger.continued: name the trigger.fired event it answers")
        subject = trigger.subject
        details = {"trigger_seq": trigger.seq, "rule": trigger.details_obj.get("rule")}
    else:
        missing = [s for s in (states or {}).values() if s.missing]
        if not missing:
            raise GoBlocked("nodata.override: no panel is missing data")
        details["panels"] = {
            s.panel.name: {"level": s.level, "last_at": iso_utc(s.last_at) if s.last_at else None}
            for s in missing
        }
    return store.append(
        NewEvent(
            action=DECISION_ACTIONS[decision],
            reason=reason or None,
            outcome=decision,
            details=details,
            **_base(release, subject),
        ),
        operator,
    )


def _snapshot(states: Iterable[PanelState]) -> dict[str, Any]:
    return {
        s.panel.name: {"level": s.level, "value": s.value, "baseline": s.baseline} for s in states
    }


def go_blocked(
    store: Store,
    operator: Operator,
    *,
    release: ReleaseRef,
    states: Mapping[str, PanelState],
    now: float | None = None,
) -> str | None:
    """Why ``operator`` may not record go now (``None``: go is allowed), in English: what
    :func:`go_blocked_reason` says."""
    found = go_blocked_reason(store, operator, release=release, states=states, now=now)
    return None if found is None else tr(found[0], "en", **found[1])


def go_blocked_reason(
    store: Store,
    operator: Operator,
    *,
    release: ReleaseRef,
    states: Mapping[str, PanelState],
    now: float | None = None,
) -> tuple[str, dict[str, Any]] | None:
    """Why ``operator`` may not record go now, as a catalog key and its values (the screens
    say it in the operator's language; ``None``: go is allowed). In order: the watch has
    not started or is already decided; a fired trigger is not settled (rollback or continue);
    a panel is critical; a panel is stale or without data and no *other* operator has
    overridden that since it went missing; the watch (``watch_hours``) has time left."""
    now = time.time() if now is None else now
    events = store.events(release_id=release.id, actions=WATCH_ACTIONS)
    started = [e for e in events if e.action == WATCH_STARTED]
    if not started:
        return "go.not_started", {}
    start = started[-1]
    decided = [e for e in events if e.action in (WATCH_GO, WATCH_NO_GO) and e.seq > start.seq]
    if decided:
        last = decided[-1]
        return "go.decided", {
            "outcome": last.outcome,
            "by": last.actor,
            "at": last.recorded_at[:19],
        }
    for fired in _unsettled(events):
        return "go.trigger", {
            "rule": fired.details_obj.get("rule", fired.subject),
            "seq": fired.seq,
        }
    if not states:
        return "go.no_panels", {}
    critical = [s for s in states.values() if s.level == "crit"]
    if critical:
        return "go.critical", {"panels": ", ".join(f"{s.panel.name} {s.text}" for s in critical)}
    missing = [s for s in states.values() if s.missing]
    overrides = [e for e in events if e.action == NODATA_OVERRIDE and e.actor != operator.actor]
    uncovered = [s for s in missing if not _covered(s, overrides)]
    if uncovered:
        names = ", ".join(f"{s.panel.name} ({s.label})" for s in uncovered)
        return "go.missing", {"names": names}
    hours = float(start.details_obj.get("watch_hours", 0))
    speed = float(start.details_obj.get("speed", 1.0))
    left = epoch(start.recorded_at) + hours * 3600 / speed - now
    if left > 0:
        fast = f", FAST DEMO CLOCK x{speed:g}" if speed != 1.0 else ""
        from cockpit.when import Duration

        values = {"left": Duration(timedelta(seconds=left)), "hours": f"{hours:g}", "fast": fast}
        return "go.watch_left", values
    return None


def unsettled_triggers(store: Store, release_id: str) -> list[Event]:
    """The release's fired triggers (``trigger.fired``) that no ``trigger.continued`` answered
    and no later ``rollback.started`` settled, oldest first: a dialog dismissed with esc leaves
    its trigger here until someone settles it."""
    return _unsettled(store.events(release_id=release_id, actions=WATCH_ACTIONS))


def _unsettled(events: Sequence[Event]) -> list[Event]:
    settled = {
        int(e.details_obj.get("trigger_seq", 0)) for e in events if e.action == TRIGGER_CONTINUED
    }
    rolled_back = max((e.seq for e in events if e.action == ROLLBACK_STARTED), default=0)
    return [
        e
        for e in events
        if e.action == TRIGGER_FIRED and e.seq not in settled and e.seq > rolled_back
    ]


def _covered(state: PanelState, overrides: Sequence[Event]) -> bool:
    """An override covers a panel that was already missing when it was recorded."""
    for event in overrides:
        panels = event.details_obj.get("panels", {})
        if state.panel.name not in panels:
            continue
        if state.last_at is None or state.last_at <= epoch(event.recorded_at):
            return True
    return False
