"""What a ``step`` item runs: the ``run:`` of a plan item, or an environment's replacement for it
(``[environments.NAME.steps."ITEM_ID"]`` in cockpit.toml).

One strict struct per kind; the tag (``kind:``) selects the runner in :mod:`cockpit.steps`.
Targets a step does not name come from the environment's config (Kubernetes deployments and
namespace, the Alembic command, AWS resources), so one plan runs against staging and production.
Strings may hold ``{version}`` (the release's version), ``{release}`` (its id) and ``{env}``.

Only msgspec here: the plan loader and the config loader both validate against these types.
A new kind touches three files: its struct here (and in ``StepRun``), its line in
:data:`cockpit.steps.base.KINDS`, and its own module in ``cockpit/steps/``.
"""

# No `from __future__ import annotations`: msgspec reads these types at the first decode,
# and string annotations cost it ~3 ms of every start to evaluate.

import typing
from typing import Annotated, Any, Literal

import msgspec

Arg = Annotated[str, msgspec.Meta(min_length=1)]
Seconds = Annotated[float, msgspec.Meta(gt=0, le=86_400)]
Url = Annotated[str, msgspec.Meta(pattern=r"^https?://[^\s/]+")]
EnvVarName = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]


class Strict(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, frozen=True):
    """The base of every struct the plans and cockpit.toml are read into: a key it does not
    know is a typing mistake (one line naming it), and what was read never changes."""


class _Run(Strict, frozen=True, tag_field="kind"):
    @property
    def kind(self) -> str:
        return str(type(self).__struct_config__.tag)


class ShellRun(_Run, frozen=True, kw_only=True, tag="shell"):
    """Run a program (no shell: ``argv`` is passed as is, each element rendered on its own, so a
    value never becomes shell syntax) and wait at most ``timeout`` seconds.

    ``check_argv`` (optional) exits 0 when the step's effect is already there: it is how an
    interrupted shell step is re-checked. ``undo_argv`` (optional) reverses it in a rollback.
    ``inherit`` names the cockpit's environment variables the program gets even though they hold
    secrets (see :mod:`cockpit.secrets`); the rest of those are left out.
    """

    argv: list[Arg]
    timeout: Seconds
    env: dict[EnvVarName, str] = msgspec.field(default_factory=dict)
    inherit: list[EnvVarName] = msgspec.field(default_factory=list)
    cwd: str = ""
    check_argv: list[Arg] = msgspec.field(default_factory=list)
    undo_argv: list[Arg] = msgspec.field(default_factory=list)


class TagRun(_Run, frozen=True, tag="tag"):
    """Tag the release's version in git (the environment's repository): preflight, an annotated
    (signed when configured) tag, and with ``push`` one atomic push of the branch and the tag.
    The version is the release's; ``cockpit tag`` or the tagging screen may choose another."""

    push: bool = True


class KubernetesRun(_Run, frozen=True, kw_only=True, tag="kubernetes"):
    """A change to Deployments in the environment's cluster (``kubernetes.context``,
    ``kubernetes.namespace``), watched until the rollout completes as ``kubectl rollout status``
    would say.

    ``set_image``: ``image`` (e.g. ``registry.example.com/api:{version}``) for ``container`` (empty:
    every container whose image has the same repository) of each of ``deployments`` (empty: the
    environment's ``kubernetes.deployments``). ``apply``: the manifest file ``manifest`` (a
    ConfigMap or a Deployment, YAML). ``restart``: ``kubectl rollout restart``.

    A paused Deployment is refused before any write, unless ``resume_paused``: then the step
    resumes it (``spec.paused: false``) with its change, and undo pauses it again.
    """

    action: Literal["set_image", "apply", "restart"]
    deployments: list[Arg] = msgspec.field(default_factory=list)
    image: str = ""
    container: str = ""
    manifest: str = ""
    resume_paused: bool = False
    timeout: Seconds = 600.0


class AlembicRun(_Run, frozen=True, tag="alembic"):
    """``alembic upgrade TARGET`` with the application's own command (``alembic.command``,
    ``alembic.cwd``, database URL from ``alembic.database_url_env``); undo ``downgrade`` to the
    revision recorded before the upgrade."""

    target: Arg = "head"
    timeout: Seconds = 1800.0


