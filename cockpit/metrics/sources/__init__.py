"""Where the numbers come from: Prometheus, CloudWatch, Kubernetes, and the local host.

Every source answers :meth:`Source.fetch` with one :class:`~cockpit.metrics.model.Sample` per
panel and never raises for a failed call: the sample then has ``value=None`` and a one-line
``error`` naming the source and what to check, with no secret in it. Every network call has a
timeout (``metrics.timeout_seconds``); Prometheus bounds each whole request and each round by it
(a total deadline, not only one per read). Heavy clients (boto3, kubernetes) are imported on the
first fetch, in a sampling thread, never at import time.

One module per source, each with its own client: :mod:`.prometheus` (:class:`PrometheusSource`,
the HTTP API), :mod:`.cloudwatch` (:class:`CloudWatchSource`, ``GetMetricData``), :mod:`.kube`
(:class:`KubernetesSource`, pod health of the Deployments) and :mod:`.host`
(:class:`HostSource`, ``/proc``); :mod:`.base` holds the :class:`Source` protocol and
:class:`SourceError`. This package picks the sources an environment's panels use
(:func:`sources_for`).
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from cockpit.metrics.model import Panel
from cockpit.metrics.sources.base import Point, Source, SourceError

if TYPE_CHECKING:
    from cockpit.config import LoadedConfig
    from cockpit.metrics.sources.cloudwatch import CloudWatchSource
    from cockpit.metrics.sources.host import HostSource
    from cockpit.metrics.sources.kube import KubernetesSource
    from cockpit.metrics.sources.prometheus import PrometheusSource

# Each source's module, imported when a panel uses it (or its class is asked for by name).
_MODULES = {
    "CloudWatchSource": "cloudwatch",
    "HostSource": "host",
    "KubernetesSource": "kube",
    "PrometheusSource": "prometheus",
}

__all__ = [
    "CloudWatchSource",
    "HostSource",
    "KubernetesSource",
    "Point",
    "PrometheusSource",
    "Source",
    "SourceError",
    "sources_for",
]


def __getattr__(name: str) -> Any:
    if name in _MODULES:
        return getattr(importlib.import_module(f"{__name__}.{_MODULES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def sources_for(
    loaded: LoadedConfig, env_name: str, panels: Sequence[Panel] | None = None
) -> dict[str, Source]:
    """One source per source name the panels use (all panels of the environment by default)."""
    from cockpit.metrics.model import panels_from_config

    env = loaded.environment(env_name)
    metrics = env.metrics
    used = {p.source for p in (panels if panels is not None else panels_from_config(metrics))}
    out: dict[str, Source] = {}
    if "prometheus" in used:
        from cockpit.metrics.sources.prometheus import PrometheusSource

        out["prometheus"] = PrometheusSource(
            metrics.prometheus_url, token_env=metrics.token_env, timeout=metrics.timeout_seconds
        )
    if "cloudwatch" in used:
        from cockpit.metrics.sources.cloudwatch import CloudWatchSource

        out["cloudwatch"] = CloudWatchSource(loaded, env_name, env)
    if "kubernetes" in used:
        from cockpit.metrics.sources.kube import KubernetesSource

        out["kubernetes"] = KubernetesSource(loaded, env)
    if "host" in used:
        from cockpit.metrics.sources.host import HostSource

        out["host"] = HostSource()
    return out
