"""The Kubernetes source: the environment's Deployments (``kubernetes.deployments``, or all in
the namespace) through the client the Kubernetes steps build: ``ready`` (percent of desired pods
ready, shown ``2/3 ready``), ``restarts`` (container restarts of their pods) and ``not_ready``
(pods not ready, each with its reason as kubectl's STATUS column says it: ``CrashLoopBackOff``,
``ImagePullBackOff``, ...). The kubernetes client is imported on the first fetch.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from cockpit.metrics.model import Panel, Sample
from cockpit.metrics.sources.base import (
    Point,
    SourceError,
    failed_sample,
    failed_samples,
    source_error,
)

if TYPE_CHECKING:
    from cockpit.config import EnvironmentConfig, LoadedConfig


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
                raise source_error(exc) from None
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
            raise source_error(exc) from None
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
            return failed_samples(panels, time.time(), exc)
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
                unknown = SourceError.said(
                    "msrc.kube_query",
                    panel=panel.name,
                    query=panel.query,
                    queries=", ".join(self.QUERIES),
                )
                out.append(failed_sample(panel, now, unknown))
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
