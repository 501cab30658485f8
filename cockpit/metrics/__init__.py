"""Live metrics: sources, panels, the baseline, rollback triggers and the watch's decisions.

No Textual here; a screen drives it like this::

    from cockpit import metrics

    sampler = metrics.Sampler.for_environment(loaded, "production").start()
    # before T-0: the baseline (Prometheus/CloudWatch history, else samples taken so far)
    base = metrics.capture_baseline(sampler.panels, sampler.sources,
                                    window_seconds=env.metrics.baseline_window_seconds,
                                    series=sampler.series)
    sampler.baseline = base
    metrics.record_baseline(store, operator, base, release=release)
    metrics.record_watch_start(store, operator, release=release, panels=sampler.panels,
                               watch_hours=env.metrics.watch_hours)
    # on the UI's timer (not under a modal):
    for update in sampler.poll():
        for fired in update.fired:       # a rollback trigger: record it, then prompt
            event = metrics.record_trigger(store, operator, fired, release=release)
    states = sampler.states()            # name -> PanelState: label, text, history, ...
    why_not = metrics.go_blocked(store, operator, release=release, states=states)
    metrics.record_decision(store, operator, "go", release=release, states=states)

Model (:mod:`cockpit.metrics.model`):

- ``Panel``: one panel with resolved thresholds; ``level(value, baseline)``,
  ``critical_at(baseline)``, ``rule(baseline)``.
- ``panels_from_config(metrics_config) -> list[Panel]``.
- ``Sample(panel, at, value, error, text, data_at, detail)``: ``value`` None means no number.
- ``Series(panel, capacity)``: ring buffer; ``add``, ``last``, ``last_good``, ``samples``,
  ``values`` (``None`` for gaps, never 0).
- ``PanelState``: ``level`` (ok/warn/crit/stale/no_data), ``label`` (``ok``, ``WARN``, ``CRIT``,
  ``STALE 45s``, ``NO DATA``), ``text`` (``12.5 %``), ``value``, ``age``, ``last_at``,
  ``baseline``, ``critical``, ``history``, ``error``, ``detail``, ``missing``.
- ``panel_state(panel, series, now, baseline=, stale_after=, no_data_after=, history=)``.
- ``format_value(value, unit) -> str``.

Sources (the :mod:`cockpit.metrics.sources` package, one module per source):
``PrometheusSource``, ``CloudWatchSource``, ``KubernetesSource``, ``HostSource``; each
``fetch(panels) -> list[Sample]`` (never raises), ``history(panel, start, end, step) ->
list[(t, v)] | None``, ``close()``.
``sources_for(loaded, env_name, panels=None) -> dict[str, Source]``.

Sampler (:mod:`cockpit.metrics.sampler`): ``Sampler(panels, sources, refresh=, evaluator=,
on_update=, stale_after=, no_data_after=, clock=)`` or
``Sampler.for_environment(loaded, env_name)``; ``start()``, ``stop()``, ``pause()``,
``resume()``, ``paused``, ``baseline`` (settable), ``poll() -> list[Update]``,
``states(now=None) -> dict[str, PanelState]``, ``state(name)``, ``sample_once()``.
``Update(source, samples, fired, seconds)``.

Triggers (:mod:`cockpit.metrics.triggers`, pure rules):

- ``capture_baseline(panels, sources, window_seconds=, series=None, now=None) -> Baseline``;
  ``Baseline.value(panel)``, ``Baseline.from_event(event)``.
- ``TriggerEvaluator(panels, consecutive=3, baseline=None, automatic=False)``;
  ``observe(sample) -> Fired | None``, ``streak(panel)``.
- ``Fired``: ``panel``, ``rule`` (words), ``source``, ``query``, ``baseline``, ``threshold``,
  ``samples`` ((time, value), ...), ``at``, ``automatic`` (start the rollback without asking).
- ``post_release_warnings(states) -> list[str]``.

The watch in the event log (:mod:`cockpit.metrics.watch`):

- ``record_baseline(store, operator, baseline, release=) -> Event`` (``metrics.baseline``);
  ``latest_baseline(store, release_id) -> Baseline | None``.
- ``record_watch_start(store, operator, release=, panels=, watch_hours=)`` (``watch.started``).
- ``record_trigger(store, operator, fired, release=)`` (``trigger.fired``);
  ``unsettled_triggers(store, release_id) -> list[Event]`` (fired, neither continued nor
  rolled back).
- ``record_decision(store, operator, decision, release=, reason=, states=, trigger=)`` with
  decision ``go`` / ``no_go`` / ``continue`` / ``nodata_override`` (``watch.go``,
  ``watch.no_go``, ``trigger.continued``, ``nodata.override``); raises ``GoBlocked``.
- ``go_blocked(store, operator, release=, states=, now=None) -> str | None``; the same as a
  catalog key and values: ``go_blocked_reason`` (the screens say it in their language).
"""

from __future__ import annotations

from cockpit.metrics.model import (
    Level,
    Panel,
    PanelState,
    Sample,
    Series,
    format_value,
    panel_state,
    panels_from_config,
)
from cockpit.metrics.sampler import Sampler, Update
from cockpit.metrics.sources import Source, SourceError, sources_for
from cockpit.metrics.triggers import (
    Baseline,
    Fired,
    TriggerEvaluator,
    capture_baseline,
    post_release_warnings,
)
from cockpit.metrics.watch import (
    Decision,
    GoBlocked,
    go_blocked,
    go_blocked_reason,
    latest_baseline,
    record_baseline,
    record_decision,
    record_trigger,
    record_watch_start,
    unsettled_triggers,
)

__all__ = [
    "Baseline",
    "CloudWatchSource",
    "Decision",
    "Fired",
    "GoBlocked",
    "HostSource",
    "KubernetesSource",
    "Level",
    "Panel",
    "PanelState",
    "PrometheusSource",
    "Sample",
    "Sampler",
    "Series",
    "Source",
    "SourceError",
    "TriggerEvaluator",
    "Update",
    "capture_baseline",
    "format_value",
    "go_blocked",
    "go_blocked_reason",
    "latest_baseline",
    "panel_state",
    "panels_from_config",
    "post_release_warnings",
    "record_baseline",
    "record_decision",
    "record_trigger",
    "record_watch_start",
    "sources_for",
    "unsettled_triggers",
]


def __getattr__(name: str) -> object:
    """The source classes, imported when asked for (each source's module is loaded only when a
    panel uses it: see :mod:`cockpit.metrics.sources`)."""
    from cockpit.metrics import sources

    try:
        return getattr(sources, name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
