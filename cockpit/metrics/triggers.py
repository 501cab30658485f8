"""The baseline before T-0, the rollback triggers on each sample, and the recorded decisions.

The seeds' rules: a rollback trigger fires when a panel stays at its critical level (latency
``latency_factor`` x the baseline, error rate ``error_rate_critical``, resources ``*_critical``)
for ``consecutive_samples`` samples in a row; one spike does not fire. A sample without a value
breaks the run (no trigger fires on missing data) but missing data blocks a go decision instead:
it fails closed until a second operator overrides with a reason.

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

Rolling back is :func:`cockpit.deploy.rollback` (its ``rollback.started`` also settles a fired
trigger).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

from cockpit.errors import CockpitError
from cockpit.events import Event, NewEvent, redact_text
from cockpit.metrics.model import Panel, PanelState, Sample, Series, format_value, median
from cockpit.metrics.sources.base import Source, SourceError

if TYPE_CHECKING:
    from cockpit.operator import Operator
    from cockpit.store import Store

Decision = Literal["go", "no_go", "continue", "nodata_override"]
DECISION_ACTIONS: dict[str, str] = {
    "go": "watch.go",
    "no_go": "watch.no_go",
    "continue": "trigger.continued",
    "nodata_override": "nodata.override",
}
WATCH_ACTIONS = (
    "metrics.baseline",
    "watch.started",
    "trigger.fired",
    "trigger.continued",
    "nodata.override",
    "watch.go",
    "watch.no_go",
    "rollback.started",
)


class GoBlocked(CockpitError):
    """A go decision is not allowed now; the message says why."""


class ReleaseRef(Protocol):
    """What the events need of a release (:class:`cockpit.release.Release` has it)."""

    @property
    def id(self) -> str: ...

    @property
    def rehearsal(self) -> bool: ...


# --- baseline ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Baseline:
    """Each panel's median over the window before T-0 (``None``: no data in the window)."""

    start: float
    end: float
    values: Mapping[str, float | None]
    points: Mapping[str, int]
    queries: Mapping[str, str]
    errors: Mapping[str, str] = field(default_factory=dict)

    @property
    def window_seconds(self) -> float:
        return self.end - self.start

    def value(self, panel: str) -> float | None:
        return self.values.get(panel)

    def as_details(self) -> dict[str, Any]:
        return {
            "window_seconds": round(self.window_seconds, 3),
            "start": _iso(self.start),
            "end": _iso(self.end),
            "panels": {
                name: {
                    "query": self.queries.get(name, ""),
                    "value": self.values.get(name),
                    "points": self.points.get(name, 0),
                    **({"error": self.errors[name]} if name in self.errors else {}),
                }
                for name in self.queries
            },
        }

    @classmethod
    def from_event(cls, event: Event) -> Baseline:
        """The baseline a ``metrics.baseline`` event recorded."""
        details = event.details_obj
        panels: dict[str, dict[str, Any]] = details.get("panels", {})
        return cls(
            start=_epoch(details["start"]),
            end=_epoch(details["end"]),
            values={n: p.get("value") for n, p in panels.items()},
            points={n: int(p.get("points", 0)) for n, p in panels.items()},
            queries={n: str(p.get("query", "")) for n, p in panels.items()},
            errors={n: str(p["error"]) for n, p in panels.items() if "error" in p},
        )


def capture_baseline(
    panels: Sequence[Panel],
    sources: Mapping[str, Source],
    *,
    window_seconds: float,
    series: Mapping[str, Series] | None = None,
    now: float | None = None,
    points: int = 60,
) -> Baseline:
    """Each panel's median over the last ``window_seconds``: from the source's history
    (Prometheus ``query_range`` at ``window/points`` steps, at least 1 s; CloudWatch by its
    period), else from the samples already in ``series`` (Kubernetes, host). It blocks for up to
    one source timeout per panel: call it from a worker thread."""
    end = time.time() if now is None else now
    start = end - window_seconds
    step = max(1.0, window_seconds / max(1, points))
    values: dict[str, float | None] = {}
    counts: dict[str, int] = {}
    queries: dict[str, str] = {}
    errors: dict[str, str] = {}
    for panel in panels:
        queries[panel.name] = f"{panel.source}: {panel.query}"
        found: list[float] = []
        source = sources.get(panel.source)
        history = None
        if source is None:
            errors[panel.name] = f"no {panel.source} source"
        else:
            try:
                history = source.history(panel, start, end, step)
            except SourceError as exc:
                errors[panel.name] = str(exc)
        if history is not None:
            found = [v for at, v in history if start <= at <= end]
        elif series is not None and panel.name in series:
            found = [
                s.value
                for s in series[panel.name].samples()
                if s.value is not None and start <= s.at <= end
            ]
        values[panel.name] = median(found)
        counts[panel.name] = len(found)
    return Baseline(start, end, values, counts, queries, errors)