class RdsSnapshotRun(_Run, frozen=True, tag="rds_snapshot"):
    """A manual snapshot of ``instance`` (empty: ``aws.rds_instance``) named after the release
    and the item, waited until available."""

    instance: str = ""
    timeout: Seconds = 3600.0


class S3SyncRun(_Run, frozen=True, kw_only=True, tag="s3_sync"):
    """Upload the build directory ``source`` to ``bucket`` (empty: ``aws.s3_bucket``) under
    ``prefix``: new and changed files (size and MD5), and with ``delete`` the objects no longer in
    ``source``; ``workers`` parallel uploads."""

    source: Arg
    bucket: str = ""
    prefix: str = ""
    delete: bool = False
    workers: Annotated[int, msgspec.Meta(ge=1, le=64)] = 16
    timeout: Seconds = 1800.0


class CloudFrontInvalidationRun(_Run, frozen=True, tag="cloudfront_invalidation"):
    """Invalidate ``paths`` in ``distribution`` (empty: ``aws.cloudfront_distribution``), polled
    until complete."""

    distribution: str = ""
    paths: list[Arg] = msgspec.field(default_factory=lambda: ["/*"])
    timeout: Seconds = 1800.0


class EcsUpdateRun(_Run, frozen=True, tag="ecs_update"):
    """Point the ECS service (``aws.ecs_cluster`` / ``aws.ecs_service`` unless named here) at a new
    task definition: ``task_definition`` (family:revision or ARN), or, when empty, a new revision
    of the current one with ``image`` for ``container``. Waited until stable; undo goes back to the
    previous task definition."""

    cluster: str = ""
    service: str = ""
    task_definition: str = ""
    image: str = ""
    container: str = ""
    timeout: Seconds = 1800.0


class HttpCheck(Strict, frozen=True):
    """One endpoint: ``url`` (absolute, or a path joined to the step's ``base_url``), the status
    it must answer and how long it may take."""

    url: Arg
    status: Annotated[int, msgspec.Meta(ge=100, le=599)] = 200
    max_latency_ms: Annotated[float, msgspec.Meta(gt=0, le=600_000)] = 1000.0


class HttpChecksRun(_Run, frozen=True, kw_only=True, tag="http_checks"):
    """GET each of ``checks`` (as the seed's ``/health`` and ``/api/v1/datasets``); all must
    answer their status within their latency. ``attempts`` tries, ``interval`` seconds apart,
    before the step fails (services take a moment after a restart)."""

    base_url: str = ""
    checks: list[HttpCheck]
    attempts: Annotated[int, msgspec.Meta(ge=1, le=100)] = 3
    interval: Annotated[float, msgspec.Meta(ge=0, le=600)] = 2.0
    timeout: Seconds = 120.0


StepRun = (
    ShellRun
    | TagRun
    | KubernetesRun
    | AlembicRun
    | RdsSnapshotRun
    | S3SyncRun
    | CloudFrontInvalidationRun
    | EcsUpdateRun
    | HttpChecksRun
)


def registry(union: Any) -> dict[str, type[msgspec.Struct]]:
    """Tag -> struct, for a union of tagged structs (the names a loader accepts)."""
    members = typing.get_args(union) or (union,)
    return {str(cls.__struct_config__.tag): cls for cls in members}


STEP_KINDS: dict[str, type[msgspec.Struct]] = registry(StepRun)


def run_urls(run: msgspec.Struct) -> list[tuple[tuple[str | int, ...], str]]:
    """The URLs a step's arguments hold, each with its path inside the run (``http_checks``'
    ``base_url`` and each check's ``url``): the loaders refuse a credential in any of them."""
    if not isinstance(run, HttpChecksRun):
        return []
    checks = [(("checks", i, "url"), check.url) for i, check in enumerate(run.checks)]
    return [(("base_url",), run.base_url), *checks]


# What to do instead of a credential in a check's URL: the checks send none.
CHECK_URL_ADVICE = "url.remove_check"  # (the catalog's words)
