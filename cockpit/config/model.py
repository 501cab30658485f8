"""``cockpit.toml``: where it is found, its strict schema, and one-line errors.

The file is found nearest-first: ``--config``, ``$COCKPIT_CONFIG``, ``./cockpit.toml``, then the
user config directory. With none found the embedded default applies (SQLite in the user data
directory). Unknown keys and wrong types are errors naming the file, the line and the key::

    cockpit.toml:12: environments.production.kubernetes.namespace: expected a string

Secrets never come from the file: the database password comes from ``COCKPIT_DATABASE_PASSWORD``
(or the whole URL from ``COCKPIT_DATABASE_URL``) and tokens from environment variables named in the
file (``token_env``).
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec

from cockpit.errors import ConfigError
from cockpit.schema_errors import ENUM_RE, EXPECTED_RE, UNKNOWN_RE, type_word
from cockpit.steps.spec import StepRun

CONFIG_NAME = "cockpit.toml"
APP_NAME = "release-cockpit"

_NAME_RE = r"^[a-z][a-z0-9_-]{0,31}$"
EnvName = Annotated[str, msgspec.Meta(pattern=_NAME_RE)]
PositiveSeconds = Annotated[float, msgspec.Meta(gt=0, le=86_400 * 7)]
Percent = Annotated[float, msgspec.Meta(ge=0, le=100)]
HHMM = Annotated[str, msgspec.Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]


class _Strict(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, frozen=True):
    pass


class DatabaseConfig(_Strict, frozen=True):
    """Where the event log lives. Empty ``url``: SQLite in the user data directory."""

    url: str = ""
    # SQLite: how long an append waits for another writer before giving up.
    busy_timeout_ms: Annotated[int, msgspec.Meta(ge=0, le=600_000)] = 10_000


class AuditConfig(_Strict, frozen=True):
    """Where the chain head is written after each append (keep it outside the database)."""

    checkpoint: str = ""


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


class Config(_Strict, frozen=True):
    """The whole ``cockpit.toml``."""

    database: DatabaseConfig = msgspec.field(default_factory=DatabaseConfig)
    audit: AuditConfig = msgspec.field(default_factory=AuditConfig)
    change_window: ChangeWindowConfig = msgspec.field(default_factory=ChangeWindowConfig)
    # Role name -> the operators (login names) who hold it, e.g. approver = ["bob", "carol"].
    roles: dict[EnvName, list[str]] = msgspec.field(default_factory=dict)
    environments: dict[EnvName, EnvironmentConfig] = msgspec.field(default_factory=dict)


@dataclass(frozen=True)
class LoadedConfig:
    """A validated config and where it came from (``None`` for the embedded default)."""

    config: Config
    path: Path | None

    @property
    def base_dir(self) -> Path:
        """Relative paths in the file are relative to the file's own directory."""
        return self.path.parent if self.path else Path.cwd()

    def resolve(self, value: str) -> Path:
        path = Path(value).expanduser()
        return path if path.is_absolute() else self.base_dir / path

    def environment(self, name: str) -> EnvironmentConfig:
        try:
            return self.config.environments[name]
        except KeyError:
            known = ", ".join(sorted(self.config.environments)) or "none configured"
            where = display_path(self.path) if self.path else "the default config"
            raise ConfigError(
                f"{where}: environment {name!r} is not configured (known: {known})"
            ) from None


def user_config_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME))


def user_data_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME))


def find_config(explicit: str | None = None) -> Path | None:
    """The config file to use, nearest first; ``None`` when there is none (embedded default).

    An explicitly named file (``--config`` or ``$COCKPIT_CONFIG``) must exist.
    """
    for source, value in (
        ("--config", explicit),
        ("COCKPIT_CONFIG", os.environ.get("COCKPIT_CONFIG")),
    ):
        if value:
            path = Path(value).expanduser()
            if not path.is_file():
                raise ConfigError(f"{path}: no such config file (from {source})")
            return path
    for candidate in (Path.cwd() / CONFIG_NAME, user_config_dir() / CONFIG_NAME):
        if candidate.is_file():
            return candidate
    return None


def load_config(explicit: str | None = None) -> LoadedConfig:
    """Find and validate the config; raise :class:`ConfigError` with one line on any problem."""
    path = find_config(explicit)
    if path is None:
        return LoadedConfig(Config(), None)
    return LoadedConfig(parse_config_file(path), path)