# --- triggers ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fired:
    """A rollback trigger that fired: the rule in words, the panel, the baseline, and the raw
    samples (wall-clock time, value) that were at the critical level in a row."""

    panel: str
    rule: str
    source: str
    query: str
    unit: str
    baseline: float | None
    threshold: float
    samples: tuple[tuple[float, float], ...]
    at: float
    # metrics.automatic_rollback: start the rollback plan without asking.
    automatic: bool = False

    def as_details(self) -> dict[str, Any]:
        return {
            "panel": self.panel,
            "rule": self.rule,
            "source": self.source,
            "query": self.query,
            "unit": self.unit,
            "baseline": self.baseline,
            "threshold": self.threshold,
            "samples": [{"at": _iso(at), "value": value} for at, value in self.samples],
            "fired_at": _iso(self.at),
            "automatic_rollback": self.automatic,
        }


class TriggerEvaluator:
    """Counts samples at the critical level per panel; :meth:`observe` returns a :class:`Fired`
    once per run of ``consecutive`` samples (it fires again only after the panel came back below
    its critical level). Thread-safe."""

    def __init__(
        self,
        panels: Sequence[Panel],
        *,
        consecutive: int = 3,
        baseline: Baseline | None = None,
        automatic: bool = False,
    ) -> None:
        self.panels = {p.name: p for p in panels}
        self.consecutive = max(1, consecutive)
        self.automatic = automatic
        self._baseline = baseline
        self._runs: dict[str, list[tuple[float, float]]] = {}
        self._fired: set[str] = set()
        self._lock = threading.Lock()

    @property
    def baseline(self) -> Baseline | None:
        return self._baseline

    @baseline.setter
    def baseline(self, value: Baseline | None) -> None:
        with self._lock:
            self._baseline = value

    def baseline_of(self, panel: str) -> float | None:
        return None if self._baseline is None else self._baseline.value(panel)

    def observe(self, sample: Sample) -> Fired | None:
        panel = self.panels.get(sample.panel)
        if panel is None:
            return None
        with self._lock:
            base = self.baseline_of(panel.name)
            critical = panel.critical_at(base)
            if (
                sample.value is None
                or critical is None
                or panel.level(sample.value, base) != "crit"
            ):
                self._runs.pop(panel.name, None)
                self._fired.discard(panel.name)
                return None
            run = self._runs.setdefault(panel.name, [])
            run.append((sample.at, sample.value))
            del run[: -self.consecutive]
            if len(run) < self.consecutive or panel.name in self._fired:
                return None
            self._fired.add(panel.name)
            return Fired(
                panel=panel.name,
                rule=f"{panel.rule(base)} for {self.consecutive} samples",
                source=panel.source,
                query=panel.query,
                unit=panel.unit,
                baseline=base,
                threshold=critical,
                samples=tuple(run),
                at=sample.at,
                automatic=self.automatic,
            )

    def streak(self, panel: str) -> int:
        """Samples in a row at the critical level so far."""
        with self._lock:
            return len(self._runs.get(panel, ()))


def post_release_warnings(states: Iterable[PanelState]) -> list[str]:
    """One line per panel past its warning threshold (the seeds' post-release limits)."""
    out: list[str] = []
    for state in states:
        panel = state.panel
        if state.level == "warn" and state.value is not None and panel.warning is not None:
            sign = "<" if panel.lower_is_worse else ">"
            out.append(
                f"{panel.name} {format_value(state.value, panel.unit)} {sign} "
                f"{format_value(panel.warning, panel.unit)} (post-release threshold)"
            )
    return out


# --- events --------------------------------------------------------------------------------------


def _base(release: ReleaseRef, subject: str | None = None) -> dict[str, Any]:
    return {"release_id": release.id, "rehearsal": release.rehearsal, "subject": subject}


def record_baseline(
    store: Store, operator: Operator, baseline: Baseline, *, release: ReleaseRef
) -> Event:
    """Record the baseline (``metrics.baseline``) with its window, queries and values."""
    return store.append(
        NewEvent(action="metrics.baseline", details=baseline.as_details(), **_base(release)),
        operator,
    )


