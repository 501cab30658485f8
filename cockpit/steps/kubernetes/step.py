"""The ``kubernetes`` step kind: set the image of Deployments, apply a manifest, restart; each
change previewed as a server-side dry run, made, watched until the rollout completes as
``kubectl rollout status`` would say, verified, rechecked after an interruption, and undone as
``kubectl rollout undo`` would do it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import msgspec

from cockpit.plan.runs import KubernetesRun, StepRun
from cockpit.steps.base import Preview, Recheck, StepContext, StepFailed, StepKind
from cockpit.steps.kubernetes.api import Change, KubeApi, connect
from cockpit.steps.kubernetes.changes import (
    apply_deployment_change,
    change_cause,
    configmap_change,
    diff,
    image_change,
    manifest,
    restart_change,
)
from cockpit.steps.kubernetes.rules import (
    CHANGE_CAUSE,
    RESTARTED_AT,
    Obj,
    images,
    new_replicaset,
    revision_or_zero,
    rollout_status,
)
from cockpit.steps.kubernetes.undo import current_number, restore_configmap, rollback, undo_records
from cockpit.steps.kubernetes.watch import await_rollouts

if TYPE_CHECKING:
    from cockpit.config import EnvironmentConfig

# --- the step kind -------------------------------------------------------------------------------


class KubernetesStep(StepKind):
    """Deployments in the environment's cluster: ``set_image``, ``apply``, ``restart``."""

    kind: ClassVar[str] = "kubernetes"
    undoable: ClassVar[bool] = True
    undo_text: ClassVar[str] = "roll the Deployments back to their previous revision"

    def env_defaults(self, run: StepRun, env: EnvironmentConfig) -> StepRun:
        """``set_image`` without an image of its own sets the environment's
        ``kubernetes.image``."""
        if isinstance(run, KubernetesRun) and run.action == "set_image" and not run.image:
            run = msgspec.structs.replace(run, image=env.kubernetes.image)
        return run

    # preview ---------------------------------------------------------------------------------

    def preview(self, spec: KubernetesRun, ctx: StepContext) -> Preview:
        with connect(ctx.loaded, ctx.env, ctx) as api:
            changes, state = self._plan(spec, ctx, api)
            calls: list[str] = []
            lines: list[str] = []
            for change in changes:
                ctx.check()
                if change.before is not None and (change.before.get("spec") or {}).get("paused"):
                    lines.append(
                        f"{change.ref}: paused; its rollout will not start until it is resumed "
                        f"(kubectl rollout resume deployment/{change.name})"
                    )
                if change.body is None:
                    lines.append(f"{change.ref}: {change.note}")
                    continue
                calls.append(change.call(api.namespace))
                after = api.apply(change, dry_run=True) if change.verb != "DELETE" else None
                lines.append(f"{change.ref}: {change.note} (server-side dry run)")
                shown = diff(change, after)
                lines.extend(shown if shown else ["  (the API server reports no change)"])
            if not calls:
                lines.append("nothing to change: the rollout is only watched")
            return Preview(
                summary=self._summary(spec, ctx, api, changes),
                calls=calls,
                lines=lines,
                state=state,
            )

    def _summary(
        self, spec: KubernetesRun, ctx: StepContext, api: KubeApi, changes: list[Change]
    ) -> str:
        where = f"in namespace {api.namespace}" + (
            f" (context {api.context})" if api.context else ""
        )
        refs = ", ".join(c.ref for c in changes) or "nothing"
        if spec.action == "set_image":
            return f"set image {ctx.render(spec.image)} on {refs} {where}"
        if spec.action == "restart":
            return f"restart {refs} {where}"
        return f"apply {spec.manifest} ({refs}) {where}"

    # planning --------------------------------------------------------------------------------

    def _names(self, spec: KubernetesRun, ctx: StepContext) -> list[str]:
        names = list(spec.deployments) or list(ctx.env.kubernetes.deployments)
        if not names:
            raise StepFailed(
                f"kubernetes {spec.action}: no deployments named (deployments in the step, or "
                f"kubernetes.deployments of environment {ctx.env_name} in cockpit.toml)"
            )
        return names

    def _plan(
        self, spec: KubernetesRun, ctx: StepContext, api: KubeApi
    ) -> tuple[list[Change], Obj]:
        """What the step would change now (looking first: what is already there is skipped),
        and the state read, for the intent event and a later undo."""
        state: Obj = {
            "server": api.host,
            "context": api.context,
            "namespace": api.namespace,
            "deployments": {},
        }
        if spec.action == "apply":
            return self._plan_apply(spec, ctx, api, state), state
        cause = change_cause(ctx)
        changes = []
        for name in self._names(spec, ctx):
            ctx.check()
            dep = api.get_deployment(name)
            state["deployments"][name] = _deployment_state(dep)
            if spec.action == "set_image":
                changes.append(image_change(dep, spec, ctx, cause, api.namespace))
            else:
                changes.append(restart_change(dep, cause))
        return changes, state

    def _plan_apply(
        self, spec: KubernetesRun, ctx: StepContext, api: KubeApi, state: Obj
    ) -> list[Change]:
        docs = manifest(spec, ctx, api.namespace)
        cause = change_cause(ctx)
        changes = []
        state["configmaps"] = {}
        for doc in docs:
            ctx.check()
            name = doc["metadata"]["name"]
            if doc["kind"] == "ConfigMap":
                current = api.configmap(name)
                state["configmaps"][name] = {
                    "exists": current is not None,
                    "data": dict((current or {}).get("data") or {}),
                }
                changes.append(configmap_change(doc, current))
            else:
                current = api.deployment(name, missing_ok=True)
                if current is not None:
                    state["deployments"][name] = _deployment_state(current)
                changes.append(apply_deployment_change(doc, current, cause, api))
        return changes

    # run ---------------------------------------------------------------------------------------

    def run(self, spec: KubernetesRun, ctx: StepContext, outcome: dict[str, Any]) -> None:
        with connect(ctx.loaded, ctx.env, ctx) as api:
            outcome["namespace"] = api.namespace
            changes, _state = self._plan(spec, ctx, api)
            watched: dict[str, Obj] = {}
            for change in changes:
                ctx.check()
                record = self._record_before(api, change, outcome)
                if change.body is None:
                    ctx.output(f"{change.ref}: {change.note}")
                else:
                    result = api.apply(change)
                    ctx.output(f"{change.ref}: {change.note} ({change.verb} done)")
                    if change.kind == "deployment":
                        record["generation"] = int(result["metadata"].get("generation") or 0)
                        outcome.setdefault("patched", []).append(change.ref)
                    else:
                        outcome.setdefault("applied", []).append(change.ref)
                if change.kind == "deployment":
                    watched[change.name] = record
            if watched:
                await_rollouts(api, ctx, watched)

    def _record_before(self, api: KubeApi, change: Change, outcome: dict[str, Any]) -> Obj:
        """What undo needs, recorded before the change is made."""
        if change.kind == "configmap":
            before = change.before
            cm_record: Obj = {
                "created": before is None,
                "previous_data": dict((before or {}).get("data") or {}),
            }
            outcome.setdefault("configmaps", {})[change.name] = cm_record
            return cm_record
        record: Obj = outcome.setdefault("deployments", {}).setdefault(change.name, {})
        dep = change.before
        if dep is None:
            record.update(created=True, previous_revision=0, previous_images={})
            return record
        record["previous_revision"] = revision_or_zero(dep)
        record["previous_images"] = images(dep)
        if change.body is None and change.ours:
            # Already applied by an interrupted run of this step: what came before is the newest
            # ReplicaSet whose template is not the current one (made yet by the controller or
            # not).
            replicasets = api.replicasets(dep)
            current = new_replicaset(dep, replicasets)
            older = [rs for rs in replicasets if rs is not current]
            if older:
                rs = max(older, key=revision_or_zero)
                record["previous_revision"] = revision_or_zero(rs)
                record["previous_images"] = images(rs)
        record["images"] = change.target_images or images(dep)
        return record

    # verify ------------------------------------------------------------------------------------

    def verify(self, spec: KubernetesRun, ctx: StepContext, outcome: dict[str, Any]) -> None:
        with connect(ctx.loaded, ctx.env, ctx) as api:
            verified: dict[str, str] = {}
            for name, record in (outcome.get("deployments") or {}).items():
                dep = api.get_deployment(name)
                status = rollout_status(dep)
                if not status.done:
                    raise StepFailed(
                        f"deployment/{name} in namespace {api.namespace}: {status.message}"
                    )
                want = record.get("images") or {}
                have = images(dep)
                wrong = {c: img for c, img in want.items() if have.get(c) != img}
                if wrong:
                    shown = ", ".join(f"{c}={have.get(c)} (want {img})" for c, img in wrong.items())
                    raise StepFailed(
                        f"deployment/{name} in namespace {api.namespace}: runs {shown}"
                    )
                verified[f"deployment/{name}"] = status.message
            configmaps = outcome.get("configmaps") or {}
            docs = (
                {
                    d["metadata"]["name"]: d
                    for d in manifest(spec, ctx, api.namespace)
                    if d["kind"] == "ConfigMap"
                }
                if configmaps
                else {}
            )
            for name in configmaps:
                current = api.configmap(name)
                if current is None or (current.get("data") or {}) != (docs[name].get("data") or {}):
                    raise StepFailed(
                        f"configmap/{name} in namespace {api.namespace}: data differs from "
                        f"{spec.manifest}"
                    )
                verified[f"configmap/{name}"] = "data as in the manifest"
            outcome["verified"] = verified

    # recheck -----------------------------------------------------------------------------------

    def recheck(self, spec: KubernetesRun, ctx: StepContext, started: dict[str, Any]) -> Recheck:
        with connect(ctx.loaded, ctx.env, ctx) as api:
            changes, state = self._plan(spec, ctx, api)
            texts: list[str] = []
            done = True
            for change in changes:
                if change.body is not None:
                    done = False
                    texts.append(f"{change.ref}: not yet ({change.note})")
                    continue
                if change.kind == "deployment":
                    status = rollout_status(api.get_deployment(change.name))
                    state["deployments"].setdefault(change.name, {})["status"] = status.message
                    if not status.done:
                        done = False
                    texts.append(f"{change.ref}: {change.note}; {status.message}")
                else:
                    texts.append(f"{change.ref}: {change.note}")
            return Recheck(done, "; ".join(texts), state)

    # undo --------------------------------------------------------------------------------------

    def undo_summary(self, spec: KubernetesRun, ctx: StepContext, done: dict[str, Any]) -> str:
        deployments, configmaps = undo_records(done)
        parts = []
        for name, record in deployments.items():
            if record.get("created"):
                parts.append(f"delete deployment/{name} (created by this step)")
                continue
            revision = int(record.get("previous_revision") or 0)
            images = ", ".join(f"{c}={i}" for c, i in (record.get("previous_images") or {}).items())
            target = f"revision {revision}" if revision else "the previous revision"
            parts.append(f"deployment/{name} back to {target}" + (f" ({images})" if images else ""))
        for name, record in configmaps.items():
            if record.get("created"):
                parts.append(f"delete configmap/{name} (created by this step)")
            else:
                keys = len(record.get("previous_data") or {})
                parts.append(f"configmap/{name}: restore its {keys} previous keys")
        return "; ".join(parts) or "nothing recorded to undo"

    def undo(
        self,
        spec: KubernetesRun,
        ctx: StepContext,
        done: dict[str, Any],
        outcome: dict[str, Any],
    ) -> None:
        deployments, configmaps = undo_records(done)
        if not deployments and not configmaps:
            # Nothing recorded (a step resumed as done before it recorded anything): kubectl's
            # rule, one revision back, for every deployment the step names.
            deployments = (
                {name: {} for name in self._names(spec, ctx)} if spec.action != "apply" else {}
            )
        with connect(ctx.loaded, ctx.env, ctx) as api:
            outcome["namespace"] = api.namespace
            skipped: list[str] = []
            watched: dict[str, Obj] = {}
            results: dict[str, Obj] = {}
            for name, record in deployments.items():
                ctx.check()
                if record.get("created"):
                    if api.deployment(name, missing_ok=True) is None:
                        skipped.append(f"deployment/{name} is already gone")
                    else:
                        api.apply(Change("deployment", name, "DELETE"))
                        ctx.output(f"deployment/{name}: deleted (it was created by this step)")
                    results[name] = {"deleted": True}
                    continue
                to_revision = current_number(api, name, int(record.get("previous_revision") or 0))
                message, patched = rollback(api, name, to_revision)
                ctx.output(f"deployment/{name}: {message}")
                results[name] = {"to_revision": to_revision, "result": message}
                if patched:
                    watched[name] = results[name]
                else:
                    skipped.append(f"deployment/{name}: {message}")
            outcome["deployments"] = results
            cm_results: dict[str, str] = {}
            for name, record in configmaps.items():
                ctx.check()
                result = restore_configmap(api, name, record)
                ctx.output(f"configmap/{name}: {result}")
                cm_results[name] = result
                if result.startswith("already"):
                    skipped.append(f"configmap/{name}: {result}")
            if cm_results:
                outcome["configmaps"] = cm_results
            if watched:
                await_rollouts(api, ctx, watched)
                for name in watched:
                    results[name]["images"] = images(api.get_deployment(name))
            if skipped and len(skipped) == len(deployments) + len(configmaps):
                outcome["skipped"] = "; ".join(skipped)


def _deployment_state(dep: Obj) -> Obj:
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
