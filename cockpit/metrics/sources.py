"""Where the numbers come from: Prometheus, CloudWatch, Kubernetes, and the local host.

Every source answers :meth:`Source.fetch` with one :class:`~cockpit.metrics.model.Sample` per
panel and never raises for a failed call: the sample then has ``value=None`` and a one-line
``error`` naming the source and what to check, with no secret in it. Every network call has a
timeout (``metrics.timeout_seconds``). Heavy clients (boto3, kubernetes) are imported on the first
fetch, in the sampler's thread, never at import time.

- :class:`PrometheusSource`: the HTTP API, ``/api/v1/query`` per panel and ``/api/v1/query_range``
  for the baseline; a bearer token from the variable named by ``metrics.token_env``. A query
  must give one number: an empty answer or NaN is "no value" (never 0); more than one series is
  an error asking for ``sum()`` or ``max()``.
- :class:`CloudWatchSource`: one ``GetMetricData`` call for all CloudWatch panels, over the last
  ``evaluation_periods`` periods; the newest datapoint is the value, and a panel with ``per``
  divides two metrics itself (metric math is not used, so LocalStack and moto work too).
- :class:`KubernetesSource`: the environment's Deployments (``kubernetes.deployments``, or all in
  the namespace): ``ready`` (percent of desired pods ready, shown ``2/3 ready``), ``restarts``
  (container restarts of their pods) and ``not_ready`` (pods not ready, each with its reason:
  ``CrashLoopBackOff``, ``ImagePullBackOff``, ...).
- :class:`HostSource`: this machine from ``/proc``: ``cpu`` and ``memory`` in percent, ``disk`` or
  ``disk:/path`` (percent used), ``network`` or ``network:eth0`` (bytes per second in and out).
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from cockpit.events import redact_text
from cockpit.metrics.model import Panel, Sample

if TYPE_CHECKING:
    import httpx

    from cockpit.config import EnvironmentConfig, LoadedConfig

Point = tuple[float, float]


class Source(Protocol):
    """What the sampler and the baseline need from a source."""

    name: str

    def fetch(self, panels: Sequence[Panel]) -> list[Sample]:
        """One sample per panel, in order; never raises for a failed call."""
        ...

    def history(self, panel: Panel, start: float, end: float, step: float) -> list[Point] | None:
        """``(time, value)`` points between two wall-clock times, for a baseline; ``None`` when
        the source keeps no history (the baseline then uses the samples taken so far). Raises
        :class:`SourceError` when the source cannot answer."""
        ...

    def close(self) -> None: ...


class SourceError(Exception):
    """A source could not answer; ``str()`` is one line without secrets."""


def _line(text: object) -> str:
    return redact_text(" ".join(str(text).split()))[:300]


def _failed(panels: Sequence[Panel], at: float, error: str) -> list[Sample]:
    return [Sample(p.name, at, None, error=error) for p in panels]


# --- Prometheus ----------------------------------------------------------------------------------


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
                _line(f"prometheus {self.url}: cannot connect ({reason}) (metrics.prometheus_url)")
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
                _line(f"the query was refused: {error or f'HTTP {response.status_code}'}")
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


# --- CloudWatch ----------------------------------------------------------------------------------


class CloudWatchSource:
    """CloudWatch ``GetMetricData`` with the client of the environment's ``[aws]`` table (its
    profile, region and endpoint), each call bounded by ``timeout`` and tried once."""

    name = "cloudwatch"

    def __init__(
        self,
        loaded: LoadedConfig,
        env_name: str,
        env: EnvironmentConfig,
        *,
        timeout: float | None = None,
    ) -> None:
        import msgspec

        self.timeout = env.metrics.timeout_seconds if timeout is None else timeout
        aws = msgspec.structs.replace(
            env.aws, connect_timeout=self.timeout, read_timeout=self.timeout, max_attempts=1
        )
        self._env = msgspec.structs.replace(env, aws=aws)
        self._loaded = loaded
        self._env_name = env_name
        self.period = env.metrics.cloudwatch.period
        self.evaluation_periods = env.metrics.cloudwatch.evaluation_periods

    def _client(self) -> Any:
        from cockpit.steps.aws import aws_client
        from cockpit.steps.base import StepContext, StepFailed

        ctx = StepContext(
            loaded=self._loaded,
            env_name=self._env_name,
            env=self._env,
            release_id="",
            item_id="metrics",
            version="",
            operator="",
        )
        try:
            return aws_client(ctx, "cloudwatch", pool=2)
        except StepFailed as exc:
            raise SourceError(str(exc)) from None

    @staticmethod
    def _stat(panel: Panel, metric: str) -> dict[str, Any]:
        return {
            "Namespace": panel.namespace,
            "MetricName": metric,
            "Dimensions": [{"Name": k, "Value": v} for k, v in sorted(panel.dimensions.items())],
        }

    def _get(
        self, panels: Sequence[Panel], start: datetime, end: datetime, period: int
    ) -> dict[str, list[Point]]:
        """Datapoints per query id (``m0``, ``d0`` for panel 0's ``per``), newest first."""
        from botocore.exceptions import BotoCoreError, ClientError

        from cockpit.steps.aws import aws_error

        queries: list[dict[str, Any]] = []
        for index, panel in enumerate(panels):
            for prefix, metric in (("m", panel.query), ("d", panel.per)):
                if metric:
                    queries.append(
                        {
                            "Id": f"{prefix}{index}",
                            "MetricStat": {
                                "Metric": self._stat(panel, metric),
                                "Period": period,
                                "Stat": panel.stat,
                            },
                            "ReturnData": True,
                        }
                    )
        client = self._client()
        found: dict[str, list[Point]] = {}
        token: str | None = None
        for _page in range(20):
            params: dict[str, Any] = {
                "MetricDataQueries": queries,
                "StartTime": start,
                "EndTime": end,
                "ScanBy": "TimestampDescending",
            }
            if token:
                params["NextToken"] = token
            try:
                answer = client.get_metric_data(**params)
            except (ClientError, BotoCoreError) as exc:
                raise SourceError(str(aws_error(exc, "cloudwatch GetMetricData"))) from None
            for result in answer.get("MetricDataResults", []):
                points = found.setdefault(str(result["Id"]), [])
                points.extend(
                    (ts.timestamp(), float(v))
                    for ts, v in zip(
                        result.get("Timestamps", []), result.get("Values", []), strict=False
                    )
                )
            token = answer.get("NextToken")
            if not token:
                break
        for points in found.values():
            points.sort(reverse=True)
        return found

    def _setup_error(self, panel: Panel) -> str | None:
        if not panel.namespace:
            return f"panel {panel.name}: no CloudWatch namespace (metrics.cloudwatch.namespace)"
        return None

    def fetch(self, panels: Sequence[Panel]) -> list[Sample]:
        usable = [p for p in panels if not self._setup_error(p)]
        end = datetime.now(UTC)
        # One period more than the alarm looks at: the newest period is often still empty.
        start = end - timedelta(seconds=self.period * (self.evaluation_periods + 1))
        found: dict[str, list[Point]] = {}
        failure: str | None = None
        if usable:
            try:
                found = self._get(usable, start, end, self.period)
            except SourceError as exc:
                failure = str(exc)
        now = time.time()
        out: list[Sample] = []
        for panel in panels:
            setup = self._setup_error(panel)
            if setup or failure:
                out.append(Sample(panel.name, now, None, error=setup or failure))
                continue
            index = usable.index(panel)
            points = self._points(panel, found, f"m{index}", f"d{index}")
            if not points:
                out.append(
                    Sample(
                        panel.name,
                        now,
                        None,
                        error=f"panel {panel.name}: no datapoints for {panel.query} in the last "
                        f"{self.evaluation_periods + 1} periods",
                    )
                )
                continue
            recent = [v for _, v in points[: self.evaluation_periods]]
            alarm = (
                panel.warning is not None
                and len(recent) >= self.evaluation_periods
                and all(v > panel.warning for v in recent)
            )
            out.append(
                Sample(
                    panel.name,
                    now,
                    points[0][1],
                    data_at=points[0][0],
                    detail={"datapoints": recent, "alarm": alarm},
                )
            )
        return out

    def _points(
        self, panel: Panel, found: Mapping[str, list[Point]], num: str, den: str
    ) -> list[Point]:
        numerator = found.get(num, [])
        if not panel.per:
            return [(t, v * panel.scale) for t, v in numerator]
        denominators = dict(found.get(den, []))
        return [
            (t, 100.0 * v / denominators[t] * panel.scale)
            for t, v in numerator
            if denominators.get(t)
        ]

    def history(self, panel: Panel, start: float, end: float, step: float) -> list[Point] | None:
        if self._setup_error(panel):
            raise SourceError(str(self._setup_error(panel)))
        # The alarm's own period: a baseline of what the alarms compare against.
        found = self._get(
            [panel],
            datetime.fromtimestamp(start, UTC),
            datetime.fromtimestamp(end, UTC),
            self.period,
        )
        return sorted(self._points(panel, found, "m0", "d0"))

    def close(self) -> None:
        """Clients are shared and cached by :mod:`cockpit.steps.aws`; nothing to close."""


# --- Kubernetes ----------------------------------------------------------------------------------


class KubernetesSource:
    """Pod health of the environment's Deployments through the ``kubernetes`` client built as the
    Kubernetes steps build it (kubeconfig and context, or in-cluster)."""

    name = "kubernetes"
    QUERIES = ("ready", "restarts", "not_ready")

    def __init__(
        self,
        loaded: LoadedConfig,
        env: EnvironmentConfig,
        *,
        timeout: float | None = None,
    ) -> None:
        self._loaded = loaded
        self._env = env
        self.timeout = env.metrics.timeout_seconds if timeout is None else timeout
        self._api: Any = None

    def _connect(self) -> Any:
        if self._api is None:
            from cockpit.steps.base import StepFailed
            from cockpit.steps.kubernetes import KubeApi

            try:
                self._api = KubeApi(self._loaded, self._env)
            except StepFailed as exc:
                raise SourceError(str(exc)) from None
        return self._api

    def health(self) -> dict[str, Any]:
        """Desired and ready pods, restarts, and the pods not ready with their reasons, over the
        configured Deployments."""
        from cockpit.steps.base import StepContext, StepFailed
        from cockpit.steps.kubernetes import selector_string

        api = self._connect()
        # The client's timeouts are capped by what is left of this context's deadline.
        api.ctx = StepContext(
            loaded=self._loaded,
            env_name="",
            env=self._env,
            release_id="",
            item_id="metrics",
            version="",
            operator="",
            deadline=time.monotonic() + self.timeout,
        )
        names = list(self._env.kubernetes.deployments)
        try:
            deployments = [api.get_deployment(n) for n in names] if names else api.deployments()[1]
            desired = ready = restarts = 0
            not_ready: list[dict[str, str]] = []
            for dep in deployments:
                name = str(dep["metadata"]["name"])
                desired += int((dep.get("spec") or {}).get("replicas", 1) or 0)
                ready += int((dep.get("status") or {}).get("readyReplicas", 0) or 0)
                selector = selector_string((dep.get("spec") or {}).get("selector") or {})
                for pod in api.pods(selector):
                    statuses = (pod.get("status") or {}).get("containerStatuses") or []
                    restarts += sum(int(s.get("restartCount", 0) or 0) for s in statuses)
                    if (pod.get("metadata") or {}).get("deletionTimestamp"):
                        continue
                    if not _pod_ready(pod):
                        not_ready.append(
                            {
                                "pod": str(pod["metadata"]["name"]),
                                "deployment": name,
                                "reason": _pod_reason(pod),
                            }
                        )
        except StepFailed as exc:
            raise SourceError(str(exc)) from None
        finally:
            api.ctx = None
        return {
            "desired": desired,
            "ready": ready,
            "restarts": restarts,
            "not_ready": not_ready,
            "deployments": len(deployments),
        }

    def fetch(self, panels: Sequence[Panel]) -> list[Sample]:
        try:
            health = self.health()
        except SourceError as exc:
            return _failed(panels, time.time(), str(exc))
        now = time.time()
        desired, ready = health["desired"], health["ready"]
        pods = health["not_ready"]
        out: list[Sample] = []
        for panel in panels:
            if panel.query == "ready":
                percent = 100.0 if desired == 0 else 100.0 * ready / desired
                out.append(
                    Sample(
                        panel.name,
                        now,
                        percent,
                        text=f"{ready}/{desired} ready",
                        detail={"ready": ready, "desired": desired},
                    )
                )
            elif panel.query == "restarts":
                out.append(
                    Sample(panel.name, now, float(health["restarts"]), text=f"{health['restarts']}")
                )
            elif panel.query == "not_ready":
                reasons = sorted({p["reason"] for p in pods})
                text = f"{len(pods)}" + (f" ({', '.join(reasons)})" if reasons else "")
                out.append(
                    Sample(panel.name, now, float(len(pods)), text=text, detail={"pods": pods})
                )
            else:
                out.append(
                    Sample(
                        panel.name,
                        now,
                        None,
                        error=f"panel {panel.name}: kubernetes query {panel.query!r} is not one of "
                        f"{', '.join(self.QUERIES)}",
                    )
                )
        return out

    def history(self, panel: Panel, start: float, end: float, step: float) -> list[Point] | None:
        return None

    def close(self) -> None:
        if self._api is not None:
            self._api.close()
            self._api = None


def _pod_ready(pod: dict[str, Any]) -> bool:
    for cond in (pod.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return bool(cond.get("status") == "True")
    return False


def _pod_reason(pod: dict[str, Any]) -> str:
    """Why a pod is not ready, as kubectl's STATUS column would say it."""
    status = pod.get("status") or {}
    for container in status.get("containerStatuses") or []:
        state = container.get("state") or {}
        for key in ("waiting", "terminated"):
            reason = (state.get(key) or {}).get("reason")
            if reason:
                return str(reason)
    for cond in status.get("conditions") or []:
        if cond.get("type") == "Ready" and cond.get("reason"):
            return str(cond["reason"])
    return str(status.get("reason") or status.get("phase") or "NotReady")


# --- the local host ------------------------------------------------------------------------------


class HostSource:
    """This machine, from ``/proc`` (Linux). Rates (CPU, network) are over the time since the
    previous fetch; the first fetch measures over a short pause."""

    name = "host"
    QUERIES = ("cpu", "memory", "disk", "network")

    def __init__(self, proc: str = "/proc", clock: Callable[[], float] = time.monotonic) -> None:
        self.proc = proc
        self._clock = clock
        self._cpu: tuple[float, float, float] | None = None  # (when, busy, total)
        self._net: dict[str, tuple[float, int]] = {}  # iface filter -> (when, bytes)

    def _read(self, name: str) -> str:
        with open(os.path.join(self.proc, name), encoding="ascii") as handle:
            return handle.read()

    def _cpu_times(self) -> tuple[float, float]:
        fields = [float(x) for x in self._read("stat").splitlines()[0].split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0.0)  # idle + iowait
        total = sum(fields[:8])  # guest time is already counted in user
        return total - idle, total

    def cpu(self) -> float:
        if self._cpu is None:
            busy, total = self._cpu_times()
            self._cpu = (self._clock(), busy, total)
            time.sleep(0.2)
        busy, total = self._cpu_times()
        _, busy0, total0 = self._cpu
        self._cpu = (self._clock(), busy, total)
        if total <= total0:
            return 0.0 if total == total0 and busy == busy0 else math.nan
        return 100.0 * (busy - busy0) / (total - total0)

    def memory(self) -> float:
        info: dict[str, int] = {}
        for line in self._read("meminfo").splitlines():
            key, _, rest = line.partition(":")
            info[key] = int(rest.split()[0]) if rest.split() else 0
        total = info["MemTotal"]
        available = info.get("MemAvailable", info.get("MemFree", 0))
        return 100.0 * (total - available) / total

    @staticmethod
    def disk(path: str = "/") -> float:
        st = os.statvfs(path)
        used = (st.f_blocks - st.f_bfree) * st.f_frsize
        usable = used + st.f_bavail * st.f_frsize
        return 100.0 * used / usable if usable else math.nan

    def network(self, iface: str = "") -> float | None:
        """Bytes per second received and sent (all interfaces but ``lo``, or ``iface``); None on
        the first call (no interval yet)."""
        counted = 0
        seen = False
        for line in self._read("net/dev").splitlines()[2:]:
            name, _, rest = line.partition(":")
            name = name.strip()
            if (iface and name != iface) or (not iface and name == "lo"):
                continue
            seen = True
            cols = rest.split()
            counted += int(cols[0]) + int(cols[8])
        if iface and not seen:
            raise SourceError(f"host: no network interface {iface!r}")
        now = self._clock()
        before = self._net.get(iface)
        self._net[iface] = (now, counted)
        if before is None or now <= before[0]:
            return None
        return max(0, counted - before[1]) / (now - before[0])

    def fetch(self, panels: Sequence[Panel]) -> list[Sample]:
        out: list[Sample] = []
        for panel in panels:
            what, _, arg = panel.query.partition(":")
            try:
                value: float | None
                if what == "cpu":
                    value = self.cpu()
                elif what == "memory":
                    value = self.memory()
                elif what == "disk":
                    value = self.disk(arg or "/")
                elif what == "network":
                    value = self.network(arg)
                    if value is None:
                        # A rate needs two readings: take the second one now.
                        time.sleep(0.2)
                        value = self.network(arg)
                else:
                    raise SourceError(
                        f"panel {panel.name}: host query {panel.query!r} is not one of "
                        f"{', '.join(self.QUERIES)}"
                    )
            except (OSError, ValueError, KeyError, IndexError) as exc:
                out.append(
                    Sample(panel.name, time.time(), None, error=_line(f"host {what}: {exc}"))
                )
                continue
            except SourceError as exc:
                out.append(Sample(panel.name, time.time(), None, error=str(exc)))
                continue
            if value is not None and not math.isfinite(value):
                value = None
            out.append(
                Sample(panel.name, time.time(), None if value is None else value * panel.scale)
            )
        return out

    def history(self, panel: Panel, start: float, end: float, step: float) -> list[Point] | None:
        return None

    def close(self) -> None:
        """Nothing is held open."""


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
        out["prometheus"] = PrometheusSource(
            metrics.prometheus_url, token_env=metrics.token_env, timeout=metrics.timeout_seconds
        )
    if "cloudwatch" in used:
        out["cloudwatch"] = CloudWatchSource(loaded, env_name, env)
    if "kubernetes" in used:
        out["kubernetes"] = KubernetesSource(loaded, env)
    if "host" in used:
        out["host"] = HostSource()
    return out
