"""The boto3 client every AWS step kind (and the CloudWatch metrics source) shares, and what the
kinds have in common around it: botocore errors turned into one :class:`StepFailed` line, the
preview's rendering of an API call, the resource a step names or else its environment's, the
ids made from the release, the tags every created resource carries, and the poll loop.

Clients come from the environment's ``[aws]`` table: ``profile`` and ``region`` for the session,
``endpoints.SERVICE`` or else ``endpoint_url`` (LocalStack, an on-premise S3, moto in tests), and a
botocore ``Config`` with ``connect_timeout``, ``read_timeout`` and ``max_attempts`` (standard
retry mode), so every call is bounded. Credentials stay with boto3 (profile files, environment,
instance role): nothing here reads, prints or records them. boto3 is imported on first use.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from cockpit.events import redact_text
from cockpit.steps.base import StepContext, StepFailed, StepTimeout

if TYPE_CHECKING:
    from cockpit.config import AwsConfig

# First and longest pause between two polls of a waited resource (snapshot, invalidation, service).
POLL_SECONDS = 2.0
POLL_MAX_SECONDS = 15.0


_clients: dict[tuple[Any, ...], Any] = {}
_clients_lock = threading.Lock()


def endpoint_for(aws: AwsConfig, service: str) -> str | None:
    """The endpoint of ``service``: ``aws.endpoints.SERVICE``, else ``aws.endpoint_url``, else
    AWS's own (None)."""
    return aws.endpoints.get(service) or aws.endpoint_url or None


def aws_client(ctx: StepContext, service: str, *, pool: int = 10) -> Any:
    """A boto3 client for ``service`` in the step's environment (cached: clients are thread-safe
    and creating one costs tens of milliseconds)."""
    aws = ctx.env.aws
    endpoint = endpoint_for(aws, service)
    key = (
        service,
        aws.profile,
        aws.region,
        endpoint,
        aws.connect_timeout,
        aws.read_timeout,
        aws.max_attempts,
        pool,
    )
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = _make_client(aws, service, endpoint, pool)
            _clients[key] = client
    return client


def _make_client(aws: AwsConfig, service: str, endpoint: str | None, pool: int) -> Any:
    import boto3.session
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, NoRegionError, ProfileNotFound

    try:
        session = boto3.session.Session(
            profile_name=aws.profile or None, region_name=aws.region or None
        )
        config = Config(
            connect_timeout=aws.connect_timeout,
            read_timeout=aws.read_timeout,
            retries={"max_attempts": aws.max_attempts, "mode": "standard"},
            max_pool_connections=pool,
        )
        return session.client(service, endpoint_url=endpoint, config=config)
    except ProfileNotFound:
        raise StepFailed(
            f"AWS profile {aws.profile!r}: not found in the AWS config files "
            "(aws.profile in cockpit.toml)"
        ) from None
    except NoRegionError:
        raise StepFailed(
            f"AWS {service}: no region set (aws.region in cockpit.toml, or AWS_REGION)"
        ) from None
    except (BotoCoreError, ValueError) as exc:
        raise StepFailed(one_line(f"AWS {service}: cannot create a client: {exc}")) from None


def one_line(text: str) -> str:
    return redact_text(" ".join(str(text).split()))


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore ``ClientError`` ("" for anything else)."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code") or "")
    return ""


def aws_error(exc: BaseException, what: str) -> StepFailed:
    """One line for a botocore exception about ``what`` (``RDS instance app-db``)."""
    from botocore.exceptions import (
        ClientError,
        ConnectionClosedError,
        ConnectTimeoutError,
        EndpointConnectionError,
        NoCredentialsError,
        ReadTimeoutError,
    )

    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = error.get("Code") or "error"
        message = error.get("Message") or ""
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        text = f"{what}: {code}: {message}" if message else f"{what}: {code} (HTTP {status})"
    elif isinstance(exc, NoCredentialsError):
        text = (
            f"{what}: no AWS credentials found (set aws.profile in cockpit.toml, or "
            "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY in the environment)"
        )
    elif isinstance(exc, ReadTimeoutError):
        text = f"{what}: no answer in time (aws.read_timeout in cockpit.toml): {exc}"
    elif isinstance(exc, ConnectTimeoutError | EndpointConnectionError | ConnectionClosedError):
        text = f"{what}: cannot reach AWS: {exc}"
    else:
        text = f"{what}: {type(exc).__name__}: {exc}"
    return StepFailed(one_line(text))


def call(what: str, method: Callable[..., Any], **kwargs: Any) -> Any:
    """``method(**kwargs)``, botocore errors turned into one :class:`StepFailed` line."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return method(**kwargs)
    except (ClientError, BotoCoreError) as exc:
        raise aws_error(exc, what) from None


def api(name: str, **params: Any) -> str:
    """An API call as the preview shows it: ``rds.create_db_snapshot(DBInstanceIdentifier='x')``."""
    return f"{name}({', '.join(f'{k}={v!r}' for k, v in params.items())})"


def region(client: Any) -> str:
    return str(client.meta.region_name or "the default region")


def pick(
    ctx: StepContext, spec_value: str, config_value: str, spec_key: str, config_key: str, what: str
) -> tuple[str, str]:
    """The resource the step names, else the environment's; with where it came from, for errors."""
    if spec_value:
        return ctx.render(spec_value), f"{spec_key} in the step"
    if config_value:
        return config_value, f"aws.{config_key} in cockpit.toml"
    raise StepFailed(
        f"{what}: none named (set aws.{config_key} for environment {ctx.env_name} in "
        f"cockpit.toml, or {spec_key} in the step)"
    )


def digest(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:8]


def iso(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value or "")


def human_bytes(size: float) -> str:
    """``512 B``, ``3.4 KB``, ``12.0 MB`` (powers of 1000, as the AWS console shows sizes)."""
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"


def wait_loop(ctx: StepContext, what: str) -> Iterator[None]:
    """Yields before each poll; sleeps between polls (growing to :data:`POLL_MAX_SECONDS`),
    cancel-aware; out of time, :class:`StepTimeout` naming ``what()``."""
    interval = POLL_SECONDS
    while True:
        yield
        try:
            ctx.sleep(interval)
        except StepTimeout:
            raise StepTimeout(f"{what}: still not ready when the step's timeout ran out") from None
        interval = min(interval * 1.5, POLL_MAX_SECONDS)


_TAG_VALUE_RE = re.compile(r"[^\w .:/=+\-@]")


def _tag_value(value: str) -> str:
    return _TAG_VALUE_RE.sub("_", value)[:256]


def release_tags(ctx: StepContext) -> dict[str, str]:
    """The tags every resource a step creates carries (AWS's allowed characters only)."""
    return {
        "cockpit:release": _tag_value(ctx.release_id),
        "cockpit:version": _tag_value(ctx.version),
        "cockpit:operator": _tag_value(ctx.operator),
        "cockpit:environment": _tag_value(ctx.env_name),
        "cockpit:item": _tag_value(ctx.item_id),
    }