def latest_baseline(store: Store, release_id: str) -> Baseline | None:
    """The release's newest recorded baseline."""
    found = store.events(release_id=release_id, actions=("metrics.baseline",), last=1)
    return Baseline.from_event(found[0]) if found else None


def record_watch_start(
    store: Store,
    operator: Operator,
    *,
    release: ReleaseRef,
    panels: Sequence[Panel],
    watch_hours: float,
) -> Event:
    """Start the post-release watch (``watch.started``); it lasts ``watch_hours``."""
    return store.append(
        NewEvent(
            action="watch.started",
            details={
                "watch_hours": watch_hours,
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
            action="trigger.fired",
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
        raise GoBlocked(f"{DECISION_ACTIONS[decision]}: a reason is required")
    details: dict[str, Any] = {}
    subject: str | None = None
    if decision == "go":
        if states is None:
            raise GoBlocked("go: the panels' states are needed to decide")
        why = go_blocked(store, operator, release=release, states=states, now=now)
        if why:
            raise GoBlocked(f"go blocked: {why}")
        details["panels"] = _snapshot(states.values())
    elif decision == "no_go":
        if states is not None:
            details["panels"] = _snapshot(states.values())
    elif decision == "continue":
        if trigger is None or trigger.action != "trigger.fired":
            raise GoBlocked("trigger.continued: name the trigger.fired event it answers")
        subject = trigger.subject
        details = {"trigger_seq": trigger.seq, "rule": trigger.details_obj.get("rule")}
    else:
        missing = [s for s in (states or {}).values() if s.missing]
        if not missing:
            raise GoBlocked("nodata.override: no panel is missing data")
        details["panels"] = {
            s.panel.name: {"level": s.level, "last_at": _iso(s.last_at) if s.last_at else None}
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
    """Why ``operator`` may not record go now (``None``: go is allowed). In order: the watch has
    not started or is already decided; a fired trigger is not settled (rollback or continue);
    a panel is critical; a panel is stale or without data and no *other* operator has
    overridden that since it went missing; the watch (``watch_hours``) has time left."""
    now = time.time() if now is None else now
    events = store.events(release_id=release.id, actions=WATCH_ACTIONS)
    started = [e for e in events if e.action == "watch.started"]
    if not started:
        return "the post-release watch has not started"
    start = started[-1]
    decided = [e for e in events if e.action in ("watch.go", "watch.no_go") and e.seq > start.seq]
    if decided:
        last = decided[-1]
        return f"already decided: {last.outcome} by {last.actor} at {last.recorded_at[:19]}Z"
    settled = {
        int(e.details_obj.get("trigger_seq", 0)) for e in events if e.action == "trigger.continued"
    }
    rolled_back = max((e.seq for e in events if e.action == "rollback.started"), default=0)
    for fired in events:
        if fired.action == "trigger.fired" and fired.seq not in settled and fired.seq > rolled_back:
            rule = fired.details_obj.get("rule", fired.subject)
            return f"trigger fired: {rule} (seq {fired.seq}); roll back or continue with a reason"
    if not states:
        return "no metrics panels (metrics.panels in cockpit.toml)"
    critical = [s for s in states.values() if s.level == "crit"]
    if critical:
        return "critical: " + ", ".join(f"{s.panel.name} {s.text}" for s in critical)
    missing = [s for s in states.values() if s.missing]
    overrides = [e for e in events if e.action == "nodata.override" and e.actor != operator.actor]
    uncovered = [s for s in missing if not _covered(s, overrides)]
    if uncovered:
        names = ", ".join(f"{s.panel.name} ({s.label})" for s in uncovered)
        return (
            f"missing data: {names}; a second operator must override with a reason "
            "(missing data fails closed)"
        )
    hours = float(start.details_obj.get("watch_hours", 0))
    left = _epoch(start.recorded_at) + hours * 3600 - now
    if left > 0:
        return f"the watch has {_duration(left)} left (metrics.watch_hours = {hours:g})"
    return None


def _covered(state: PanelState, overrides: Sequence[Event]) -> bool:
    """An override covers a panel that was already missing when it was recorded."""
    for event in overrides:
        panels = event.details_obj.get("panels", {})
        if state.panel.name not in panels:
            continue
        if state.last_at is None or state.last_at <= _epoch(event.recorded_at):
            return True
    return False


def _duration(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes >= 60:
        return f"{minutes // 60} h {minutes % 60:02d} min"
    if minutes:
        return f"{minutes} min"
    return f"{max(1, int(seconds))} s"


def _iso(at: float) -> str:
    from datetime import UTC

    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
