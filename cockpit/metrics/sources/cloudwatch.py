"""The CloudWatch source: one ``GetMetricData`` call for all CloudWatch panels, over the last
``evaluation_periods`` periods, with the client of the environment's ``[aws]`` table. The newest
datapoint is the value, and a panel with ``per`` divides two metrics itself (metric math is not
used, so LocalStack and moto work too). boto3 comes through :mod:`cockpit.steps.aws` on the first
fetch.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from cockpit.metrics.model import Panel, Sample
from cockpit.metrics.sources.base import Point, SourceError, failed_sample, source_error

if TYPE_CHECKING:
    from cockpit.config import EnvironmentConfig, LoadedConfig


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
            raise source_error(exc) from None

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
                raise source_error(aws_error(exc, "cloudwatch GetMetricData")) from None
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

    def _setup_error(self, panel: Panel) -> SourceError | None:
        if not panel.namespace:
            return SourceError.said("msrc.cw_namespace", panel=panel.name)
        return None

    def fetch(self, panels: Sequence[Panel]) -> list[Sample]:
        usable = [p for p in panels if not self._setup_error(p)]
        end = datetime.now(UTC)
        # One period more than the alarm looks at: the newest period is often still empty.
        start = end - timedelta(seconds=self.period * (self.evaluation_periods + 1))
        found: dict[str, list[Point]] = {}
        failure: SourceError | None = None
        if usable:
            try:
                found = self._get(usable, start, end, self.period)
            except SourceError as exc:
                failure = exc
        now = time.time()
        out: list[Sample] = []
        for panel in panels:
            problem = self._setup_error(panel) or failure
            if problem is not None:
                out.append(failed_sample(panel, now, problem))
                continue
            index = usable.index(panel)
            points = self._points(panel, found, f"m{index}", f"d{index}")
            if not points:
                periods = self.evaluation_periods + 1
                empty = SourceError.said(
                    "msrc.cw_no_points", panel=panel.name, query=panel.query, periods=periods
                )
                out.append(failed_sample(panel, now, empty))
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
        setup = self._setup_error(panel)
        if setup is not None:
            raise setup
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
