"""The ``ecs_update`` step kind: point an ECS service at a task definition and wait until stable.

The service is pointed at ``task_definition`` or at a new revision of its current one with
``image`` for ``container``; an identical latest revision is reused rather than registered twice,
and the revision registered carries the task definition it replaces as the tag
``cockpit:previous``, so a resumed run still knows where undo goes back to. Waited until stable as
the ``services_stable`` waiter says (one deployment, running == desired). Undo points the service
back at the previous task definition ("skipped" when it is already there).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cockpit.steps.aws.client import api, aws_client, call, one_line, release_tags, wait_loop
from cockpit.steps.aws.ecstarget import (
    EcsTarget,
    describe_service,
    describe_task_definition,
    ecs_names,
    resolve_target,
    short_td,
)
from cockpit.steps.base import Preview, Recheck, StepContext, StepFailed, StepKind, StepTimeout

if TYPE_CHECKING:
    from cockpit.plan.runs import EcsUpdateRun


def _intent_state(started: dict[str, Any]) -> dict[str, Any]:
    """The preview's ``state`` from the intent's details (the engine nests it under ``state``)."""
    state = started.get("state")
    return dict(state) if isinstance(state, dict) else dict(started)


def _from_done(done: dict[str, Any], key: str) -> Any:
    """``key`` from a success event's details: the run's outcome, or, for a step found done by a
    re-check after an interruption, what the re-check found (``rechecked``)."""
    if done.get(key):
        return done[key]
    rechecked = done.get("rechecked")
    return rechecked.get(key) if isinstance(rechecked, dict) else None


class EcsUpdateStep(StepKind):
    kind = "ecs_update"
    undoable = True
    undo_text = "point the ECS service back at its previous task definition"

    def resolve(self, spec: EcsUpdateRun, ctx: StepContext) -> EcsTarget:
        """Read-only: the service now and the task definition it should run."""
        return resolve_target(spec, ctx)

    @staticmethod
    def _stable(svc: dict[str, Any]) -> bool:
        return len(svc.get("deployments", [])) == 1 and svc.get("runningCount") == svc.get(
            "desiredCount"
        )

    @staticmethod
    def _state_line(svc: dict[str, Any]) -> str:
        return (
            f"running {svc.get('runningCount', '?')}/{svc.get('desiredCount', '?')}, pending "
            f"{svc.get('pendingCount', '?')}, {len(svc.get('deployments', []))} deployment(s)"
        )

    def preview(self, spec: EcsUpdateRun, ctx: StepContext) -> Preview:
        t = self.resolve(spec, ctx)
        what = f"ECS service {t.service} in cluster {t.cluster}"
        lines = [f"{what}: {short_td(t.current)}, {self._state_line(t.svc)}"]
        calls: list[str] = []
        target_name = short_td(t.target) if t.target else "the new revision"
        if t.register is not None:
            lines.append(f"container {t.container}: {t.old_image} -> {t.image}")
            lines.append(
                f"register a new revision of {t.register['family']} "
                f"(a copy of {short_td(t.current)} with the new image)"
            )
            calls.append(
                f"ecs.register_task_definition(<the fields of {short_td(t.current)}>, "
                f"containerDefinitions[{t.container}].image={t.image!r}, "
                f"tags=[cockpit:previous={short_td(t.current)}, ...])"
            )
        elif t.image and t.target != t.current:
            lines.append(
                f"container {t.container}: {t.old_image} -> {t.image} "
                f"(revision {target_name} already registered)"
            )
        if t.target == t.current:
            lines.append(f"already on {short_td(t.current)}: run only waits until stable")
        else:
            calls.append(
                api(
                    "ecs.update_service",
                    cluster=t.cluster,
                    service=t.service,
                    taskDefinition=t.target or "<ARN of the new revision>",
                )
            )
            lines.append(
                f"update {t.service}: {short_td(t.current)} -> {target_name}; "
                f"undo goes back to {short_td(t.current)}"
            )
        calls.append(
            api("ecs.describe_services", cluster=t.cluster, services=[t.service])
            + " until 1 deployment and running == desired"
        )
        return Preview(
            summary=f"{what}: {short_td(t.current)} -> {target_name}",
            calls=calls,
            lines=lines,
            state={
                "cluster": t.cluster,
                "service": t.service,
                "current_task_definition": t.current,
                "target_task_definition": t.target,
                "container": t.container,
                "image": t.image,
                "running": t.svc.get("runningCount"),
                "desired": t.svc.get("desiredCount"),
            },
        )

    def _previous_of(self, ecs: Any, t: EcsTarget, ctx: StepContext) -> str:
        """The task definition the service ran before this step: the current one, unless an
        earlier (interrupted) run of this step already moved the service to the target: then
        the ``cockpit:previous`` tag of the revision that run registered, or else the task
        definition of the service's other deployment while it still rolls."""
        if t.target != t.current or not t.target:
            return t.current
        _, tag_list = describe_task_definition(ecs, t.current, "the service's task definition")
        tags = {str(tag.get("key")): str(tag.get("value")) for tag in tag_list}
        ours = release_tags(ctx)
        mine = all(
            tags.get(k) == ours[k]
            for k in ("cockpit:release", "cockpit:environment", "cockpit:item")
        )
        if mine and tags.get("cockpit:previous"):
            return tags["cockpit:previous"]
        deployments = t.svc.get("deployments", [])
        others = [
            d.get("taskDefinition")
            for d in deployments
            if d.get("taskDefinition") and d.get("taskDefinition") != t.current
        ]
        return str(others[0]) if len(deployments) > 1 and others else t.current

    def run(self, spec: EcsUpdateRun, ctx: StepContext, outcome: dict[str, Any]) -> None:
        ecs = aws_client(ctx, "ecs")
        t = self.resolve(spec, ctx)
        what = f"ECS service {t.service} in cluster {t.cluster}"
        previous = self._previous_of(ecs, t, ctx)
        outcome.update(cluster=t.cluster, service=t.service, previous_task_definition=previous)
        target = t.target
        if t.register is not None:
            ctx.check()
            tags = [{"key": k, "value": v} for k, v in release_tags(ctx).items()]
            tags.append({"key": "cockpit:previous", "value": t.current})
            answer = call(
                f"ECS task definition {t.register['family']}",
                ecs.register_task_definition,
                **t.register,
                tags=tags,
            )
            target = str(answer["taskDefinition"]["taskDefinitionArn"])
            outcome["registered"] = target
            ctx.output(f"registered {short_td(target)}: {t.container} = {t.image}")
        assert target is not None
        outcome["task_definition"] = target
        if target != t.current:
            ctx.check()
            call(
                what,
                ecs.update_service,
                cluster=t.cluster,
                service=t.service,
                taskDefinition=target,
            )
            ctx.output(f"{what}: {short_td(t.current)} -> {short_td(target)}")
        else:
            ctx.output(f"{what} is already on {short_td(target)}; waiting until stable")
        self._wait_stable(ecs, t.cluster, t.service, target, ctx, t.hints)
        outcome["stable"] = True

    def _wait_stable(
        self,
        ecs: Any,
        cluster: str,
        service: str,
        target: str,
        ctx: StepContext,
        hints: tuple[str, str],
    ) -> dict[str, Any]:
        what = f"ECS service {service} in cluster {cluster}"
        shown = ""
        svc: dict[str, Any] = {}
        try:
            for _ in wait_loop(ctx, what):
                svc = describe_service(ecs, cluster, service, hints)
                now = str(svc.get("taskDefinition", ""))
                if now != target:
                    raise StepFailed(
                        f"{what}: now on {short_td(now)}, not {short_td(target)} (changed by "
                        "someone else?)"
                    )
                failed = [
                    d for d in svc.get("deployments", []) if d.get("rolloutState") == "FAILED"
                ]
                if failed:
                    raise StepFailed(
                        one_line(
                            f"{what}: deployment failed: {failed[0].get('rolloutStateReason', '')}"
                        )
                    )
                line = f"{service}: {self._state_line(svc)}"
                if line != shown:
                    ctx.output(line)
                    shown = line
                if self._stable(svc):
                    ctx.output(f"{what}: stable on {short_td(target)}")
                    return svc
        except StepTimeout:
            raise StepTimeout(
                f"{what}: not stable when the step's timeout ran out ({self._state_line(svc)})"
            ) from None
        raise AssertionError("unreachable")

    def verify(self, spec: EcsUpdateRun, ctx: StepContext, outcome: dict[str, Any]) -> None:
        ecs = aws_client(ctx, "ecs")
        cluster, service, cluster_hint, service_hint = ecs_names(spec, ctx)
        svc = describe_service(ecs, cluster, service, (cluster_hint, service_hint))
        target = outcome.get("task_definition", "")
        now = str(svc.get("taskDefinition", ""))
        what = f"ECS service {service} in cluster {cluster}"
        if now != target:
            raise StepFailed(f"{what}: on {short_td(now)}, not {short_td(target)}")
        if not self._stable(svc):
            raise StepFailed(f"{what}: not stable ({self._state_line(svc)})")

    def recheck(self, spec: EcsUpdateRun, ctx: StepContext, started: dict[str, Any]) -> Recheck:
        t = self.resolve(spec, ctx)
        what = f"ECS service {t.service} in cluster {t.cluster}"
        state = _intent_state(started)
        target = state.get("target_task_definition") or t.target
        if t.register is not None or target is None or t.current != target:
            return Recheck(False, f"{what} is on {short_td(t.current)}, not on the target yet")
        details = {
            "cluster": t.cluster,
            "service": t.service,
            "task_definition": t.current,
            "previous_task_definition": state.get("current_task_definition")
            or self._previous_of(aws_client(ctx, "ecs"), t, ctx),
        }
        if not self._stable(t.svc):
            return Recheck(
                False,
                f"{what} is on {short_td(t.current)} but not stable "
                f"({self._state_line(t.svc)}); run waits for it",
                details,
            )
        return Recheck(True, f"{what} is on {short_td(t.current)} and stable", details)

    @staticmethod
    def _previous_done(done: dict[str, Any]) -> str | None:
        previous = _from_done(done, "previous_task_definition")
        before = done.get("state_before")
        if not previous and isinstance(before, dict):
            previous = before.get("current_task_definition")
        return str(previous) if previous else None

    def undo_summary(self, spec: EcsUpdateRun, ctx: StepContext, done: dict[str, Any]) -> str:
        previous = self._previous_done(done)
        service = _from_done(done, "service") or spec.service or ctx.env.aws.ecs_service
        if not previous:
            return f"ECS service {service}: the previous task definition was not recorded"
        return f"ECS service {service} back to {short_td(str(previous))}"

    def undo(
        self, spec: EcsUpdateRun, ctx: StepContext, done: dict[str, Any], outcome: dict[str, Any]
    ) -> None:
        ecs = aws_client(ctx, "ecs")
        cluster, service, cluster_hint, service_hint = ecs_names(spec, ctx)
        cluster = _from_done(done, "cluster") or cluster
        service = _from_done(done, "service") or service
        hints = (cluster_hint, service_hint)
        what = f"ECS service {service} in cluster {cluster}"
        previous = self._previous_done(done)
        if not previous:
            raise StepFailed(
                f"{what}: the previous task definition was not recorded; set it by "
                "hand with aws ecs update-service"
            )
        svc = describe_service(ecs, cluster, service, hints)
        now = str(svc.get("taskDefinition", ""))
        outcome.update(cluster=cluster, service=service, task_definition=previous, replaced=now)
        if now == previous:
            outcome["skipped"] = f"{what} is already on {short_td(previous)}"
            ctx.output(outcome["skipped"])
            return
        ctx.check()
        call(what, ecs.update_service, cluster=cluster, service=service, taskDefinition=previous)
        ctx.output(f"{what}: {short_td(now)} -> {short_td(previous)}")
        self._wait_stable(ecs, cluster, service, previous, ctx, hints)
