"""What a ``check`` item asks the engine to look at: one strict struct per probe kind, tagged by
``probe:`` (the kind's name). The runners are in :mod:`cockpit.probes`, one module per kind.

Every probe has a ``timeout`` (seconds): the total deadline of the look, after which it fails
saying so (it never hangs). Targets a probe does not name come from the environment's config
(the Prometheus URL, the AWS profile and region, the Kubernetes context, the Alembic command),
so one plan checks staging and production.

Only msgspec here: the plan loader and the config loader (an environment's ``checks`` table)
both validate against these types. A new kind touches three files: its struct here (and in
``Probe``), its line in :data:`cockpit.probes.base.KINDS`, and its module in ``cockpit/probes/``.
"""

# No `from __future__ import annotations`: msgspec reads these types at the first decode,
# and string annotations cost it ~3 ms of every start to evaluate.

from typing import Annotated, Literal

import msgspec

from cockpit.plan.runs import Arg, EnvVarName, Seconds, Strict, Url, registry

Percent = Annotated[float, msgspec.Meta(ge=0, le=100)]
Hours = Annotated[float, msgspec.Meta(gt=0, le=24 * 366)]
Port = Annotated[int, msgspec.Meta(ge=1, le=65535)]


class _Probe(Strict, frozen=True, tag_field="probe"):
    @property
    def name(self) -> str:
        return str(type(self).__struct_config__.tag)


class GitCleanProbe(_Probe, frozen=True, tag="git_clean"):
    """The working tree of the environment's repository has no uncommitted changes."""

    timeout: Seconds = 30.0


class GitBranchProbe(_Probe, frozen=True, tag="git_branch"):
    """HEAD is on a branch the environment may release from (``git.branches`` in cockpit.toml),
    or on one of ``branches`` when the plan lists them."""

    branches: list[Arg] = msgspec.field(default_factory=list)
    timeout: Seconds = 30.0


class CommandProbe(_Probe, frozen=True, tag="command"):
    """A program exits 0. ``argv`` is a list, never a shell string."""

    argv: list[Arg]
    timeout: Seconds = 60.0


class HttpProbe(_Probe, frozen=True, tag="http"):
    """A GET on ``url`` answers ``status``."""

    url: Url
    status: Annotated[int, msgspec.Meta(ge=100, le=599)] = 200
    timeout: Seconds = 10.0


class FileExistsProbe(_Probe, frozen=True, tag="file_exists"):
    path: Arg
    timeout: Seconds = 10.0


class FileYoungerThanProbe(_Probe, frozen=True, tag="file_younger_than"):
    """``path`` exists and was modified less than ``hours`` ago (e.g. a fresh backup)."""

    path: Arg
    hours: Hours
    timeout: Seconds = 10.0


class MetricProbe(_Probe, frozen=True, kw_only=True, tag="metric"):
    """One number compared with a threshold: ``query`` is PromQL (``source: prometheus``, the
    environment's ``metrics.prometheus_url``), a CloudWatch metric name (``cloudwatch``, with
    ``namespace``, ``dimensions`` and ``stat``; empty: ``metrics.cloudwatch``'s) or a host query
    (``host``: ``cpu``, ``memory``, ``disk[:PATH]``, ``network[:IFACE]``). It passes when the value
    is at most ``max`` and at least ``min``; with ``window`` (seconds) every value over that
    window must be (the worst one is shown). No value at all fails (NO DATA is never 0)."""

    query: Arg
    source: Literal["prometheus", "cloudwatch", "host"] = "prometheus"
    max: float | None = None
    min: float | None = None
    window: Annotated[float, msgspec.Meta(ge=0, le=86_400 * 31)] = 0.0
    unit: str = ""
    scale: Annotated[float, msgspec.Meta(gt=0)] = 1.0
    namespace: str = ""
    dimensions: dict[str, str] = msgspec.field(default_factory=dict)
    stat: str = "Average"
    period: Annotated[int, msgspec.Meta(ge=1, le=86_400)] = 60
    timeout: Seconds = 15.0