def display_path(path: Path) -> str:
    """A path as the operator typed it: relative when it is under the working directory."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def parse_config_file(path: Path) -> Config:
    shown = display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except PermissionError:
        raise ConfigError(f"{shown}: cannot read the file (permission denied)") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{shown}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(f"{shown}: cannot read the file ({exc.strerror})") from None
    return parse_config_text(text, shown)


_TOML_POS_RE = re.compile(r"^(?P<msg>.*?) \(at line (?P<line>\d+), column \d+\)$")


def parse_config_text(text: str, source: str = CONFIG_NAME) -> Config:
    """Validate TOML text against the schema. ``source`` names the file in errors."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = _TOML_POS_RE.match(str(exc))
        if m:
            raise ConfigError(f"{source}:{m['line']}: not valid TOML: {m['msg']}") from None
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    _check_numbers(raw, (), text, source)
    _check_steps(raw, text, source)
    # Mappings with free keys are checked one entry at a time so errors name the entry.
    for table, item_type in (("environments", EnvironmentConfig), ("roles", list[str])):
        entries = raw.get(table)
        if isinstance(entries, dict):
            for key, value in entries.items():
                if not re.match(_NAME_RE, key):
                    path: tuple[str, ...] = (table, key)
                    raise ConfigError(
                        f"{_where(source, text, path)}: {table}.{key}: names are lowercase "
                        "letters, digits, '-' and '_', starting with a letter"
                    )
                _convert(value, item_type, (table, key), text, source)
    config: Config = _convert(raw, Config, (), text, source)
    _check_semantics(config, text, source)
    return config


def _check_steps(raw: dict[str, Any], text: str, source: str) -> None:
    """``environments.NAME.steps."ITEM"``: each entry on its own, so an error names the item."""
    from cockpit.steps.spec import STEP_KINDS

    envs = raw.get("environments")
    for name, env in (envs or {}).items() if isinstance(envs, dict) else ():
        steps = env.get("steps") if isinstance(env, dict) else None
        if not isinstance(steps, dict):
            continue
        for item_id, value in steps.items():
            where = _where(source, text, ("environments", name, "steps", *item_id.split(".")))
            key = f'environments.{name}.steps."{item_id}"'
            if not re.match(r"^[a-z][a-z0-9_-]*(\.[a-z0-9][a-z0-9_-]*)*$", item_id):
                raise ConfigError(f'{where}: {key}: not a plan item id (e.g. "t0.deploy")')
            kind = value.get("kind") if isinstance(value, dict) else None
            if kind not in STEP_KINDS:
                raise ConfigError(
                    f"{where}: {key}.kind: {kind!r} is not a step kind "
                    f"(use one of: {', '.join(STEP_KINDS)})"
                )
            try:
                msgspec.convert(value, STEP_KINDS[kind], strict=True)
            except msgspec.ValidationError as exc:
                message = str(exc)
                at = _AT_RE.search(message)
                field = at["path"].lstrip(".") if at else ""
                message = message[: at.start()] if at else message
                message = message[:1].lower() + message[1:]
                raise ConfigError(
                    f"{where}: {key}{'.' + field if field else ''}: {message}"
                ) from None


