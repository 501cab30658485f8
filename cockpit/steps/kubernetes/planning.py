"""A step's plan, read in one pass before anything is written: the
:class:`~cockpit.steps.kubernetes.api.Change` for each Deployment or ConfigMap (looking first:
what is already there is skipped), a paused Deployment refused (or, with ``resume_paused``,
resumed in the same patch), and the state before the change, for the intent event and a later
undo: each Deployment's images and revision, and the ConfigMaps captured (those the manifest
applies and those the pod templates reference).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from cockpit.steps.base import StepContext, StepFailed
from cockpit.steps.kubernetes.api import Change, KubeApi
from cockpit.steps.kubernetes.changes import (
    apply_deployment_change,
    change_cause,
    configmap_change,
    image_change,
    manifest,
    paused,
    refusal,
    restart_change,
    resume_change,
)
from cockpit.steps.kubernetes.configmaps import referenced, snapshot
from cockpit.steps.kubernetes.rules import (
    CHANGE_CAUSE,
    RESTARTED_AT,
    Obj,
    images,
    revision_or_zero,
    rollout_status,
)

if TYPE_CHECKING:
    from cockpit.plan.runs import KubernetesRun


@dataclass
class Plan:
    """The changes to make now and the state read before them."""

    changes: list[Change]
    state: Obj

    @property
    def refused(self) -> list[str]:
        """Why the run will make none of the changes (one line per paused Deployment)."""
        return [c.refused for c in self.changes if c.refused]


def names(spec: KubernetesRun, ctx: StepContext) -> list[str]:
    found = list(spec.deployments) or list(ctx.env.kubernetes.deployments)
    if not found:
        raise StepFailed(
            f"kubernetes {spec.action}: no deployments named (deployments in the step, or "
            f"kubernetes.deployments of environment {ctx.env_name} in cockpit.toml)"
        )
    return found


def plan(spec: KubernetesRun, ctx: StepContext, api: KubeApi) -> Plan:
    """What the step would change now, and the state read, for the intent event and undo."""
    state: Obj = {
        "server": api.host,
        "context": api.context,
        "namespace": api.namespace,
        "deployments": {},
        "configmaps": {},
    }
    templates: list[Obj] = []
    if spec.action == "apply":
        changes = _plan_apply(spec, ctx, api, state, templates)
    else:
        cause = change_cause(ctx)
        changes = []
        for name in names(spec, ctx):
            ctx.check()
            dep = api.get_deployment(name)
            state["deployments"][name] = deployment_state(dep)
            templates.append(dep["spec"]["template"])
            if paused(dep) and not spec.resume_paused:
                changes.append(refusal(dep, api.namespace))
                continue
            if spec.action == "set_image":
                change = image_change(dep, spec, ctx, cause, api.namespace)
            else:
                change = restart_change(dep, cause)
            changes.append(resume_change(change) if paused(dep) else change)
    captured: Obj = state["configmaps"]
    for template in templates:
        for name in referenced(template):
            if name not in captured:
                ctx.check()
                captured[name] = snapshot(api.configmap(name), "template")
    return Plan(changes, state)


def _plan_apply(
    spec: KubernetesRun, ctx: StepContext, api: KubeApi, state: Obj, templates: list[Obj]
) -> list[Change]:
    docs = manifest(spec, ctx, api.namespace)
    cause = change_cause(ctx)
    changes = []
    for doc in docs:
        ctx.check()
        name = doc["metadata"]["name"]
        if doc["kind"] == "ConfigMap":
            current = api.configmap(name)
            state["configmaps"][name] = snapshot(current, "manifest")
            changes.append(configmap_change(doc, current))
            continue
        templates.append((doc.get("spec") or {}).get("template") or {})
        current = api.deployment(name, missing_ok=True)
        if current is not None:
            state["deployments"][name] = deployment_state(current)
            templates.append(current["spec"]["template"])
            if paused(current) and not spec.resume_paused:
                changes.append(refusal(current, api.namespace))
                continue
        changes.append(apply_deployment_change(doc, current, cause, api, paused(current)))
    return changes


def deployment_state(dep: Obj) -> Obj:
    annotations = dep["metadata"].get("annotations") or {}
    template_annotations = (dep["spec"]["template"].get("metadata") or {}).get("annotations") or {}
    return {
        "images": images(dep),
        "revision": revision_or_zero(dep),
        "generation": int(dep["metadata"].get("generation") or 0),
        "paused": bool(dep["spec"].get("paused")),
        "change_cause": annotations.get(CHANGE_CAUSE, ""),
        "restarted_at": template_annotations.get(RESTARTED_AT, ""),
        "status": rollout_status(dep).message,
    }
