"""Panels, samples, the bounded series behind a sparkline, and what a panel shows now.

Nothing here does I/O. A :class:`Panel` is one row of ``metrics.panels`` in cockpit.toml with its
thresholds resolved from its ``kind`` (:func:`panels_from_config`); a :class:`Sample` is one answer
of a source; a :class:`Series` keeps the newest samples of one panel; :func:`panel_state` turns
them into what the screen shows. A missing number is never shown as zero: a panel without a
recent value is ``stale`` (its last value and its age) and then ``no_data``.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from cockpit.config import MetricsConfig, PanelConfig
    from cockpit.errors import Said

Level = Literal["ok", "warn", "crit", "stale", "no_data"]
ValueLevel = Literal["ok", "warn", "crit"]

# Samples kept per panel: 2 s refresh -> 4 minutes, more than the widest sparkline.
SERIES_CAPACITY = 120


@dataclass(frozen=True)
class Panel:
    """One panel with its thresholds resolved.

    ``warning`` / ``critical`` are absolute; for latency ``critical_factor`` times the baseline
    is the critical level too (the lower of the two when both are set). With
    ``lower_is_worse`` (availability) a value below ``warning`` warns and one at or below
    ``critical`` is critical; otherwise a value above ``warning`` warns and one at or above
    ``critical`` is critical (the seeds: "error rate 0.1 % or less" is fine, "10 % or more"
    rolls back).
    """

    name: str
    title: str
    source: str
    query: str
    kind: str = "count"
    unit: str = ""
    scale: float = 1.0
    warning: float | None = None
    critical: float | None = None
    critical_factor: float | None = None
    lower_is_worse: bool = False
    # cloudwatch only
    per: str = ""
    stat: str = "Average"
    namespace: str = ""
    dimensions: Mapping[str, str] = field(default_factory=dict)

    def critical_at(self, baseline: float | None) -> float | None:
        """The critical level given the baseline (``None``: this panel has none now)."""
        levels = [] if self.critical is None else [self.critical]
        if self.critical_factor is not None and baseline is not None and baseline > 0:
            levels.append(self.critical_factor * baseline)
        if not levels:
            return None
        return max(levels) if self.lower_is_worse else min(levels)

    def level(self, value: float, baseline: float | None = None) -> ValueLevel:
        """``ok``, ``warn`` or ``crit`` for a value."""
        critical = self.critical_at(baseline)
        if self.lower_is_worse:
            if critical is not None and value <= critical:
                return "crit"
            if self.warning is not None and value < self.warning:
                return "warn"
            return "ok"
        if critical is not None and value >= critical:
            return "crit"
        if self.warning is not None and value > self.warning:
            return "warn"
        return "ok"

    def rule(self, baseline: float | None) -> str:
        """The rollback rule in words, e.g. ``error_rate >= 10 %`` or
        ``latency_p95 >= 3x baseline (48.8 ms) = 146 ms``."""
        critical = self.critical_at(baseline)
        sign = "<=" if self.lower_is_worse else ">="
        if critical is None:
            return f"{self.name}: no critical level"
        uses_factor = (
            self.critical_factor is not None
            and baseline is not None
            and baseline > 0
            and math.isclose(critical, self.critical_factor * baseline)
        )
        if uses_factor:
            assert self.critical_factor is not None and baseline is not None
            return (
                f"{self.name} {sign} {self.critical_factor:g}x baseline "
                f"({format_value(baseline, self.unit)}) = {format_value(critical, self.unit)}"
            )
        return f"{self.name} {sign} {format_value(critical, self.unit)}"


def panels_from_config(metrics: MetricsConfig) -> list[Panel]:
    """The environment's panels, in the order of ``metrics.panels``, with each threshold either
    the panel's own or the default of its kind (CloudWatch panels warn at the seed's alarms)."""
    return [_panel(p, metrics) for p in metrics.panels]


def _panel(p: PanelConfig, m: MetricsConfig) -> Panel:
    cw = m.cloudwatch
    cloud = p.source == "cloudwatch"
    warning: float | None
    critical: float | None
    factor: float | None = None
    lower = False
    if p.kind == "error_rate":
        warning = cw.error_rate_alarm if cloud else m.error_rate_warning
        critical = m.error_rate_critical
    elif p.kind == "latency":
        warning = cw.response_time_alarm_ms if cloud else m.latency_warning_ms
        critical = None
        factor = m.latency_factor
    elif p.kind == "cpu":
        warning = cw.cpu_alarm if cloud else m.cpu_warning
        critical = m.cpu_critical
    elif p.kind == "memory":
        warning = cw.memory_alarm if cloud else m.memory_warning
        critical = m.memory_critical
    elif p.kind == "resource":
        warning, critical = m.resource_warning, m.resource_critical
    elif p.kind == "availability":
        # All desired pods ready is fine; none ready is a service stop (the seeds' first trigger).
        warning, critical, lower = 100.0, 0.0, True
    else:
        # A count (restarts, pods not ready): pods not ready warn by default, nothing else.
        not_ready = p.source == "kubernetes" and p.query == "not_ready"
        warning, critical = (0.0 if not_ready else None), None
    default_units = {"error_rate": "%", "latency": "ms", "cpu": "%", "memory": "%"}
    return Panel(
        name=p.name,
        title=p.title or p.name.replace("_", " "),
        source=p.source,
        query=p.query,
        kind=p.kind,
        unit=p.unit or default_units.get(p.kind, ""),
        scale=p.scale,
        warning=p.warning if p.warning is not None else warning,
        critical=p.critical if p.critical is not None else critical,
        critical_factor=factor,
        lower_is_worse=lower,
        per=p.per,
        stat=p.stat,
        namespace=p.namespace or cw.namespace,
        dimensions=dict(p.dimensions or cw.dimensions),
    )


@dataclass(frozen=True)
class Sample:
    """One answer of a source for one panel.

    ``value`` is ``None`` when there was no number: the query returned nothing, NaN, or the
    source failed (then ``error`` says why in one line, without secrets). ``at`` is the wall
    clock (``time.time()``) when the answer arrived; ``data_at`` the data's own time when the
    source gives one (a CloudWatch period). ``text`` is a source's own rendering (``2/3 ready``);
    ``detail`` extra facts (pods not ready and their reasons).
    """

    panel: str
    at: float
    value: float | None
    error: str | None = None
    text: str | None = None
    data_at: float | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)
    said: Said | None = None  # ``error`` in catalog words, for a screen in its language

    @property
    def ok(self) -> bool:
        return self.value is not None


class Series:
    """The newest samples of one panel in a ring buffer of ``capacity`` (thread-safe)."""

    def __init__(self, panel: str, capacity: int = SERIES_CAPACITY) -> None:
        self.panel = panel
        self._samples: deque[Sample] = deque(maxlen=max(1, capacity))
        self._last_good: Sample | None = None
        self._lock = threading.Lock()

    def add(self, sample: Sample) -> None:
        with self._lock:
            self._samples.append(sample)
            if sample.value is not None:
                self._last_good = sample

    def __len__(self) -> int:
        return len(self._samples)

    def last(self) -> Sample | None:
        """The newest sample, with or without a value."""
        with self._lock:
            return self._samples[-1] if self._samples else None

    def last_good(self) -> Sample | None:
        """The newest sample that had a value (kept even after it left the buffer)."""
        return self._last_good

    def samples(self, last: int | None = None) -> list[Sample]:
        with self._lock:
            items = list(self._samples)
        return items[-last:] if last else items

    def values(self, last: int | None = None) -> list[float | None]:
        """Values for a sparkline, oldest first; ``None`` marks a gap (never 0)."""
        return [s.value for s in self.samples(last)]


@dataclass(frozen=True)
class PanelState:
    """What a panel shows now.

    ``level``: ``ok`` / ``warn`` / ``crit`` from the fresh value, ``stale`` (a value older than
    ``stale_after``: shown with its age), ``no_data`` (none, or older than ``no_data_after``:
    ``value`` is ``None``). ``label`` is the state in words (``ok``, ``WARN``, ``CRIT``,
    ``STALE 45s``, ``NO DATA``); ``text`` the value with its unit (``12.5 %``) or ``NO DATA``.
    ``age`` is seconds since the last value; ``last_at`` its wall-clock time.
    """

    panel: Panel
    level: Level
    label: str
    text: str
    value: float | None
    age: float | None
    last_at: float | None
    baseline: float | None
    critical: float | None
    history: tuple[float | None, ...]
    error: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)
    said: Said | None = None  # the error in catalog words (Sample.said)

    def why(self, lang: str) -> str:
        """Why there is no value now (the source's last failure), in ``lang``; "" when none."""
        from cockpit.i18n import said

        return str(said(self.said or self.error or "", lang))

    @property
    def missing(self) -> bool:
        """No fresh value: stale or no data (blocks a go decision)."""
        return self.level in ("stale", "no_data")


def panel_state(
    panel: Panel,
    series: Series,
    now: float,
    *,
    baseline: float | None = None,
    stale_after: float = 10.0,
    no_data_after: float = 60.0,
    history: int = 60,
) -> PanelState:
    """The state of ``panel`` at wall-clock ``now`` from its series."""
    last = series.last()
    good = series.last_good()
    failed = last is not None and last.value is None
    error = last.error if failed and last is not None else None
    said = last.said if failed and last is not None else None
    critical = panel.critical_at(baseline)
    spark = tuple(series.values(history))
    if good is None or good.value is None or now - good.at > no_data_after:
        return PanelState(
            panel=panel,
            level="no_data",
            label="NO DATA",
            text="NO DATA",
            value=None,
            age=None if good is None else max(0.0, now - good.at),
            last_at=None if good is None else good.at,
            baseline=baseline,
            critical=critical,
            history=spark,
            error=error,
            said=said,
        )
    age = max(0.0, now - good.at)
    text = good.text or format_value(good.value, panel.unit)
    level: Level
    if age > stale_after:
        level, label = "stale", f"STALE {age:.0f}s"
    else:
        level = panel.level(good.value, baseline)
        label = {"ok": "ok", "warn": "WARN", "crit": "CRIT"}[level]
    return PanelState(
        panel=panel,
        level=level,
        label=label,
        text=text,
        value=good.value,
        age=age,
        last_at=good.at,
        baseline=baseline,
        critical=critical,
        history=spark,
        error=error,
        said=said,
        detail=good.detail,
    )


def format_value(value: float, unit: str = "") -> str:
    """A number for a panel: three significant figures, thousands as ``k``; ``B/s`` scaled."""
    if unit == "B/s":
        for prefix in ("", "k", "M", "G"):
            if abs(value) < 1000 or prefix == "G":
                return f"{_short(value)} {prefix}B/s"
            value /= 1000
    text = _short(value)
    return f"{text} {unit}" if unit else text


def _short(value: float) -> str:
    magnitude = abs(value)
    if magnitude >= 10_000:
        return f"{value / 1000:.0f}k"
    if magnitude >= 100 or value == int(value):
        return f"{value:.0f}"
    return f"{value:.3g}"


def median(values: Sequence[float]) -> float | None:
    """The middle value (the mean of the middle two), ``None`` for none."""
    ordered = sorted(values)
    if not ordered:
        return None
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
