"""The typed ``cockpit.toml``: one strict msgspec struct per table, with the defaults that apply
when a key (or the whole file) is left out. Environments, git policy, Kubernetes, Alembic, AWS,
metrics, roles, identity (signed decisions), the change window and notifications
(:mod:`.notify`); a step's replacement per
environment is a plan run (:mod:`cockpit.plan.runs`). Only msgspec here: finding, reading and
checking the file is :mod:`.loader`'s job.
"""

# No `from __future__ import annotations`: msgspec reads these types at the first decode,
# and string annotations cost it ~3 ms of every start to evaluate.

from typing import Annotated, Literal

import msgspec

from cockpit.config.notify import NotifyConfig
from cockpit.plan.model import ITEM_ID_RE
from cockpit.plan.probes import Probe
from cockpit.plan.runs import StepRun
from cockpit.plan.runs import Strict as _Strict

NAME_RE = r"^[a-z][a-z0-9_-]{0,31}$"
EnvName = Annotated[str, msgspec.Meta(pattern=NAME_RE)]
PositiveSeconds = Annotated[float, msgspec.Meta(gt=0, le=86_400 * 7)]
Percent = Annotated[float, msgspec.Meta(ge=0, le=100)]
HHMM = Annotated[str, msgspec.Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]


class DatabaseConfig(_Strict, frozen=True):
    """Where the event log lives. Empty ``url``: SQLite in the user data directory."""

    url: str = ""
    # SQLite: how long an append waits for another writer before giving up.
    busy_timeout_ms: Annotated[int, msgspec.Meta(ge=0, le=600_000)] = 10_000


class AuditConfig(_Strict, frozen=True):
    """Where the chain head is written after each append (keep it outside the database)."""

    checkpoint: str = ""


class IdentityConfig(_Strict, frozen=True):
    """Who acted, as proven: SSH-signed decisions (docs/team.md). ``allowed_signers`` is a file
    in git's / ssh-keygen's format (principals and their keys; relative to this file): when set,
    every gate approval and rejection is signed and four-eyes counts only verified principals.
    ``signing_key``: the key to sign with (a private key file, or a ``.pub`` whose key is in the
    agent); empty: ``$COCKPIT_SIGNING_KEY``, else the first agent key the file knows. Events at
    or below ``required_after_seq`` need no signature (adopting signatures on an existing log)."""

    allowed_signers: str = ""
    signing_key: str = ""
    required_after_seq: Annotated[int, msgspec.Meta(ge=0, le=2**53 - 1)] = 0


class ChangeWindowConfig(_Strict, frozen=True):
    """The regular change window. Default from the release procedure: monthly, third Wednesday,
    01:00-05:00 Asia/Tokyo."""

    timezone: str = "Asia/Tokyo"
    frequency: Literal["monthly", "weekly"] = "monthly"
    weekday: Literal[
        "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"
    ] = "wednesday"
    week: Annotated[int, msgspec.Meta(ge=1, le=5)] = 3
    start: HHMM = "01:00"
    end: HHMM = "05:00"
    # A T-0 step while an earlier phase is unfinished: "reason" (allowed with a recorded reason)
    # or "strict" (refused until every earlier phase is settled).
    phase_order: Literal["reason", "strict"] = "reason"


# A moment in a one-off window or blackout: ISO 8601 local time (``2026-12-27T01:00``) in the
# entry's ``timezone``; a blackout may give whole days (``2026-12-28``).
LocalMoment = Annotated[str, msgspec.Meta(pattern=r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2})?$")]


class OneOffWindowConfig(_Strict, frozen=True):
    """An extra window outside the schedule (``[[extra_windows]]``), for ``plans`` (empty: all)."""

    start: LocalMoment
    end: LocalMoment
    timezone: str = ""  # empty: change_window.timezone
    plans: list[str] = msgspec.field(default_factory=list)
    reason: str = ""


class BlackoutConfig(_Strict, frozen=True):
    """A freeze (``[[blackouts]]``): no window counts while it lasts; ``end`` is exclusive (a
    date alone: the start of that day). For ``plans`` (empty: all)."""

    start: LocalMoment
    end: LocalMoment
    reason: str
    timezone: str = ""  # empty: change_window.timezone
    plans: list[str] = msgspec.field(default_factory=list)