class AlarmsProbe(_Probe, frozen=True, tag="alarms"):
    """No CloudWatch alarm in ``ALARM`` among ``names`` (each must exist) and those whose name
    starts with ``prefix`` (at least one must); clients from the environment's ``[aws]``."""

    names: list[Arg] = msgspec.field(default_factory=list)
    prefix: str = ""
    timeout: Seconds = 30.0


class TlsProbe(_Probe, frozen=True, tag="tls"):
    """The certificate ``host``:``port`` presents for ``server_name`` (SNI; empty: ``host``)
    verifies (against ``ca_file``, or the system's trust store) and expires in more than
    ``days`` days."""

    host: Arg
    port: Port = 443
    server_name: str = ""
    days: Annotated[float, msgspec.Meta(ge=0, le=3650)] = 30.0
    ca_file: str = ""
    verify: bool = True
    timeout: Seconds = 10.0


class SqlProbe(_Probe, frozen=True, kw_only=True, tag="sql"):
    """A read-only query against the database whose URL is in the variable ``url_env``.

    ``form``: ``value`` (the query gives one value: equal to ``expect``, within ``min`` /
    ``max``, or equal to what the same query gives on the database in ``compare_env``, as
    record counts source vs target); ``no_rows`` (an integrity query: the rows it gives are the
    violations); ``foreign_keys`` (rows violating a foreign key, counted by the database:
    SQLite's ``foreign_key_check``, PostgreSQL's constraints; no ``query``)."""

    url_env: EnvVarName
    form: Literal["value", "no_rows", "foreign_keys"] = "value"
    query: str = ""
    expect: int | float | str | None = None
    min: float | None = None
    max: float | None = None
    compare_env: EnvVarName | None = None
    timeout: Seconds = 60.0


class CoverageProbe(_Probe, frozen=True, tag="coverage"):
    """The coverage report at ``path`` (coverage.py JSON, or Cobertura / coverage.py XML) says at
    least ``min_percent`` of the code is covered."""

    path: Arg
    min_percent: Percent = 90.0
    timeout: Seconds = 10.0


class KubernetesProbe(_Probe, frozen=True, tag="kubernetes"):
    """Every one of ``deployments`` (empty: ``kubernetes.deployments``, else all in the
    namespace) is available, none of their pods is in ``CrashLoopBackOff`` (or an image pull
    back-off), and with ``capacity`` the nodes' allocatable CPU and memory hold the pods a new
    ReplicaSet adds at once (its ``maxSurge``) with the pod template's requests."""

    deployments: list[Arg] = msgspec.field(default_factory=list)
    capacity: bool = False
    timeout: Seconds = 30.0


class AlembicProbe(_Probe, frozen=True, tag="alembic"):
    """The application's database (``[alembic]`` of the environment) has no pending revision, or
    exactly the revisions listed in ``pending`` (a pre-check before the migration step)."""

    pending: list[Arg] = msgspec.field(default_factory=list)
    timeout: Seconds = 120.0


class BackupProbe(_Probe, frozen=True, kw_only=True, tag="backup"):
    """A backup younger than ``hours``: the newest available RDS snapshot of ``instance`` (empty:
    ``aws.rds_instance``), or with ``path`` the newest file matching it (a glob)."""

    hours: Hours
    instance: str = ""
    path: str = ""
    timeout: Seconds = 30.0


class CredentialsProbe(_Probe, frozen=True, tag="credentials"):
    """The environment's AWS credentials work: STS ``GetCallerIdentity`` answers (the account
    and the ARN are shown, never a key), for ``account`` when one is named."""

    account: Annotated[str, msgspec.Meta(pattern=r"^(\d{12})?$")] = ""
    timeout: Seconds = 30.0


Probe = (
    GitCleanProbe
    | GitBranchProbe
    | CommandProbe
    | HttpProbe
    | FileExistsProbe
    | FileYoungerThanProbe
    | MetricProbe
    | AlarmsProbe
    | TlsProbe
    | SqlProbe
    | CoverageProbe
    | KubernetesProbe
    | AlembicProbe
    | BackupProbe
    | CredentialsProbe
)

# The loader accepts exactly these names; cockpit.probes keys its runners on the same names.
PROBES: dict[str, type[msgspec.Struct]] = registry(Probe)
