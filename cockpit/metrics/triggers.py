"""The baseline before T-0 and the rollback triggers on each sample: pure rules, no event log.

The seeds' rules: a rollback trigger fires when a panel stays at its critical level (latency
``latency_factor`` x the baseline, error rate ``error_rate_critical``, resources ``*_critical``)
for ``consecutive_samples`` samples in a row; one spike does not fire. A sample without a value
breaks the run (no trigger fires on missing data). Time comes from the samples themselves (their
``at``), so the evaluator runs on whatever clock stamped them. Recording the baseline, the
triggers and the watch's decisions in the event log is :mod:`cockpit.metrics.watch`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cockpit.events import Event
from cockpit.metrics.model import Panel, PanelState, Sample, Series, format_value, median
from cockpit.metrics.sources.base import Source, SourceError

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
            "start": iso_utc(self.start),
            "end": iso_utc(self.end),
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
            start=epoch(details["start"]),
            end=epoch(details["end"]),
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
            "samples": [{"at": iso_utc(at), "value": value} for at, value in self.samples],
            "fired_at": iso_utc(self.at),
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

    def hold(self, panels: Iterable[str]) -> None:
        """Count ``panels`` as fired already (their trigger is recorded and not settled): a
        sampler made again for the same release does not fire a second trigger for them until
        they come back below their critical level."""
        with self._lock:
            self._fired.update(panels)

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


def iso_utc(at: float) -> str:
    """A wall-clock time as the event log writes times (``2025-01-31T12:00:00.000000Z``)."""
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def epoch(text: str) -> float:
    """The wall-clock time of an event-log time (the inverse of :func:`iso_utc`)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