class RehearsalConfig(_Strict, frozen=True):
    """The point of no return: a rollback must start by the window's end minus the rehearsed
    rollback time plus ``margin_percent`` of it; a warning ``warn_minutes`` before."""

    margin_percent: Annotated[float, msgspec.Meta(ge=0, le=1000)] = 20.0
    warn_minutes: Annotated[int, msgspec.Meta(ge=0, le=24 * 60)] = 15


class GitConfig(_Strict, frozen=True):
    """The repository released from, and which branches may be released to this environment."""

    repo: str = "."
    remote: str = "origin"
    branches: list[str] = msgspec.field(default_factory=lambda: ["main"])
    tag_format: str = "v{version}"
    signing: Literal["none", "ssh", "gpg"] = "none"
    # ssh: the private key file (its .pub beside it); gpg: the key id. Empty: git's user.signingkey.
    signing_key: str = ""
    # ssh: the allowed-signers file `git verify-tag` checks against; empty: made from the .pub.
    allowed_signers: str = ""
    # Keep a Changelog file the release section is written into (relative to repo); "" = none.
    changelog: str = "CHANGELOG.md"
    # Seconds any one git command may take (fetch, ls-remote, push).
    timeout_seconds: PositiveSeconds = 60.0


class KubernetesConfig(_Strict, frozen=True):
    """Where the Kubernetes steps go: a kubeconfig file (empty: ``$KUBECONFIG`` or
    ``~/.kube/config``; relative to this file) and its ``context`` (empty: its current one), or
    the pod's own service account with ``in_cluster``."""

    kubeconfig: str = ""
    context: str = ""
    namespace: str = "default"
    deployments: list[str] = msgspec.field(default_factory=list)
    in_cluster: bool = False
    # The application's image with {version}, e.g. "registry.example.com/api:{version}":
    # set_image steps that name no image of their own use it.
    image: str = ""


class AlembicConfig(_Strict, frozen=True):
    """The application's own migrations, run as its own command (an argv list, never a shell
    string). The database URL is read from the environment variable named here."""

    command: list[str] = msgspec.field(default_factory=lambda: ["alembic"])
    cwd: str = "."
    database_url_env: str = ""
    # Used when that variable is not set: a URL that holds no password (SQLite, or a server
    # reached with ~/.pgpass or peer authentication). A password here is refused.
    database_url: str = ""


class AwsConfig(_Strict, frozen=True):
    """Where the AWS steps go. Credentials come from the profile (``~/.aws``) or the environment,
    never from this file."""

    region: str = ""
    profile: str = ""
    endpoint_url: str = ""
    # Per-service endpoint (LocalStack, on-premise S3): service name -> URL, e.g. s3 = "http://...";
    # a service not listed uses endpoint_url (empty: AWS itself).
    endpoints: dict[Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9-]+$")], str] = msgspec.field(
        default_factory=dict
    )
    # Every AWS call: seconds to connect, seconds to wait for an answer, attempts in all.
    connect_timeout: PositiveSeconds = 10.0
    read_timeout: PositiveSeconds = 60.0
    max_attempts: Annotated[int, msgspec.Meta(ge=1, le=10)] = 3
    rds_instance: str = ""
    s3_bucket: str = ""
    cloudfront_distribution: str = ""
    ecs_cluster: str = ""
    ecs_service: str = ""


PanelSource = Literal["prometheus", "cloudwatch", "kubernetes", "host"]
# What a panel measures decides its default thresholds and which rollback trigger watches it.
PanelKind = Literal["error_rate", "latency", "cpu", "memory", "resource", "availability", "count"]


