"""kubectl's rules over the API's JSON (kubectl 1.32, ``staging/src/k8s.io/kubectl/pkg``),
pure functions with no client: the rollout verdict, the ReplicaSet and revision rules, and the
annotations and labels they read.

- :func:`rollout_status` is ``DeploymentStatusViewer.Status`` (``polymorphichelpers/
  rollout_status.go``): complete when observedGeneration >= generation, updatedReplicas ==
  spec.replicas, no old replicas left (status.replicas == updatedReplicas) and availableReplicas
  >= updatedReplicas; failed when the Progressing condition says ``ProgressDeadlineExceeded``.
  The messages are kubectl's, word for word.
- :func:`new_replicaset` and :func:`revision_replicaset` are ``findNewReplicaSet`` and
  ``deploymentRevision``; :func:`equal_ignore_hash` is ``equalIgnoreHash``.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

from cockpit.steps.base import StepFailed

Obj = dict[str, Any]

CHANGE_CAUSE = "kubernetes.io/change-cause"
REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
HASH_LABEL = "pod-template-hash"
# kubectl's annotationsToSkip (rollback.go): kept from the Deployment, never copied back from
# the ReplicaSet of the revision rolled back to.
ANNOTATIONS_TO_SKIP = frozenset(
    {
        "kubectl.kubernetes.io/last-applied-configuration",
        REVISION,
        REVISION_HISTORY,
        "deployment.kubernetes.io/desired-replicas",
        "deployment.kubernetes.io/max-replicas",
        "deprecated.deployment.rollback.to",
    }
)
# A pod of the new ReplicaSet waiting for one of these will not get better by itself.
POD_FAILURES = ("CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull")


# --- kubectl's verdict -------------------------------------------------------------------------


@dataclass(frozen=True)
class RolloutStatus:
    """What ``kubectl rollout status`` says about a Deployment: its message (kubectl's words),
    whether the rollout is complete, and whether it failed (kubectl exits with an error)."""

    message: str
    done: bool
    failed: bool = False


def rollout_status(deployment: Obj, revision: int = 0) -> RolloutStatus:
    """kubectl's ``DeploymentStatusViewer.Status`` over a Deployment as the API returns it."""
    meta = deployment.get("metadata") or {}
    name = meta.get("name", "")
    spec = deployment.get("spec") or {}
    status = deployment.get("status") or {}
    if revision > 0:
        try:
            current = deployment_revision(deployment)
        except ValueError as exc:
            return RolloutStatus(
                f"cannot get the revision of deployment {_q(name)}: {exc}", False, True
            )
        if revision != current:
            return RolloutStatus(
                f"desired revision ({revision}) is different from the running revision ({current})",
                False,
                True,
            )
    if int(meta.get("generation") or 0) <= int(status.get("observedGeneration") or 0):
        cond = _condition(deployment, "Progressing")
        if cond is not None and cond.get("reason") == "ProgressDeadlineExceeded":
            return RolloutStatus(
                f"deployment {_q(name)} exceeded its progress deadline", False, True
            )
        replicas = spec.get("replicas")
        updated = int(status.get("updatedReplicas") or 0)
        if replicas is not None and updated < int(replicas):
            return RolloutStatus(
                f"Waiting for deployment {_q(name)} rollout to finish: {updated} out of "
                f"{int(replicas)} new replicas have been updated...",
                False,
            )
        total = int(status.get("replicas") or 0)
        if total > updated:
            return RolloutStatus(
                f"Waiting for deployment {_q(name)} rollout to finish: {total - updated} old "
                "replicas are pending termination...",
                False,
            )
        available = int(status.get("availableReplicas") or 0)
        if available < updated:
            return RolloutStatus(
                f"Waiting for deployment {_q(name)} rollout to finish: {available} of "
                f"{updated} updated replicas are available...",
                False,
            )
        return RolloutStatus(f"deployment {_q(name)} successfully rolled out", True)
    return RolloutStatus("Waiting for deployment spec update to be observed...", False)


def _q(name: str) -> str:
    """Go's %q for the names Kubernetes allows."""
    return json.dumps(name)


def _condition(obj: Obj, kind: str) -> Obj | None:
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if isinstance(cond, dict) and cond.get("type") == kind:
            return cond
    return None


def deployment_revision(obj: Obj) -> int:
    """The ``deployment.kubernetes.io/revision`` annotation (0 when absent), as kubectl reads
    it; :class:`ValueError` when it is not a number."""
    value = ((obj.get("metadata") or {}).get("annotations") or {}).get(REVISION)
    return 0 if value is None else int(value)


def revision_or_zero(obj: Obj) -> int:
    try:
        return deployment_revision(obj)
    except ValueError:
        return 0


# --- kubectl's ReplicaSet rules ------------------------------------------------------------------


def prune(value: Any) -> Any:
    # Go's semantic equality treats unset, null and empty alike.
    if isinstance(value, dict):
        out = {k: prune(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in (None, {}, [], "")}
    if isinstance(value, list):
        return [prune(v) for v in value]
    return value


def equal_ignore_hash(template1: Obj, template2: Obj) -> bool:
    """kubectl's ``equalIgnoreHash``: two pod templates are equal, ``pod-template-hash`` aside."""
    a, b = copy.deepcopy(template1), copy.deepcopy(template2)
    for t in (a, b):
        labels = (t.get("metadata") or {}).get("labels")
        if isinstance(labels, dict):
            labels.pop(HASH_LABEL, None)
    return bool(prune(a) == prune(b))


def controlled_by(obj: Obj, owner: Obj) -> bool:
    uid = (owner.get("metadata") or {}).get("uid")
    return any(
        ref.get("controller") and ref.get("uid") == uid
        for ref in (obj.get("metadata") or {}).get("ownerReferences") or []
    )


def _by_age(objs: list[Obj]) -> list[Obj]:
    return sorted(
        objs,
        key=lambda o: (
            str(o["metadata"].get("creationTimestamp") or ""),
            str(o["metadata"].get("name")),
        ),
    )


def new_replicaset(deployment: Obj, replicasets: list[Obj]) -> Obj | None:
    """kubectl's ``findNewReplicaSet``: the oldest owned ReplicaSet with the Deployment's
    template."""
    template = deployment["spec"]["template"]
    for rs in _by_age(replicasets):
        if equal_ignore_hash(rs["spec"]["template"], template):
            return rs
    return None


def revision_replicaset(deployment: Obj, replicasets: list[Obj], to_revision: int) -> Obj:
    """kubectl's ``deploymentRevision``: the ReplicaSet of ``to_revision`` (0: the second
    newest revision). Raises :class:`StepFailed` with kubectl's reason when there is none."""
    name = deployment["metadata"]["name"]
    if to_revision < 0:
        raise StepFailed(f"unable to find specified revision {to_revision} in history")
    # kubectl: all the old ReplicaSets (oldest first), then the new one.
    newest = new_replicaset(deployment, replicasets)
    ordered = [rs for rs in _by_age(replicasets) if rs is not newest]
    if newest is not None:
        ordered.append(newest)
    latest_rev, previous_rev = -1, -1
    latest: Obj | None = None
    previous: Obj | None = None
    for rs in ordered:
        try:
            v = deployment_revision(rs)
        except ValueError:
            continue
        if to_revision == 0:
            if latest_rev < v:
                previous_rev, previous = latest_rev, latest
                latest_rev, latest = v, rs
            elif previous_rev < v:
                previous_rev, previous = v, rs
        elif to_revision == v:
            return rs
    if to_revision > 0:
        raise StepFailed(f"unable to find specified revision {to_revision} in history")
    if previous is None:
        raise StepFailed(f"no rollout history found for deployment {_q(name)}")
    return previous


def selector_string(selector: Obj) -> str:
    """A LabelSelector as the ``labelSelector`` query parameter."""
    terms = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        key, op = expr["key"], expr["operator"]
        values = ",".join(sorted(expr.get("values") or []))
        terms.append(
            {
                "In": f"{key} in ({values})",
                "NotIn": f"{key} notin ({values})",
                "Exists": key,
                "DoesNotExist": f"!{key}",
            }[op]
        )
    return ",".join(terms)


def image_repository(image: str) -> str:
    """``registry:5000/team/api:1.2@sha256:...`` -> ``registry:5000/team/api``."""
    name = image.split("@", 1)[0]
    slash, colon = name.rfind("/"), name.rfind(":")
    return name[:colon] if colon > slash else name


def images(deployment: Obj) -> dict[str, str]:
    pod = deployment["spec"]["template"].get("spec") or {}
    return {str(c["name"]): str(c.get("image", "")) for c in pod.get("containers") or []}
