"""What an ``ecs_update`` works on, read-only: the service as it runs now, its task definitions,
and the task definition it should run (:func:`resolve_target`): the one the step names, the
current one when it already has the step's image, an identical revision an earlier (interrupted)
run registered, or else the arguments of a new revision to register.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cockpit.steps.aws.client import aws_client, aws_error, error_code, pick, region
from cockpit.steps.base import StepContext, StepFailed

if TYPE_CHECKING:
    from cockpit.plan.runs import EcsUpdateRun


def short_td(arn: str) -> str:
    """``api:4`` from ``arn:aws:ecs:REGION:ACCOUNT:task-definition/api:4``."""
    return arn.rsplit("/", 1)[-1]


@dataclass
class EcsTarget:
    cluster: str
    service: str
    current: str  # the service's task definition ARN now
    target: str | None  # the ARN to point it at; None: a revision still to be registered
    register: dict[str, Any] | None  # register_task_definition's arguments, when one is needed
    container: str = ""
    image: str = ""
    old_image: str = ""
    hints: tuple[str, str] = ("", "")
    svc: dict[str, Any] = field(default_factory=dict)


def ecs_names(spec: EcsUpdateRun, ctx: StepContext) -> tuple[str, str, str, str]:
    """The cluster and the service the step names, else the environment's; with where each
    came from, for errors."""
    cluster, cluster_hint = pick(
        ctx, spec.cluster, ctx.env.aws.ecs_cluster, "cluster", "ecs_cluster", "ECS cluster"
    )
    service, service_hint = pick(
        ctx, spec.service, ctx.env.aws.ecs_service, "service", "ecs_service", "ECS service"
    )
    return cluster, service, cluster_hint, service_hint


def describe_service(
    ecs: Any, cluster: str, service: str, hints: tuple[str, str]
) -> dict[str, Any]:
    """The service (not INACTIVE), or one line saying the cluster or the service is not
    there and where its name came from (``hints``)."""
    from botocore.exceptions import BotoCoreError, ClientError

    what = f"ECS service {service} in cluster {cluster}"
    try:
        answer = ecs.describe_services(cluster=cluster, services=[service])
    except ClientError as exc:
        if error_code(exc) == "ClusterNotFoundException":
            raise StepFailed(
                f"ECS cluster {cluster}: not found in {region(ecs)} ({hints[0]})"
            ) from None
        raise aws_error(exc, what) from None
    except BotoCoreError as exc:
        raise aws_error(exc, what) from None
    found = [s for s in answer.get("services", []) if s.get("status") != "INACTIVE"]
    if not found:
        raise StepFailed(f"{what}: not found in {region(ecs)} ({hints[1]})")
    return dict(found[0])


def describe_task_definition(ecs: Any, name: str, hint: str) -> tuple[dict[str, Any], list[Any]]:
    """The task definition ``name`` (family, family:revision or ARN) and its tags."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        answer = ecs.describe_task_definition(taskDefinition=name, include=["TAGS"])
    except ClientError as exc:
        if error_code(exc) in ("ClientException", "InvalidParameterException"):
            raise StepFailed(
                f"ECS task definition {name}: not found in {region(ecs)} ({hint})"
            ) from None
        raise aws_error(exc, f"ECS task definition {name}") from None
    except BotoCoreError as exc:
        raise aws_error(exc, f"ECS task definition {name}") from None
    return dict(answer["taskDefinition"]), list(answer.get("tags") or [])


def register_args(ecs: Any, td: dict[str, Any]) -> dict[str, Any]:
    """The fields of a described task definition that register_task_definition accepts."""
    allowed = set(
        ecs.meta.service_model.operation_model("RegisterTaskDefinition").input_shape.members
    )
    allowed.discard("tags")
    return {k: v for k, v in td.items() if k in allowed and v not in (None, [], {})}


def resolve_target(spec: EcsUpdateRun, ctx: StepContext) -> EcsTarget:
    """Read-only: the service now and the task definition it should run."""
    ecs = aws_client(ctx, "ecs")
    cluster, service, cluster_hint, service_hint = ecs_names(spec, ctx)
    hints = (cluster_hint, service_hint)
    svc = describe_service(ecs, cluster, service, hints)
    current = str(svc.get("taskDefinition", ""))
    if spec.task_definition:
        wanted = ctx.render(spec.task_definition)
        td, _ = describe_task_definition(ecs, wanted, "task_definition in the step")
        return EcsTarget(
            cluster, service, current, td["taskDefinitionArn"], None, hints=hints, svc=svc
        )
    if not spec.image:
        raise StepFailed(
            f"ecs_update of {service}: set task_definition, or image (and container), in the step"
        )
    image = ctx.render(spec.image)
    td, _ = describe_task_definition(ecs, current, f"the task definition of service {service}")
    containers = td.get("containerDefinitions", [])
    names = [c.get("name", "") for c in containers]
    if spec.container:
        chosen = [c for c in containers if c.get("name") == spec.container]
        if not chosen:
            raise StepFailed(
                f"ECS task definition {short_td(current)}: no container {spec.container!r} "
                f"(it has {', '.join(names)}; container in the step)"
            )
    elif len(containers) == 1:
        chosen = containers
    else:
        raise StepFailed(
            f"ECS task definition {short_td(current)} has {len(containers)} containers "
            f"({', '.join(names)}): name one with container in the step"
        )
    container = chosen[0]["name"]
    old_image = chosen[0].get("image", "")
    found = EcsTarget(
        cluster,
        service,
        current,
        None,
        None,
        container=container,
        image=image,
        old_image=old_image,
        hints=hints,
        svc=svc,
    )
    if old_image == image:
        found.target = current
        return found
    args = register_args(ecs, td)
    args["containerDefinitions"] = [
        {**c, "image": image} if c.get("name") == container else c for c in containers
    ]
    # A revision identical to the one wanted, registered by an earlier (interrupted) run.
    latest, _ = describe_task_definition(ecs, td["family"], "the family of the service's task")
    if latest["taskDefinitionArn"] != current and register_args(ecs, latest) == args:
        found.target = latest["taskDefinitionArn"]
        return found
    found.register = args
    return found
