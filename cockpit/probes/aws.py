"""The AWS client a probe uses: the step kinds' client (:mod:`cockpit.steps.aws`, the
environment's ``[aws]`` profile, region and endpoints) with its timeouts capped by what is left of
the probe's deadline and one attempt, and botocore's errors as one :class:`CannotLook` line."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cockpit.probes.base import CannotLook, ProbeContext


def client(ctx: ProbeContext, service: str) -> Any:
    import msgspec

    from cockpit.steps.aws import aws_client
    from cockpit.steps.base import StepFailed

    left = ctx.remaining()
    aws = msgspec.structs.replace(
        ctx.env.aws,
        connect_timeout=min(ctx.env.aws.connect_timeout, left),
        read_timeout=min(ctx.env.aws.read_timeout, left),
        max_attempts=1,
    )
    step = ctx.step_context()
    step.env = msgspec.structs.replace(ctx.env, aws=aws)
    try:
        return aws_client(step, service, pool=2)
    except StepFailed as exc:
        raise CannotLook(str(exc)) from None


def call(what: str, method: Callable[..., Any], **kwargs: Any) -> Any:
    """``method(**kwargs)``; a botocore error is one :class:`CannotLook` line naming ``what``."""
    from cockpit.steps.aws.client import call as step_call
    from cockpit.steps.base import StepFailed

    try:
        return step_call(what, method, **kwargs)
    except StepFailed as exc:
        raise CannotLook(str(exc)) from None


def pages(what: str, client: Any, operation: str, key: str, **kwargs: Any) -> list[Any]:
    """Every item under ``key`` of every page of ``operation`` (at most 50 pages)."""
    out: list[Any] = []
    token: str | None = None
    method = getattr(client, operation)
    for _page in range(50):
        answer = call(what, method, **kwargs, **({"NextToken": token} if token else {}))
        out.extend(answer.get(key, []))
        token = answer.get("NextToken")
        if not token:
            break
    return out