def _check_numbers(value: Any, path: tuple[str, ...], text: str, source: str) -> None:
    """NaN and infinities are valid TOML but never a valid setting."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(
            f"{_where(source, text, path)}: {'.'.join(path)}: {value} is not a usable number"
        )
    if isinstance(value, dict):
        for key, item in value.items():
            _check_numbers(item, (*path, str(key)), text, source)
    elif isinstance(value, list):
        for item in value:
            _check_numbers(item, path, text, source)


_AT_RE = re.compile(r" - at `\$(?P<path>[^`]*)`$")


def _convert(value: Any, kind: Any, prefix: tuple[str, ...], text: str, source: str) -> Any:
    try:
        return msgspec.convert(value, kind, strict=True)
    except msgspec.ValidationError as exc:
        message = str(exc)
        at = _AT_RE.search(message)
        rel = at["path"] if at else ""
        message = message[: at.start()] if at else message
        parts = [*prefix, *(p for p in re.split(r"[.\[\]]", rel) if p and p != "...")]
        unknown = UNKNOWN_RE.match(message)
        expected = EXPECTED_RE.match(message)
        if unknown:
            parts.append(unknown["field"])
            allowed = _allowed_keys(kind, parts[len(prefix) : -1])
            problem = "unknown key" + (f" (allowed: {', '.join(allowed)})" if allowed else "")
        elif expected and "matching regex" in expected["rest"]:
            problem = "has the wrong form" + _form_hint(message)
        elif expected:
            want, rest = expected["want"], expected["rest"].split(", got")[0]
            problem = f"expected {type_word(want, 'a table')}{rest}"
        elif enum := ENUM_RE.match(message):
            choices = _literal_choices(kind, parts[len(prefix) :])
            problem = f"{enum['value']} is not allowed" + (
                f" (use one of: {', '.join(choices)})" if choices else ""
            )
        else:
            problem = message[:1].lower() + message[1:]
        key = ".".join(parts) or "(top level)"
        raise ConfigError(f"{_where(source, text, tuple(parts))}: {key}: {problem}") from None


def _form_hint(message: str) -> str:
    if "[01][0-9]" in message:
        return " (use HH:MM, 24-hour)"
    if "[a-z]" in message:
        return " (lowercase letters, digits, '-' and '_')"
    return ""


def _literal_choices(kind: Any, path: list[str]) -> list[str]:
    """The allowed values of the ``Literal`` field at ``path``, for a helpful error."""
    current = _type_at(kind, path)
    return [str(v) for v in getattr(current, "__args__", ())]


def _type_at(kind: Any, path: list[str]) -> Any:
    current = kind
    for part in path:
        if isinstance(current, type) and issubclass(current, msgspec.Struct):
            match = next((f for f in msgspec.structs.fields(current) if f.name == part), None)
            if match is None:
                return None
            current = match.type
        elif getattr(current, "__origin__", None) is dict:
            current = current.__args__[1]
        else:
            return None
    return current


def _allowed_keys(kind: Any, path: list[str]) -> list[str]:
    """The field names of the struct at ``path`` inside ``kind``, for a helpful error."""
    current = _type_at(kind, path)
    if isinstance(current, type) and issubclass(current, msgspec.Struct):
        return [f.name for f in msgspec.structs.fields(current)]
    return []


def _where(source: str, text: str, path: tuple[str, ...]) -> str:
    line = locate(text, path)
    return f"{source}:{line}" if line else source


_HEADER_RE = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY_RE = re.compile(r"^\s*([A-Za-z0-9_.\"' -]+?)\s*=")


def _split_key(key: str) -> tuple[str, ...]:
    return tuple(part.strip().strip("\"'") for part in key.split("."))


def locate(text: str, path: tuple[str, ...]) -> int | None:
    """The line (1-based) where ``path`` is set in TOML ``text``: the key's own line, else the
    line of the nearest enclosing table. Good enough for config files people write by hand."""
    if not path:
        return None
    best: tuple[int, int] | None = None  # (depth matched, line)
    table: tuple[str, ...] = ()
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER_RE.match(line)
        if header:
            table = _split_key(header.group(1))
            full = table
        else:
            key = _KEY_RE.match(line)
            if not key:
                continue
            full = table + _split_key(key.group(1))
        depth = 0
        for mine, theirs in zip(full, path, strict=False):
            if mine != theirs:
                break
            depth += 1
        if depth == len(full) and (best is None or depth > best[0]):
            best = (depth, number)
            if depth == len(path):
                return number
    return best[1] if best else None


def _check_semantics(config: Config, text: str, source: str) -> None:
    """Rules a type cannot express."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    window = config.change_window
    path: tuple[str, ...]
    try:
        ZoneInfo(window.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        path = ("change_window", "timezone")
        raise ConfigError(
            f"{_where(source, text, path)}: change_window.timezone: unknown time zone "
            f"{window.timezone!r} (use a name such as 'Asia/Tokyo' or 'UTC')"
        ) from None
    if window.start == window.end:
        path = ("change_window", "end")
        raise ConfigError(
            f"{_where(source, text, path)}: change_window.end: the window cannot be empty"
        )
    url = config.database.url
    if url and _url_password(url):
        path = ("database", "url")
        raise ConfigError(
            f"{_where(source, text, path)}: database.url: holds a password; remove it and set "
            "COCKPIT_DATABASE_PASSWORD in the environment instead"
        )
    for name, env in config.environments.items():
        for field, value in (
            ("metrics.prometheus_url", env.metrics.prometheus_url),
            ("aws.endpoint_url", env.aws.endpoint_url),
            *((f"aws.endpoints.{svc}", url) for svc, url in env.aws.endpoints.items()),
            ("app_url", env.app_url),
            ("alembic.database_url", env.alembic.database_url),
        ):
            if value and _url_password(value):
                path = ("environments", name, *field.split("."))
                raise ConfigError(
                    f"{_where(source, text, path)}: environments.{name}.{field}: holds a "
                    "password; remove it (tokens come from the variable named by token_env)"
                )
        metrics = env.metrics
        for kind in ("cpu", "memory", "resource", "error_rate"):
            warning = getattr(metrics, f"{kind}_warning")
            critical = getattr(metrics, f"{kind}_critical")
            if warning > critical:
                path = ("environments", name, "metrics", f"{kind}_warning")
                raise ConfigError(
                    f"{_where(source, text, path)}: environments.{name}.metrics.{kind}_warning: "
                    f"{warning} is above {kind}_critical ({critical})"
                )
        if metrics.stale_after_seconds >= metrics.no_data_after_seconds:
            path = ("environments", name, "metrics", "stale_after_seconds")
            raise ConfigError(
                f"{_where(source, text, path)}: environments.{name}.metrics.stale_after_seconds: "
                f"must be below no_data_after_seconds ({metrics.no_data_after_seconds:g})"
            )
        seen_panels: set[str] = set()
        for panel in metrics.panels:
            if panel.name in seen_panels:
                path = ("environments", name, "metrics", "panels")
                raise ConfigError(
                    f"{_where(source, text, path)}: environments.{name}.metrics.panels: "
                    f"two panels named {panel.name!r}"
                )
            seen_panels.add(panel.name)
        for field, argv in (("alembic.command", env.alembic.command),):
            if not argv or not all(argv):
                path = ("environments", name, *field.split("."))
                raise ConfigError(
                    f"{_where(source, text, path)}: environments.{name}.{field}: "
                    "needs at least the program name (an argv list)"
                )
        if not env.git.branches:
            path = ("environments", name, "git", "branches")
            raise ConfigError(
                f"{_where(source, text, path)}: environments.{name}.git.branches: list at least "
                "one branch pattern that may be released here"
            )
        if "{version}" not in env.git.tag_format:
            path = ("environments", name, "git", "tag_format")
            raise ConfigError(
                f"{_where(source, text, path)}: environments.{name}.git.tag_format: must contain "
                "{version}"
            )


def _url_password(url: str) -> str | None:
    from urllib.parse import urlsplit

    try:
        return urlsplit(url).password
    except ValueError:
        return None


def database_url(loaded: LoadedConfig) -> str:
    """The database URL in force: ``COCKPIT_DATABASE_URL``, then the file, then SQLite in the
    user data directory. ``COCKPIT_DATABASE_PASSWORD`` is added to a URL without one."""
    url = os.environ.get("COCKPIT_DATABASE_URL") or loaded.config.database.url
    if not url:
        return "sqlite:///" + str(user_data_dir() / "cockpit.db")
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        relative = url.removeprefix("sqlite:///")
        if relative and relative != ":memory:":
            url = "sqlite:///" + str(loaded.resolve(relative))
    password = os.environ.get("COCKPIT_DATABASE_PASSWORD")
    if password and not _url_password(url):
        from sqlalchemy.engine import make_url

        url = make_url(url).set(password=password).render_as_string(hide_password=False)
    return url


def checkpoint_path(loaded: LoadedConfig, db_url: str) -> Path:
    """Where the chain head is written: ``audit.checkpoint``, else beside the SQLite file, else
    in the user data directory (named after the database so two logs never share one)."""
    if loaded.config.audit.checkpoint:
        return loaded.resolve(loaded.config.audit.checkpoint)
    if db_url.startswith("sqlite:///"):
        db_file = Path(db_url.removeprefix("sqlite:///"))
        return db_file.with_name(db_file.name + ".checkpoint.json")
    import hashlib

    # Named after the URL without any password, so ~/.pgpass and COCKPIT_DATABASE_PASSWORD
    # users of one database share one checkpoint.
    digest = hashlib.sha256(_without_password(db_url).encode()).hexdigest()[:12]
    return user_data_dir() / f"checkpoint-{digest}.json"


def _without_password(url: str) -> str:
    return _replace_password(url, "")


def redact_url(url: str) -> str:
    """A database URL fit for the screen or a log: the password replaced by ``***``."""
    return _replace_password(url, ":***")


def _replace_password(url: str, replacement: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(":" + parts.password + "@", replacement + "@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def json_schema() -> dict[str, Any]:
    """A JSON Schema of ``cockpit.toml`` for editors (Taplo, Even Better TOML)."""
    schema: dict[str, Any] = msgspec.json.schema(Config)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "cockpit.toml"
    return schema
