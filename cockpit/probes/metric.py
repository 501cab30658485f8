"""The ``metric`` probe: one number from the metrics sources compared with a threshold.

Sources are :mod:`cockpit.metrics.sources`' own: Prometheus (the environment's
``metrics.prometheus_url`` and token), CloudWatch (``GetMetricData`` with the environment's
``[aws]``) and this host (``/proc``). Without a ``window`` the newest value is compared; with one,
every value over the window (a Prometheus range query, CloudWatch's datapoints of ``period``
seconds) and the worst is shown. No value at all fails: NO DATA is never 0, and a check that saw
nothing never passes.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from cockpit.plan.probes import MetricProbe
from cockpit.probes.base import CannotLook, ProbeContext, ProbeKind, Result

if TYPE_CHECKING:
    from cockpit.metrics.model import Panel

# Points a Prometheus range query asks for over the window (the step follows).
RANGE_POINTS = 120


class MetricProbeKind(ProbeKind):
    name = "metric"

    def preview(self, spec: MetricProbe, ctx: ProbeContext) -> str:
        over = f" over the last {spec.window:g} s" if spec.window else ""
        return f"{spec.source} {spec.query}{over}: {expected(spec)}"

    def run(self, spec: MetricProbe, ctx: ProbeContext) -> Result:
        if spec.max is None and spec.min is None:
            raise CannotLook("metric: no threshold (set max, min or both)")
        values = [v * spec.scale for v in _values(spec, ctx)]
        want = expected(spec)
        details = {"source": spec.source, "query": spec.query, "max": spec.max, "min": spec.min}
        if spec.window:
            details["window_s"] = spec.window
        if not values:
            details["value"] = None
            return Result(False, "NO DATA", want, details)
        bad = [v for v in values if not _within(spec, v)]
        worst = bad[0] if bad else _worst(spec, values)
        if bad:
            worst = max(bad, key=lambda v: _distance(spec, v))
        details |= {"value": round(worst, 6), "points": len(values)}
        seen = f"{worst:.4g}{spec.unit}"
        if spec.window:
            seen = f"{'worst' if len(values) > 1 else 'only'} {seen} of {len(values)} value(s)"
        return Result(not bad, seen, want, details)


def expected(spec: MetricProbe) -> str:
    unit = spec.unit
    if spec.max is not None and spec.min is not None:
        return f"between {spec.min:g}{unit} and {spec.max:g}{unit}"
    if spec.max is not None:
        return f"at most {spec.max:g}{unit}"
    return f"at least {spec.min:g}{unit}"


def _within(spec: MetricProbe, value: float) -> bool:
    return (spec.max is None or value <= spec.max) and (spec.min is None or value >= spec.min)


def _distance(spec: MetricProbe, value: float) -> float:
    over = value - spec.max if spec.max is not None else 0.0
    under = spec.min - value if spec.min is not None else 0.0
    return max(over, under)


def _worst(spec: MetricProbe, values: list[float]) -> float:
    if spec.max is not None:
        return max(values)
    return min(values)


def _panel(spec: MetricProbe, ctx: ProbeContext) -> Panel:
    from cockpit.metrics.model import Panel

    cloudwatch = ctx.env.metrics.cloudwatch
    return Panel(
        name="probe",
        title=spec.query,
        source=spec.source,
        query=spec.query,
        stat=spec.stat,
        namespace=spec.namespace or cloudwatch.namespace,
        dimensions=spec.dimensions or cloudwatch.dimensions,
    )


def _values(spec: MetricProbe, ctx: ProbeContext) -> list[float]:
    """The value(s) the source gives; empty for no data; :class:`CannotLook` when it cannot
    answer."""
    from cockpit.metrics.sources import SourceError

    panel = _panel(spec, ctx)
    try:
        if spec.source == "prometheus":
            return _prometheus(spec, ctx, panel)
        if spec.source == "cloudwatch":
            return _cloudwatch(spec, ctx, panel)
        return _host(panel)
    except SourceError as exc:
        raise CannotLook(str(exc)) from None


def _prometheus(spec: MetricProbe, ctx: ProbeContext, panel: Panel) -> list[float]:
    from cockpit.metrics.sources import PrometheusSource

    metrics = ctx.env.metrics
    source = PrometheusSource(
        metrics.prometheus_url, token_env=metrics.token_env, timeout=ctx.remaining()
    )
    try:
        if not spec.window:
            value, _at, _why = source.query(spec.query, ctx.deadline)
            return [] if value is None else [value]
        end = time.time()
        step = max(spec.window / RANGE_POINTS, 1.0)
        return [v for _t, v in source.history(panel, end - spec.window, end, step) or []]
    finally:
        source.close()


def _cloudwatch(spec: MetricProbe, ctx: ProbeContext, panel: Panel) -> list[float]:
    from cockpit.metrics.sources import CloudWatchSource

    source = CloudWatchSource(ctx.loaded, ctx.env_name, ctx.env, timeout=ctx.remaining())
    source.period = spec.period
    end = time.time()
    # Without a window: the newest datapoint of the last three periods (the newest is often
    # still empty).
    span = spec.window or 3 * spec.period
    points = source.history(panel, end - span, end, spec.period) or []
    values = [v for _t, v in sorted(points)]
    return values if spec.window else values[-1:]


def _host(panel: Panel) -> list[float]:
    from cockpit.metrics.sources import HostSource, SourceError

    sample = HostSource().fetch([panel])[0]
    if sample.error:
        raise SourceError(sample.error)
    return [] if sample.value is None else [sample.value]
