"""ConfigMaps captured before a change and put back by undo, so that a rollback brings back the
configuration too, not only the image. Captured: the ConfigMaps a manifest applies and those the
pod templates of the changed Deployments reference (volumes and projected volumes, ``envFrom``
and ``env`` of containers and init containers; Secrets are never read nor recorded), each as it
was (data, binaryData, labels, annotations, resourceVersion), unless it is over
:data:`CAPTURE_LIMIT`, which keeps what the event log stores bounded. :func:`restore` puts one
recorded ConfigMap back: deleted when the step created it, its captured content otherwise,
saying so when it was changed since the step.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from cockpit.steps.kubernetes.api import Change, KubeApi
from cockpit.steps.kubernetes.rules import Obj

# A ConfigMap bigger than this (data, binaryData, labels and annotations, as JSON) is not
# recorded in the event log; undo then leaves it as it is.
CAPTURE_LIMIT = 256 * 1024
CONTENT = ("data", "binaryData", "labels", "annotations")


def referenced(template: Obj) -> list[str]:
    """The ConfigMaps a pod template references: ``volumes[].configMap``, projected volumes'
    ``configMap`` sources, and ``envFrom[].configMapRef`` / ``env[].valueFrom.configMapKeyRef``
    of its containers and init containers."""
    pod = template.get("spec") or {}
    found: list[Any] = []
    for volume in pod.get("volumes") or []:
        found.append((volume.get("configMap") or {}).get("name"))
        for source in (volume.get("projected") or {}).get("sources") or []:
            found.append((source.get("configMap") or {}).get("name"))
    for container in (pod.get("initContainers") or []) + (pod.get("containers") or []):
        for source in container.get("envFrom") or []:
            found.append((source.get("configMapRef") or {}).get("name"))
        for var in container.get("env") or []:
            found.append(((var.get("valueFrom") or {}).get("configMapKeyRef") or {}).get("name"))
    return sorted({str(name) for name in found if name})


def snapshot(current: Obj | None, source: str) -> Obj:
    """A ConfigMap as recorded before the change (``current`` None: it does not exist).
    ``source``: ``manifest`` (the step applies it) or ``template`` (a pod template uses it)."""
    if current is None:
        return {"source": source, "exists": False}
    meta = current.get("metadata") or {}
    shot: Obj = {
        "source": source,
        "exists": True,
        "resourceVersion": str(meta.get("resourceVersion") or ""),
    }
    content = {
        "data": dict(current.get("data") or {}),
        "binaryData": dict(current.get("binaryData") or {}),
        "labels": dict(meta.get("labels") or {}),
        "annotations": dict(meta.get("annotations") or {}),
    }
    size = len(json.dumps(content, separators=(",", ":"), ensure_ascii=False).encode())
    if size > CAPTURE_LIMIT:
        shot["skipped"] = (
            f"{size / 1024:.1f} KiB, over the {CAPTURE_LIMIT // 1024} KiB capture limit"
        )
        return shot
    if current.get("immutable"):
        shot["immutable"] = True
    return {**shot, **content}


def capture_lines(captured: dict[str, Obj], *, skipped_only: bool = False) -> list[str]:
    """What the preview (and, for the ones left out, the run) says about the captures."""
    lines = [
        f"configmap/{name}: not captured for undo ({shot['skipped']}); undo will not restore it"
        for name, shot in captured.items()
        if shot.get("skipped")
    ]
    kept = [
        f"configmap/{name} ({_count(shot)})" if shot.get("exists") else f"configmap/{name} (absent)"
        for name, shot in captured.items()
        if not shot.get("skipped")
    ]
    if kept and not skipped_only:
        lines.append("captured for undo: " + ", ".join(kept))
    return lines


def _count(shot: Obj, kind: str = "") -> str:
    keys = len(shot.get("data") or {}) + len(shot.get("binaryData") or {})
    return f"{keys} {kind}key" + ("" if keys == 1 else "s")


# --- what undo reads ------------------------------------------------------------------------------


def run_record(shot: Obj) -> Obj:
    """What the run records for undo before any write: the ConfigMap as it was, whether the
    step created it, and the resourceVersion the step left it at (updated after its own
    write), by which undo tells that it was changed since."""
    return {"before": shot, "created": False, "left_at": shot.get("resourceVersion", "")}


def undo_record(record: Obj) -> Obj:
    """A run's record; one written before captures (``created`` / ``previous_data``) is read
    as its data only, labels and annotations left as they are."""
    if "before" in record:
        return record
    created = bool(record.get("created"))
    before: Obj = {"source": "manifest", "exists": not created}
    if not created:
        before["data"] = dict(record.get("previous_data") or {})
    return {"before": before, "created": created, "left_at": ""}


def state_record(seen: Obj) -> Obj:
    """From the intent's state (a step found done when resumed): a ConfigMap of the manifest
    that did not exist was created by the step; where the step left it is not known."""
    applied = seen.get("source", "manifest") == "manifest"
    return {
        "before": seen,
        "created": applied and not seen.get("exists"),
        "left_at": "" if applied else str(seen.get("resourceVersion") or ""),
    }


def summary(name: str, record: Obj) -> str:
    before = record.get("before") or {}
    if record.get("created"):
        return f"delete configmap/{name} (created by this step)"
    if before.get("skipped"):
        return f"configmap/{name}: not captured ({before['skipped']}), left as it is"
    if not before.get("exists"):
        return f"configmap/{name}: did not exist before, left as it is"
    return f"configmap/{name}: restore its {_count(before, 'previous ')}"


# --- undo -----------------------------------------------------------------------------------------


def restore(api: KubeApi, name: str, record: Obj) -> tuple[str, bool]:
    """Put a recorded ConfigMap back; what was done and whether anything was written."""
    before = record.get("before") or {}
    current = api.configmap(name)
    now = str(((current or {}).get("metadata") or {}).get("resourceVersion") or "")
    left_at = str(record.get("left_at") or "")
    since = ""
    if left_at and now != left_at:
        since = "; it was changed since the step " + (
            "(deleted)" if current is None else f"(resourceVersion {left_at}, now {now})"
        )
    if record.get("created"):
        if current is None:
            return "already gone", False
        api.apply(Change("configmap", name, "DELETE"))
        return "deleted (it was created by this step)" + since, True
    if before.get("skipped"):
        return f"not restored: it was not captured ({before['skipped']})", False
    if not before.get("exists"):
        if current is None:
            return "already absent, as before the step", False
        return "left as it is: it did not exist before the step, which did not create it", False
    keys = _count(before, "previous ")
    created = Change("configmap", name, "POST", body=_body(name, None, before, api.namespace))
    if current is None:
        api.apply(created)
        return f"created again with its {keys}" + since, True
    if _same(current, before):
        return "already holds its previous data", False
    if current.get("immutable"):
        # An immutable ConfigMap's data cannot be updated: it is replaced.
        api.apply(Change("configmap", name, "DELETE"))
        api.apply(created)
    else:
        body = _body(name, current, before, api.namespace)
        api.apply(Change("configmap", name, "PUT", body=body))
    return f"restored its {keys}" + since, True


def _same(current: Obj, before: Obj) -> bool:
    meta = current.get("metadata") or {}
    have = {
        "data": current.get("data") or {},
        "binaryData": current.get("binaryData") or {},
        "labels": meta.get("labels") or {},
        "annotations": meta.get("annotations") or {},
    }
    # A record without labels / annotations (written before captures) leaves them as they are.
    return all(have[key] == (before.get(key) or {}) for key in CONTENT if key in before)


def _body(name: str, current: Obj | None, before: Obj, namespace: str) -> Obj:
    """The object to PUT (``current`` with the captured content) or to POST (``current``
    None)."""
    if current is None:
        body: Obj = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": namespace},
        }
    else:
        body = copy.deepcopy(current)
        body["metadata"].pop("managedFields", None)
    meta = body["metadata"]
    for key in CONTENT:
        if key not in before:
            continue
        where = meta if key in ("labels", "annotations") else body
        value = {str(k): str(v) for k, v in (before.get(key) or {}).items()}
        if value:
            where[key] = value
        else:
            where.pop(key, None)
    if current is None and before.get("immutable"):
        body["immutable"] = True
    return body
