"""The Prometheus source: the HTTP API, ``/api/v1/query`` per panel and ``/api/v1/query_range``
for the baseline, with a bearer token from the variable named by ``metrics.token_env``. A query
must give one number: an empty answer or NaN is "no value" (never 0); more than one series is an
error asking for ``sum()`` or ``max()``. httpx is imported on the first call.

Every request has a total deadline (``metrics.timeout_seconds``), not only a timeout per read, and
a round of :meth:`PrometheusSource.fetch` has one deadline for all its panels: a server that
drips its answer or never answers costs one timeout per round and says so on every panel
(``prometheus URL: no answer within 5 s``).
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from cockpit.errors import Phrase
from cockpit.metrics.model import Panel, Sample
from cockpit.metrics.sources.base import Point, SourceError, failed_sample, one_line
from cockpit.urls import redact_url

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
        self.shown = redact_url(self.url)  # what a line about this source may say
        self.timeout = timeout
        self._token_env = token_env
        env = os.environ if environ is None else environ
        self._token = env.get(token_env, "") if token_env else ""
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()

    def _setup_error(self) -> SourceError | None:
        if not self.url:
            return SourceError.said("msrc.prom_no_url")
        if self._token_env and not self._token:
            return SourceError.said("msrc.prom_no_token", url=self.shown, env=self._token_env)
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

    def _late(self) -> SourceError:
        return SourceError.said("msrc.prom_late", url=self.shown, seconds=f"{self.timeout:g}")

    def _answer(
        self, path: str, params: dict[str, str], deadline: float | None
    ) -> tuple[int, bytes]:
        """The status and body of one GET, within a total deadline: ``timeout`` from now, or
        the round's ``deadline`` (monotonic) when that comes first.

        httpx's timeout bounds each read, not the answer: a server sending one byte a second
        would hold the request forever. So the GET runs in a worker thread that is given up at
        the deadline (the round goes on at once); the worker stops reading at the same deadline,
        so it ends by itself soon after."""
        import httpx

        now = time.monotonic()
        ends = now + self.timeout if deadline is None else min(now + self.timeout, deadline)
        if ends <= now:
            raise self._late()
        client = self._http()
        answer: list[tuple[int, bytes] | Exception] = []
        done = threading.Event()

        def get() -> None:
            try:
                limit = httpx.Timeout(max(0.001, ends - time.monotonic()))
                with client.stream("GET", path, params=params, timeout=limit) as response:
                    body = bytearray()
                    for chunk in response.iter_bytes():
                        if time.monotonic() > ends:
                            raise httpx.ReadTimeout("past the deadline")
                        body += chunk
                answer.append((response.status_code, bytes(body)))
            except Exception as exc:  # handed to the caller, raised there
                answer.append(exc)
            finally:
                done.set()

        threading.Thread(target=get, daemon=True, name="prometheus-get").start()
        if not done.wait(max(0.0, ends - time.monotonic())) or not answer:
            raise self._late()
        got = answer[0]
        if isinstance(got, httpx.TimeoutException):
            raise self._late()
        if isinstance(got, httpx.HTTPError):
            reason = one_line(str(got) or type(got).__name__)
            raise SourceError.said("msrc.prom_connect", url=self.shown, cause=reason)
        if isinstance(got, Exception):
            raise got
        return got

    def _get(self, path: str, params: dict[str, str], deadline: float | None = None) -> Any:
        """The ``data`` of an API answer, or :class:`SourceError`."""
        setup = self._setup_error()
        if setup is not None:
            raise setup
        status, raw = self._answer(path, params, deadline)
        if status in (401, 403):
            env = self._token_env
            hint = Phrase("msrc.token_in", {"env": env}) if env else "metrics.token_env"
            raise SourceError.said("msrc.prom_auth", url=self.shown, status=status, hint=hint)
        try:
            body = json.loads(raw)
        except ValueError:
            raise SourceError.said("msrc.prom_not_api", url=self.shown, status=status) from None
        if not isinstance(body, dict) or body.get("status") != "success":
            error = body.get("error") if isinstance(body, dict) else None
            said = one_line(error or f"HTTP {status}")
            raise SourceError.said("msrc.query_refused", error=said)
        return body.get("data")

    def query(
        self, promql: str, deadline: float | None = None
    ) -> tuple[float | None, float | None, Phrase | None]:
        """One instant query: ``(value, its time, why no value)``, within ``timeout`` and the
        round's ``deadline`` (monotonic) when one is given."""
        data = self._get("/api/v1/query", {"query": promql}, deadline)
        kind = data.get("resultType") if isinstance(data, dict) else None
        result = data.get("result") if isinstance(data, dict) else None
        if kind == "scalar" and isinstance(result, list):
            point = result
        elif kind == "vector" and isinstance(result, list):
            if not result:
                return None, None, None
            if len(result) > 1:
                raise SourceError.said("msrc.query_series", n=len(result))
            point = result[0].get("value")
        elif kind == "matrix":
            raise SourceError.said("msrc.query_range")
        else:
            raise SourceError.said("msrc.query_kind", kind=kind or "malformed")
        at, raw = float(point[0]), str(point[1])
        value = float(raw)
        if not math.isfinite(value):
            return None, at, Phrase("msrc.query_gives", {"raw": raw})
        return value, at, None

    def fetch(self, panels: Sequence[Panel]) -> list[Sample]:
        # One deadline for the whole round: a server that does not answer costs one timeout
        # per round, not one per panel (the panels after it fail at once, naming the deadline).
        deadline = time.monotonic() + self.timeout
        out: list[Sample] = []
        for panel in panels:
            try:
                value, data_at, why = self.query(panel.query, deadline)
            except SourceError as exc:
                # What the query gave names its panel; what the server did concerns them all.
                query = isinstance(exc.phrase, Phrase) and exc.phrase.key.startswith("msrc.query")
                if query:
                    exc = SourceError.said("msrc.panel", panel=panel.name, why=exc.phrase)
                out.append(failed_sample(panel, time.time(), exc))
                continue
            no_number = (
                None if why is None else Phrase("msrc.panel", {"panel": panel.name, "why": why})
            )
            out.append(
                Sample(
                    panel.name,
                    time.time(),
                    None if value is None else value * panel.scale,
                    error=None if no_number is None else str(no_number),
                    data_at=data_at,
                    said=no_number,
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
