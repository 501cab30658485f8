"""The Prometheus source: the HTTP API, ``/api/v1/query`` per panel and ``/api/v1/query_range``
for the baseline, with a bearer token from the variable named by ``metrics.token_env``. A query
must give one number: an empty answer or NaN is "no value" (never 0); more than one series is an
error asking for ``sum()`` or ``max()``. httpx is imported on the first call.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from cockpit.metrics.model import Panel, Sample
from cockpit.metrics.sources.base import Point, SourceError, one_line

if TYPE_CHECKING:
    import httpx


class PrometheusSource:
    """The Prometheus HTTP API at ``url`` (``metrics.prometheus_url``)."""

    name = "prometheus"

    def __init__(
        self,
        url: str,
        *,
        token_env: str = "",
        timeout: float = 5.0,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._token_env = token_env
        env = os.environ if environ is None else environ
        self._token = env.get(token_env, "") if token_env else ""
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()

    def _setup_error(self) -> str | None:
        if not self.url:
            return "prometheus: no URL set (metrics.prometheus_url in cockpit.toml)"
        if self._token_env and not self._token:
            return (
                f"prometheus {self.url}: the token variable {self._token_env} is not set "
                "(metrics.token_env in cockpit.toml)"
            )
        return None

    def _http(self) -> httpx.Client:
        import httpx

        with self._lock:
            if self._client is None:
                headers = {"Accept": "application/json"}
                if self._token:
                    headers["Authorization"] = f"Bearer {self._token}"
                self._client = httpx.Client(
                    base_url=self.url,
                    headers=headers,
                    timeout=httpx.Timeout(self.timeout),
                    follow_redirects=False,
                )
            return self._client

    def _get(self, path: str, params: dict[str, str]) -> Any:
        """The ``data`` of an API answer, or :class:`SourceError`."""
        import httpx

        setup = self._setup_error()
        if setup:
            raise SourceError(setup)
        try:
            response = self._http().get(path, params=params)
        except httpx.TimeoutException:
            raise SourceError(
                f"prometheus {self.url}: no answer within {self.timeout:g} s "
                "(metrics.timeout_seconds)"
            ) from None
        except httpx.HTTPError as exc:
            reason = str(exc) or type(exc).__name__
            raise SourceError(
                one_line(
                    f"prometheus {self.url}: cannot connect ({reason}) (metrics.prometheus_url)"
                )
            ) from None
        if response.status_code in (401, 403):
            hint = f"the token in {self._token_env}" if self._token_env else "metrics.token_env"
            raise SourceError(f"prometheus {self.url}: HTTP {response.status_code} (check {hint})")
        try:
            body = response.json()
        except ValueError:
            raise SourceError(
                f"prometheus {self.url}: HTTP {response.status_code}, not a Prometheus API answer"
            ) from None
        if not isinstance(body, dict) or body.get("status") != "success":
            error = body.get("error") if isinstance(body, dict) else None
            raise SourceError(
                one_line(f"the query was refused: {error or f'HTTP {response.status_code}'}")
            )
        return body.get("data")

    def query(self, promql: str) -> tuple[float | None, float | None, str | None]:
        """One instant query: ``(value, its time, why no value)``."""
        data = self._get("/api/v1/query", {"query": promql})
        kind = data.get("resultType") if isinstance(data, dict) else None
        result = data.get("result") if isinstance(data, dict) else None
        if kind == "scalar" and isinstance(result, list):
            point = result
        elif kind == "vector" and isinstance(result, list):
            if not result:
                return None, None, None
            if len(result) > 1:
                raise SourceError(
                    f"the query gives {len(result)} series; wrap it in sum() or max() "
                    "(metrics.panels)"
                )
            point = result[0].get("value")
        elif kind == "matrix":
            raise SourceError("the query gives a range vector; use rate() or similar")
        else:
            raise SourceError(f"the query gives a {kind or 'malformed'} result, not a number")
        at, raw = float(point[0]), str(point[1])
        value = float(raw)
        if not math.isfinite(value):
            return None, at, f"the query gives {raw}"
        return value, at, None

    def fetch(self, panels: Sequence[Panel]) -> list[Sample]:
        out: list[Sample] = []
        for panel in panels:
            try:
                value, data_at, why = self.query(panel.query)
            except SourceError as exc:
                error = str(exc)
                if error.startswith("the query"):
                    error = f"panel {panel.name}: {error}"
                out.append(Sample(panel.name, time.time(), None, error=error))
                continue
            out.append(
                Sample(
                    panel.name,
                    time.time(),
                    None if value is None else value * panel.scale,
                    error=None if why is None else f"panel {panel.name}: {why}",
                    data_at=data_at,
                )
            )
        return out

    def history(self, panel: Panel, start: float, end: float, step: float) -> list[Point] | None:
        data = self._get(
            "/api/v1/query_range",
            {
                "query": panel.query,
                "start": f"{start:.3f}",
                "end": f"{end:.3f}",
                "step": f"{max(step, 0.001):g}",
            },
        )
        result = data.get("result") if isinstance(data, dict) else None
        if not isinstance(result, list):
            raise SourceError(f"panel {panel.name}: the range query gives no matrix")
        if len(result) > 1:
            raise SourceError(
                f"panel {panel.name}: the query gives {len(result)} series; wrap it in sum() "
                "or max() (metrics.panels)"
            )
        points: list[Point] = []
        for at, raw in result[0].get("values", []) if result else []:
            value = float(raw)
            if math.isfinite(value):
                points.append((float(at), value * panel.scale))
        return points

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None
