"""Undo as ``kubectl rollout undo`` does it, and the history it reads.

- :func:`rollback` is ``DeploymentRollbacker.Rollback`` (``rollback.go``): the ReplicaSets
  owned by the Deployment (its selector, its controller reference), the one with the wanted
  ``deployment.kubernetes.io/revision`` (0: the one before the newest), refused when paused,
  "skipped" when the template already matches, otherwise a JSON patch that puts the template
  back (minus ``pod-template-hash``) and the annotations with kubectl's ``annotationsToSkip``
  kept from the Deployment.
- :func:`rollout_history` is ``DeploymentHistoryViewer`` (``history.go``): revision and
  ``kubernetes.io/change-cause`` of each owned ReplicaSet.

Also what a step recorded for its undo and the revision number a recorded one has now.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from cockpit.steps.base import StepFailed
from cockpit.steps.kubernetes.api import Change, KubeApi, connect
from cockpit.steps.kubernetes.configmaps import state_record, undo_record
from cockpit.steps.kubernetes.rules import (
    ANNOTATIONS_TO_SKIP,
    CHANGE_CAUSE,
    HASH_LABEL,
    REVISION_HISTORY,
    Obj,
    deployment_revision,
    equal_ignore_hash,
    revision_or_zero,
    revision_replicaset,
)

if TYPE_CHECKING:
    from cockpit.config import EnvironmentConfig, LoadedConfig

# --- undo: kubectl's rollback -------------------------------------------------------------------


def rollback(api: KubeApi, name: str, to_revision: int = 0) -> tuple[str, bool]:
    """``kubectl rollout undo deployment/NAME [--to-revision=N]``: kubectl's message and
    whether the Deployment was patched. :class:`StepFailed` for no history, an unknown revision
    or a paused Deployment."""
    where = f"deployment/{name} in namespace {api.namespace}"
    dep = api.get_deployment(name)
    try:
        rs = revision_replicaset(dep, api.replicasets(dep), to_revision)
    except StepFailed as exc:
        raise StepFailed(f"{where}: {exc} (kubectl rollout history deployment/{name})") from None
    if dep["spec"].get("paused"):
        raise StepFailed(
            f"{where}: cannot rollback a paused deployment; resume it first "
            f"(kubectl rollout resume deployment/{name}) and undo again"
        )
    if equal_ignore_hash(rs["spec"]["template"], dep["spec"]["template"]):
        return f"skipped rollback (current template already matches revision {to_revision})", False
    template = copy.deepcopy(rs["spec"]["template"])
    labels = (template.get("metadata") or {}).get("labels")
    if isinstance(labels, dict):
        labels.pop(HASH_LABEL, None)
    current = dep["metadata"].get("annotations") or {}
    annotations = {k: current[k] for k in ANNOTATIONS_TO_SKIP if k in current}
    for key, value in (rs["metadata"].get("annotations") or {}).items():
        if key not in ANNOTATIONS_TO_SKIP:
            annotations[key] = value
    patch = [
        {"op": "replace", "path": "/spec/template", "value": template},
        {"op": "replace", "path": "/metadata/annotations", "value": annotations},
    ]
    api.apply(Change("deployment", name, "PATCH", "json-patch", patch))
    return f"rolled back to revision {deployment_revision(rs)}", True


def rollout_history(
    loaded: LoadedConfig, env: EnvironmentConfig, name: str
) -> list[tuple[int, str]]:
    """``kubectl rollout history deployment/NAME``: (revision, change cause) oldest first; the
    cause is ``""`` where kubectl prints ``<none>``."""
    with connect(loaded, env) as api:
        return history_of(api, name)


def history_of(api: KubeApi, name: str) -> list[tuple[int, str]]:
    dep = api.get_deployment(name)
    seen: dict[int, str] = {}
    for rs in api.replicasets(dep):
        try:
            revision = deployment_revision(rs)
        except ValueError:
            continue
        seen[revision] = (rs["metadata"].get("annotations") or {}).get(CHANGE_CAUSE, "")
    return sorted(seen.items())


# --- the step's own records ---------------------------------------------------------------------


def current_number(api: KubeApi, name: str, revision: int) -> int:
    """The revision number the template recorded as ``revision`` has now. The controller
    renumbers a ReplicaSet it reuses (a rollback made since) and lists its old numbers in
    ``deployment.kubernetes.io/revision-history``; 0 stays 0 (kubectl: the previous one)."""
    if revision <= 0:
        return 0
    replicasets = api.replicasets(api.get_deployment(name))
    if any(revision_or_zero(rs) == revision for rs in replicasets):
        return revision
    for rs in replicasets:
        past = ((rs["metadata"].get("annotations") or {}).get(REVISION_HISTORY) or "").split(",")
        if str(revision) in (p.strip() for p in past):
            return revision_or_zero(rs)
    return revision


def undo_records(done: dict[str, Any]) -> tuple[dict[str, Obj], dict[str, Obj]]:
    """What a step recorded for undo: its outcome, else (a step found done when resumed) the
    state its intent recorded before it ran."""
    deployments = dict(done.get("deployments") or {})
    configmaps = dict(done.get("configmaps") or {})
    if deployments or configmaps:
        return deployments, {name: undo_record(record) for name, record in configmaps.items()}
    before = done.get("state_before") or {}
    for name, seen in (before.get("deployments") or {}).items():
        deployments[name] = {
            "previous_revision": seen.get("revision", 0),
            "previous_images": seen.get("images", {}),
            # Paused before and done since: the step resumed it.
            "resumed": bool(seen.get("paused")),
        }
    for name, seen in (before.get("configmaps") or {}).items():
        configmaps[name] = state_record(seen)
    return deployments, configmaps