class PanelConfig(_Strict, frozen=True):
    """One metrics panel. ``query`` by source: PromQL (prometheus); the CloudWatch metric name
    (cloudwatch; ``per`` names a second metric to divide by, giving a percentage); ``ready``,
    ``restarts`` or ``not_ready`` (kubernetes); ``cpu``, ``memory``, ``disk[:PATH]``,
    ``network[:IFACE]`` (host). Empty ``warning`` / ``critical``: the defaults of its ``kind``."""

    name: EnvName
    query: str
    source: PanelSource = "prometheus"
    title: str = ""
    kind: PanelKind = "count"
    unit: str = ""
    # The raw value times this (a ratio to percent: 100; seconds to milliseconds: 1000).
    scale: Annotated[float, msgspec.Meta(gt=0)] = 1.0
    warning: float | None = None
    critical: float | None = None
    # cloudwatch only: the denominator metric, the statistic, and overrides of [cloudwatch].
    per: str = ""
    stat: str = "Average"
    namespace: str = ""
    dimensions: dict[str, str] = msgspec.field(default_factory=dict)


def _default_panels() -> list[PanelConfig]:
    """The four panels of the seeds' watch list, for a Prometheus scraping the application's
    own HTTP metrics (``http_requests_total`` with a ``status`` label and the
    ``http_request_duration_seconds`` histogram) and node_exporter."""
    return [
        PanelConfig(
            name="error_rate",
            title="Error rate",
            kind="error_rate",
            unit="%",
            query='100 * sum(rate(http_requests_total{status=~"5.."}[1m]))'
            " / sum(rate(http_requests_total[1m]))",
        ),
        PanelConfig(
            name="latency_p95",
            title="Latency p95",
            kind="latency",
            unit="ms",
            query="1000 * histogram_quantile(0.95, "
            "sum by (le) (rate(http_request_duration_seconds_bucket[1m])))",
        ),
        PanelConfig(
            name="cpu",
            title="CPU",
            kind="cpu",
            unit="%",
            query='100 * (1 - avg(rate(node_cpu_seconds_total{mode="idle"}[1m])))',
        ),
        PanelConfig(
            name="memory",
            title="Memory",
            kind="memory",
            unit="%",
            query="100 * (1 - sum(node_memory_MemAvailable_bytes)"
            " / sum(node_memory_MemTotal_bytes))",
        ),
    ]


class CloudWatchConfig(_Strict, frozen=True):
    """CloudWatch ``GetMetricData`` for panels with ``source = "cloudwatch"`` (clients from the
    environment's ``[aws]``). The ``*_alarm`` values are the seed's alarms and the warning
    thresholds of CloudWatch panels of that kind."""

    namespace: str = "AWS/ECS"
    dimensions: dict[str, str] = msgspec.field(default_factory=dict)
    period: Annotated[int, msgspec.Meta(ge=1, le=86_400)] = 300
    evaluation_periods: Annotated[int, msgspec.Meta(ge=1, le=100)] = 2
    cpu_alarm: Percent = 80.0
    memory_alarm: Percent = 85.0
    response_time_alarm_ms: Annotated[float, msgspec.Meta(gt=0, le=3_600_000)] = 1000.0
    error_rate_alarm: Percent = 1.0


class MetricsConfig(_Strict, frozen=True):
    """Live metrics (:mod:`cockpit.metrics`): sources, panels, thresholds and rollback triggers.
    Defaults are the seeds' numbers: post-release warnings at error rate 0.1 %, response 200 ms,
    resources 70 %; rollback triggers at latency 3x the baseline, error rate 10 %, resources
    90 %, each held for ``consecutive_samples`` samples."""

    prometheus_url: str = ""
    # Name of the environment variable holding a bearer token; the token itself never sits here.
    token_env: str = ""
    refresh_seconds: PositiveSeconds = 2.0
    timeout_seconds: PositiveSeconds = 5.0
    panels: list[PanelConfig] = msgspec.field(default_factory=_default_panels)
    cloudwatch: CloudWatchConfig = msgspec.field(default_factory=CloudWatchConfig)
    cpu_warning: Percent = 70.0
    cpu_critical: Percent = 90.0
    memory_warning: Percent = 70.0
    memory_critical: Percent = 90.0
    # Other resources (disk, a panel of kind "resource").
    resource_warning: Percent = 70.0
    resource_critical: Percent = 90.0
    error_rate_warning: Percent = 0.1
    error_rate_critical: Percent = 10.0
    latency_warning_ms: Annotated[float, msgspec.Meta(gt=0, le=3_600_000)] = 200.0
    # Latency trigger: this many times the baseline captured before T-0.
    latency_factor: Annotated[float, msgspec.Meta(gt=1, le=1000)] = 3.0
    # A trigger fires after this many samples in a row at its level (one spike does not).
    consecutive_samples: Annotated[int, msgspec.Meta(ge=1, le=100)] = 3
    baseline_window_seconds: PositiveSeconds = 900.0
    watch_hours: Annotated[float, msgspec.Meta(gt=0, le=24 * 30)] = 24.0
    # Demo and rehearsal only: the watch's clock runs this many times faster (1440: 24 h in one
    # minute), recorded in watch.started and shown beside the time left. Refused in production.
    watch_speed: Annotated[float, msgspec.Meta(ge=1, le=100_000)] = 1.0
    # Start the rollback plan when a trigger fires, without asking (default: ask).
    automatic_rollback: bool = False
    # A panel whose last value is older than this is "stale"; older than no_data_after: "NO DATA".
    stale_after_seconds: PositiveSeconds = 10.0
    no_data_after_seconds: PositiveSeconds = 60.0


