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
from cockpit.steps.kubernetes import configmaps as cms
from cockpit.steps.kubernetes.api import Change, KubeApi, connect
from cockpit.steps.kubernetes.changes import diff, manifest, pause_change
from cockpit.steps.kubernetes.planning import names, plan
from cockpit.steps.kubernetes.rules import (
    Obj,
    images,
    new_replicaset,
    revision_or_zero,
    rollout_status,
)
from cockpit.steps.kubernetes.undo import current_number, rollback, undo_records
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
            planned = plan(spec, ctx, api)
            changes, state = planned.changes, planned.state
            summary = self._summary(spec, ctx, api, changes)
            calls: list[str] = []
            lines: list[str] = []
            if planned.refused:
                # No dry run either: nothing is sent but reads.
                refs = ", ".join(c.ref for c in changes if c.refused)
                summary = f"{summary}: refused, {refs} paused"
                lines = [*planned.refused, "the run will refuse before any write"]
                changes = []
            for change in changes:
                ctx.check()
                if change.resumes:
                    lines.append(
                        f"{change.ref}: paused; the step resumes it (spec.paused = false) with "
                        "its change and watches the rollout; undo pauses it again"
                    )
                if change.body is None:
                    lines.append(f"{change.ref}: {change.note}")
                    continue
                calls.append(change.call(api.namespace))
                after = api.apply(change, dry_run=True) if change.verb != "DELETE" else None
                lines.append(f"{change.ref}: {change.note} (server-side dry run)")
                shown = diff(change, after)
                lines.extend(shown if shown else ["  (the API server reports no change)"])
            if not calls and not planned.refused:
                lines.append("nothing to change: the rollout is only watched")
            lines.extend(cms.capture_lines(state["configmaps"]))
            return Preview(summary=summary, calls=calls, lines=lines, state=state)

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

    # run ---------------------------------------------------------------------------------------

    def run(self, spec: KubernetesRun, ctx: StepContext, outcome: dict[str, Any]) -> None:
        with connect(ctx.loaded, ctx.env, ctx) as api:
            planned = plan(spec, ctx, api)
            if planned.refused:
                raise StepFailed("; ".join(planned.refused))
            outcome["namespace"] = api.namespace
            captured = planned.state["configmaps"]
            if captured:
                # Before any write: what undo puts back.
                outcome["configmaps"] = {n: cms.run_record(s) for n, s in captured.items()}
                for line in cms.capture_lines(captured, skipped_only=True):
                    ctx.output(line)
            watched: dict[str, Obj] = {}
            for change in planned.changes:
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
                        record["created"] = change.verb == "POST"
                        record["left_at"] = str(result["metadata"].get("resourceVersion") or "")
                        outcome.setdefault("applied", []).append(change.ref)
                if change.kind == "deployment":
                    watched[change.name] = record
            if watched:
                await_rollouts(api, ctx, watched)

    def _record_before(self, api: KubeApi, change: Change, outcome: dict[str, Any]) -> Obj:
        """What undo needs, recorded before the change is made."""
        if change.kind == "configmap":
            cm_record: Obj = outcome["configmaps"][change.name]
            return cm_record
        record: Obj = outcome.setdefault("deployments", {}).setdefault(change.name, {})
        dep = change.before
        if dep is None:
            record.update(created=True, previous_revision=0, previous_images={})
            return record
        record["previous_revision"] = revision_or_zero(dep)
        record["previous_images"] = images(dep)
        if change.resumes:
            record["resumed"] = True
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
            docs = (
                {
                    d["metadata"]["name"]: d
                    for d in manifest(spec, ctx, api.namespace)
                    if d["kind"] == "ConfigMap"
                }
                if spec.action == "apply"
                else {}
            )
            for name, doc in docs.items():
                current = api.configmap(name)
                if current is None or (current.get("data") or {}) != (doc.get("data") or {}):
                    raise StepFailed(
                        f"configmap/{name} in namespace {api.namespace}: data differs from "
                        f"{spec.manifest}"
                    )
                verified[f"configmap/{name}"] = "data as in the manifest"
            outcome["verified"] = verified

    # recheck -----------------------------------------------------------------------------------

    def recheck(self, spec: KubernetesRun, ctx: StepContext, started: dict[str, Any]) -> Recheck:
        with connect(ctx.loaded, ctx.env, ctx) as api:
            planned = plan(spec, ctx, api)
            state = planned.state
            texts: list[str] = []
            done = True
            for change in planned.changes:
                if change.refused:
                    done = False
                    texts.append(change.refused)
                    continue
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
        parts = [cms.summary(name, record) for name, record in configmaps.items()]
        for name, record in deployments.items():
            if record.get("created"):
                parts.append(f"delete deployment/{name} (created by this step)")
                continue
            revision = int(record.get("previous_revision") or 0)
            images = ", ".join(f"{c}={i}" for c, i in (record.get("previous_images") or {}).items())
            target = f"revision {revision}" if revision else "the previous revision"
            parts.append(
                f"deployment/{name} back to {target}"
                + (f" ({images})" if images else "")
                + (", then paused again" if record.get("resumed") else "")
            )
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
            deployments = {name: {} for name in names(spec, ctx)} if spec.action != "apply" else {}
        with connect(ctx.loaded, ctx.env, ctx) as api:
            outcome["namespace"] = api.namespace
            for name, record in deployments.items():
                dep = None if record.get("created") else api.deployment(name, missing_ok=True)
                if dep is not None and dep["spec"].get("paused"):
                    # kubectl refuses to roll back a paused Deployment: refused here, before
                    # anything (the ConfigMaps too) is written.
                    rollback(api, name, self._revision(api, name, record))
            skipped: list[str] = []
            # The ConfigMaps first: the pods the rollback starts read the configuration as it
            # was.
            cm_results: dict[str, str] = {}
            for name, record in configmaps.items():
                ctx.check()
                result, wrote = cms.restore(api, name, record)
                ctx.output(f"configmap/{name}: {result}")
                cm_results[name] = result
                if not wrote:
                    skipped.append(f"configmap/{name}: {result}")
            if cm_results:
                outcome["configmaps"] = cm_results
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
                to_revision = self._revision(api, name, record)
                message, patched = rollback(api, name, to_revision)
                ctx.output(f"deployment/{name}: {message}")
                results[name] = {"to_revision": to_revision, "result": message}
                if patched:
                    watched[name] = results[name]
                else:
                    skipped.append(f"deployment/{name}: {message}")
            outcome["deployments"] = results
            if watched:
                await_rollouts(api, ctx, watched)
                for name in watched:
                    results[name]["images"] = images(api.get_deployment(name))
            for name, record in deployments.items():
                if record.get("resumed") and not record.get("created"):
                    # The step resumed it: paused again once it is back, as it was before.
                    api.apply(pause_change(name))
                    ctx.output(f"deployment/{name}: paused again, as before the step")
                    results[name]["paused"] = True
                    skipped = [s for s in skipped if not s.startswith(f"deployment/{name}:")]
            if skipped and len(skipped) == len(deployments) + len(configmaps):
                outcome["skipped"] = "; ".join(skipped)

    def _revision(self, api: KubeApi, name: str, record: Obj) -> int:
        return current_number(api, name, int(record.get("previous_revision") or 0))
