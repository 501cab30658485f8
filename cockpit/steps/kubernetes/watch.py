"""Watching rollouts to their verdict: the Deployments a step changed are followed until
``kubectl rollout status`` would say each is complete (or failed), with a watch that survives
its expiry (``410 Expired``, HTTP 410, or the server closing the stream: list again and go on),
and the pods of each new ReplicaSet looked at for failures that will not get better by waiting.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from contextlib import suppress
from typing import Any

from cockpit.events import redact_text
from cockpit.steps.base import Cancelled, StepContext, StepFailed, StepTimeout
from cockpit.steps.kubernetes.api import KubeApi, reason
from cockpit.steps.kubernetes.rules import (
    HASH_LABEL,
    POD_FAILURES,
    Obj,
    controlled_by,
    new_replicaset,
    revision_or_zero,
    rollout_status,
    selector_string,
)

# How often the pods of a rollout are looked at for CrashLoopBackOff and the like.
POD_CHECK_INTERVAL = 1.0
# How long the wait loop blocks on the watch before it looks at cancel and the deadline.
POLL = 0.25


class _WatchStream:
    """One watch request read on a thread; events come out of :attr:`events`, so the waiting
    loop can look at cancel and the deadline between them."""

    def __init__(self, api: KubeApi, resource_version: str, only: str = "") -> None:
        self.events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.started = time.monotonic()
        self._api = api
        self._rv = resource_version
        self._only = only
        self._response: Any = None
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True, name="kubernetes-watch")
        self._thread.start()

    def _read(self) -> None:
        from kubernetes.client.exceptions import ApiException

        try:
            response = self._api.watch(self._rv, self._only)
        except ApiException as exc:
            self.events.put(("gone" if exc.status == 410 else "failed", exc))
            return
        except Exception as exc:  # connection refused, timeouts: the waiting loop retries
            self.events.put(("failed", exc))
            return
        self._response = response
        buffer = b""
        try:
            if self._stopped.is_set():
                return
            for chunk in response.stream(amt=None, decode_content=False):
                buffer += chunk
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    if line.strip():
                        self.events.put(("event", json.loads(line)))
            if buffer.strip():
                self.events.put(("event", json.loads(buffer)))
            self.events.put(("end", None))
        except Exception as exc:
            if not self._stopped.is_set():
                self.events.put(("failed", exc))
        finally:
            if self._stopped.is_set():
                response.close()
            else:
                response.release_conn()

    def next(self, timeout: float) -> tuple[str, Any] | None:
        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            return None

    def stop(self) -> None:
        self._stopped.set()
        response = self._response
        if response is not None:
            with suppress(Exception):
                response.shutdown()
        self._thread.join(1.0)


def await_rollouts(api: KubeApi, ctx: StepContext, records: dict[str, Obj]) -> None:
    """Follow the Deployments in ``records`` until ``kubectl rollout status`` would say each is
    complete; stream each new status line; record ``new_revision`` as soon as the controller has
    seen the change. Fails on ``ProgressDeadlineExceeded``, sooner on a pod of the new
    ReplicaSet in CrashLoopBackOff / ImagePullBackOff / ErrImagePull, and on a paused or deleted
    Deployment."""
    pending = set(records)
    # One Deployment: watch just it, as kubectl does; several: the namespace's, one stream.
    only = next(iter(records)) if len(records) == 1 else ""
    last: dict[str, str] = {}
    latest: dict[str, Obj] = {}

    def consider(dep: Obj) -> None:
        name = dep["metadata"]["name"]
        if name not in pending:
            return
        latest[name] = dep
        status = rollout_status(dep)
        record = records[name]
        observed = int((dep.get("status") or {}).get("observedGeneration") or 0)
        if observed >= int(record.get("generation") or 0) and observed >= int(
            dep["metadata"].get("generation") or 0
        ):
            record["new_revision"] = revision_or_zero(dep)
        if status.message != last.get(name):
            last[name] = status.message
            ctx.output(status.message)
        if status.failed:
            deadline = dep["spec"].get("progressDeadlineSeconds")
            raise StepFailed(
                f"deployment/{name} in namespace {api.namespace}: {status.message}"
                + (f" ({deadline} s without progress)" if deadline else "")
                + "; roll back or fix and run again"
            )
        if status.done:
            pending.discard(name)
            return
        if dep["spec"].get("paused"):
            raise StepFailed(
                f"deployment/{name} in namespace {api.namespace}: paused, so the rollout cannot "
                f"finish; resume it (kubectl rollout resume deployment/{name}) and run again"
            )

    def relist() -> str:
        rv, items = api.deployments(only)
        found = {d["metadata"]["name"]: d for d in items}
        for name in sorted(pending):
            if name not in found:
                raise StepFailed(
                    f"deployment/{name} in namespace {api.namespace}: deleted during the rollout"
                )
            consider(found[name])
        return rv

    stream: _WatchStream | None = None
    try:
        rv = relist()
        next_pods = time.monotonic()
        while pending:
            ctx.check()
            if stream is None:
                stream = _WatchStream(api, rv, only)
            item = stream.next(POLL)
            if item is not None:
                what, payload = item
                if what == "event":
                    kind = payload.get("type")
                    obj = payload.get("object") or {}
                    if kind in ("ADDED", "MODIFIED"):
                        rv = str(obj["metadata"].get("resourceVersion") or rv)
                        consider(obj)
                    elif kind == "BOOKMARK":
                        rv = str(obj.get("metadata", {}).get("resourceVersion") or rv)
                    elif kind == "DELETED":
                        name = obj.get("metadata", {}).get("name")
                        if name in pending:
                            raise StepFailed(
                                f"deployment/{name} in namespace {api.namespace}: deleted "
                                "during the rollout"
                            )
                    elif kind == "ERROR":
                        stream.stop()
                        stream = None
                        code = obj.get("code")
                        ctx.output(
                            f"watch ended ({code} {obj.get('reason', '')}: "
                            f"{redact_text(str(obj.get('message', '')))}); listing again"
                        )
                        if code != 410:
                            ctx.sleep(1.0)
                        rv = relist()
                elif what == "gone":
                    stream.stop()
                    stream = None
                    ctx.output("watch expired (410 Gone); listing again")
                    rv = relist()
                elif what == "end":
                    short = time.monotonic() - stream.started < 1.0
                    stream.stop()
                    stream = None
                    if short:
                        ctx.sleep(0.5)
                else:
                    stream.stop()
                    stream = None
                    ctx.output(f"watch interrupted ({reason(payload)}); reconnecting")
                    ctx.sleep(1.0)
                    rv = relist()
            if pending and time.monotonic() >= next_pods:
                for name in sorted(pending):
                    _check_pods(api, latest[name])
                next_pods = time.monotonic() + POD_CHECK_INTERVAL
    except StepTimeout:
        waiting = "; ".join(last.get(n, f"deployment/{n}") for n in sorted(pending))
        raise StepTimeout(f"timed out waiting for the rollout: {waiting}") from None
    except Cancelled:
        waiting = "; ".join(last.get(n, f"deployment/{n}") for n in sorted(pending))
        raise Cancelled(
            f"cancelled by the operator during the rollout ({waiting}); undo or run again"
        ) from None
    finally:
        if stream is not None:
            stream.stop()


def _check_pods(api: KubeApi, dep: Obj) -> None:
    """Fail when a pod of the Deployment's new ReplicaSet sits in CrashLoopBackOff,
    ImagePullBackOff or ErrImagePull: it will not get better while we wait."""
    name = dep["metadata"]["name"]
    rs = new_replicaset(dep, api.replicasets(dep))
    if rs is None:
        return
    pod_hash = (rs["metadata"].get("labels") or {}).get(HASH_LABEL)
    selector = selector_string(dep["spec"].get("selector") or {})
    if pod_hash:
        selector = f"{selector},{HASH_LABEL}={pod_hash}" if selector else f"{HASH_LABEL}={pod_hash}"
    for pod in api.pods(selector):
        if not controlled_by(pod, rs):
            continue
        status = pod.get("status") or {}
        for cs in (status.get("initContainerStatuses") or []) + (
            status.get("containerStatuses") or []
        ):
            waiting = (cs.get("state") or {}).get("waiting") or {}
            reason = waiting.get("reason")
            if reason in POD_FAILURES:
                text = str(waiting.get("message") or "")
                detail = redact_text(text.splitlines()[0][:200]) if text else ""
                restarts = int(cs.get("restartCount") or 0)
                raise StepFailed(
                    f"deployment/{name} in namespace {api.namespace}: pod "
                    f"{pod['metadata']['name']} is in {reason} (container {cs.get('name')}"
                    + (f", {restarts} restarts" if restarts else "")
                    + (f": {detail}" if detail else "")
                    + "); roll back or fix the image and run again"
                )