class EnvironmentConfig(_Strict, frozen=True):
    """One target environment (``staging``, ``production``)."""

    description: str = ""
    # A rehearsal environment: every event recorded against it says ``rehearsal``.
    rehearsal: bool = False
    production: bool = False
    # Every decision on this environment's releases is signed (needs [identity] allowed_signers).
    sign_all: bool = False
    # The application's base URL: HTTP-check steps without a base_url of their own use it.
    app_url: str = ""
    git: GitConfig = msgspec.field(default_factory=GitConfig)
    kubernetes: KubernetesConfig = msgspec.field(default_factory=KubernetesConfig)
    alembic: AlembicConfig = msgspec.field(default_factory=AlembicConfig)
    aws: AwsConfig = msgspec.field(default_factory=AwsConfig)
    metrics: MetricsConfig = msgspec.field(default_factory=MetricsConfig)
    # Plan item id -> what that step runs in this environment, replacing the plan's ``run``
    # (e.g. a staging rehearsal on local steps): ``[environments.staging.steps."t0.deploy"]``.
    steps: dict[str, StepRun] = msgspec.field(default_factory=dict)
    # Plan item id -> what that check item probes in this environment (which database, which
    # Prometheus, which host), replacing the plan's ``check``: ``[environments.staging.checks.
    # "t0.backup"]`` with ``probe = "backup"`` and its settings (cockpit.probes).
    checks: dict[Annotated[str, msgspec.Meta(pattern=ITEM_ID_RE)], Probe] = msgspec.field(
        default_factory=dict
    )


class Config(_Strict, frozen=True):
    """The whole ``cockpit.toml``."""

    database: DatabaseConfig = msgspec.field(default_factory=DatabaseConfig)
    audit: AuditConfig = msgspec.field(default_factory=AuditConfig)
    identity: IdentityConfig = msgspec.field(default_factory=IdentityConfig)
    change_window: ChangeWindowConfig = msgspec.field(default_factory=ChangeWindowConfig)
    # Plan name -> its own schedule (``[windows.migration]``: 01:00-09:00); others use
    # change_window. One-off extra windows and blackouts (a blackout overrides any window).
    windows: dict[EnvName, ChangeWindowConfig] = msgspec.field(default_factory=dict)
    extra_windows: list[OneOffWindowConfig] = msgspec.field(default_factory=list)
    blackouts: list[BlackoutConfig] = msgspec.field(default_factory=list)
    rehearsal: RehearsalConfig = msgspec.field(default_factory=RehearsalConfig)
    # Role name -> the operators (login names) who hold it, e.g. approver = ["bob", "carol"].
    roles: dict[EnvName, list[str]] = msgspec.field(default_factory=dict)
    environments: dict[EnvName, EnvironmentConfig] = msgspec.field(default_factory=dict)
    # Notices to people: channels, routes by severity and event, retries (docs/notifications.md).
    notify: NotifyConfig = msgspec.field(default_factory=NotifyConfig)
