"""The AWS step kinds (boto3): an RDS snapshot before the deploy, an S3 sync of a build directory,
a CloudFront invalidation and an ECS service update.

Clients come from the environment's ``[aws]`` table: ``profile`` and ``region`` for the session,
``endpoints.SERVICE`` or else ``endpoint_url`` (LocalStack, an on-premise S3, moto in tests), and a
botocore ``Config`` with ``connect_timeout``, ``read_timeout`` and ``max_attempts`` (standard
retry mode), so every call is bounded. Credentials stay with boto3 (profile files, environment,
instance role): nothing here reads, prints or records them. boto3 is imported on first use.

Every kind is safe to run again after an interruption:

- **rds_snapshot**: the snapshot id is made from the environment, the release and the item
  (:func:`snapshot_id`), so a second run finds the snapshot the first one started and waits for
  it instead of creating another. No undo: the snapshot *is* the backup the T-0 backup item points
  at (``snapshot_id``, ``snapshot_arn`` in the outcome).
- **s3_sync**: the plan (uploads of new and changed files, deletions with ``delete``) is computed
  from the bucket each time, so a second run uploads only what is still missing. A file counts as
  changed when its size differs or its MD5 differs from the object's ETag (for a multipart ETag,
  the MD5 of 8 MiB parts, as the AWS CLI uploads; objects encrypted with SSE-KMS have ETags that
  are not MD5s and are always uploaded again). No undo: a resumed sync cannot know what the
  interrupted run overwrote, so "previous versions" could not be named honestly; roll back by
  syncing the previous build.
- **cloudfront_invalidation**: the ``CallerReference`` is made from the environment, the release,
  the item and the paths; an existing invalidation with that reference is found (among the
  distribution's 50 newest) and waited for instead of creating another (AWS itself also answers a
  repeated reference with the first invalidation). No undo (nothing to reverse).
- **ecs_update**: the service is pointed at ``task_definition`` or at a new revision of its current
  one with ``image`` for ``container``; an identical latest revision is reused rather than
  registered twice, and the revision registered carries the task definition it replaces as the tag
  ``cockpit:previous``, so a resumed run still knows where undo goes back to. Waited until stable
  as the ``services_stable`` waiter says (one deployment, running == desired). Undo points the
  service back at the previous task definition ("skipped" when it is already there).
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import queue
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cockpit.events import redact_text
from cockpit.steps.base import (
    Cancelled,
    Preview,
    Recheck,
    StepContext,
    StepFailed,
    StepKind,
    StepTimeout,
)

if TYPE_CHECKING:
    from cockpit.config import AwsConfig
    from cockpit.steps.spec import (
        CloudFrontInvalidationRun,
        EcsUpdateRun,
        RdsSnapshotRun,
        S3SyncRun,
    )

# First and longest pause between two polls of a waited resource (snapshot, invalidation, service).
POLL_SECONDS = 2.0
POLL_MAX_SECONDS = 15.0


# ---------------------------------------------------------------- clients and errors

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
        raise StepFailed(_one_line(f"AWS {service}: cannot create a client: {exc}")) from None


def _one_line(text: str) -> str:
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
    return StepFailed(_one_line(text))


def _call(what: str, method: Callable[..., Any], **kwargs: Any) -> Any:
    """``method(**kwargs)``, botocore errors turned into one :class:`StepFailed` line."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return method(**kwargs)
    except (ClientError, BotoCoreError) as exc:
        raise aws_error(exc, what) from None


def api(name: str, **params: Any) -> str:
    """An API call as the preview shows it: ``rds.create_db_snapshot(DBInstanceIdentifier='x')``."""
    return f"{name}({', '.join(f'{k}={v!r}' for k, v in params.items())})"


def _region(client: Any) -> str:
    return str(client.meta.region_name or "the default region")


def _pick(
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


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:8]


def _iso(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value or "")


def human_bytes(size: float) -> str:
    """``512 B``, ``3.4 KB``, ``12.0 MB`` (powers of 1000, as the AWS console shows sizes)."""
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"


def _wait_loop(ctx: StepContext, what: str) -> Iterator[None]:
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


# ---------------------------------------------------------------- RDS snapshot


def snapshot_id(ctx: StepContext) -> str:
    """``cockpit-production-r-1a2b3c4d-t0-backup-5e6f7a8b``: a valid RDS identifier (letters,
    digits, single hyphens, starting with a letter), the same on every run of this item of this
    release in this environment; the digest keeps ids apart that differ only in punctuation."""
    raw = f"{ctx.env_name}-{ctx.release_id}-{ctx.item_id}"
    base = re.sub(r"[^a-z0-9]+", "-", raw.lower()).strip("-")[:200].strip("-")
    return f"cockpit-{base}-{_digest(ctx.env_name, ctx.release_id, ctx.item_id)}"


class RdsSnapshotStep(StepKind):
    kind = "rds_snapshot"
    undoable = False
    undo_text = "no undo: the snapshot is the backup itself, and it is kept"

    def _target(self, spec: RdsSnapshotRun, ctx: StepContext) -> tuple[str, str]:
        return _pick(
            ctx, spec.instance, ctx.env.aws.rds_instance, "instance", "rds_instance", "RDS instance"
        )

    def _instance(self, rds: Any, instance: str, hint: str) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            found = rds.describe_db_instances(DBInstanceIdentifier=instance)["DBInstances"]
        except ClientError as exc:
            if error_code(exc) == "DBInstanceNotFound":
                raise StepFailed(
                    f"RDS instance {instance}: not found in {_region(rds)} ({hint})"
                ) from None
            raise aws_error(exc, f"RDS instance {instance}") from None
        except BotoCoreError as exc:
            raise aws_error(exc, f"RDS instance {instance}") from None
        if not found:
            raise StepFailed(f"RDS instance {instance}: not found in {_region(rds)} ({hint})")
        return dict(found[0])

    def _snapshot(self, rds: Any, snap: str) -> dict[str, Any] | None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            found = rds.describe_db_snapshots(DBSnapshotIdentifier=snap)["DBSnapshots"]
        except ClientError as exc:
            if error_code(exc) == "DBSnapshotNotFound":
                return None
            raise aws_error(exc, f"RDS snapshot {snap}") from None
        except BotoCoreError as exc:
            raise aws_error(exc, f"RDS snapshot {snap}") from None
        return dict(found[0]) if found else None

    @staticmethod
    def _check_owner(snap: dict[str, Any], instance: str) -> None:
        owner = snap.get("DBInstanceIdentifier", "")
        if owner and owner.lower() != instance.lower():
            raise StepFailed(
                f"RDS snapshot {snap['DBSnapshotIdentifier']}: exists but is of instance "
                f"{owner}, not {instance}; check the step's instance"
            )

    @staticmethod
    def _describe(snap: dict[str, Any]) -> str:
        percent = snap.get("PercentProgress")
        return f"{snap.get('Status', '?')}" + (f", {percent}%" if percent is not None else "")

    @staticmethod
    def _details(snap: dict[str, Any]) -> dict[str, Any]:
        return {
            "snapshot_id": snap.get("DBSnapshotIdentifier", ""),
            "snapshot_arn": snap.get("DBSnapshotArn", ""),
            "instance": snap.get("DBInstanceIdentifier", ""),
            "status": snap.get("Status", ""),
            "created": _iso(snap.get("SnapshotCreateTime")),
        }

    def _create_call(self, ctx: StepContext, instance: str, snap: str) -> dict[str, Any]:
        tags = [{"Key": k, "Value": v} for k, v in release_tags(ctx).items()]
        return {"DBInstanceIdentifier": instance, "DBSnapshotIdentifier": snap, "Tags": tags}

    def preview(self, spec: RdsSnapshotRun, ctx: StepContext) -> Preview:
        rds = aws_client(ctx, "rds")
        instance, hint = self._target(spec, ctx)
        snap_name = snapshot_id(ctx)
        wait = api("rds.describe_db_snapshots", DBSnapshotIdentifier=snap_name)
        wait += " until Status == 'available'"
        existing = self._snapshot(rds, snap_name)
        if existing is not None:
            self._check_owner(existing, instance)
            return Preview(
                summary=f"RDS snapshot {snap_name} exists ({self._describe(existing)}): "
                "wait for it",
                calls=[wait],
                lines=[
                    f"RDS instance {instance} ({_region(rds)})",
                    f"snapshot {snap_name} already exists: {self._describe(existing)}",
                    "run waits until it is available; nothing is created",
                ],
                state={
                    "instance": instance,
                    "snapshot_id": snap_name,
                    "exists": True,
                    "snapshot_status": existing.get("Status", ""),
                },
            )
        db = self._instance(rds, instance, hint)
        status = db.get("DBInstanceStatus", "?")
        if status != "available":
            raise StepFailed(
                f"RDS instance {instance}: status is {status}, not available; a snapshot cannot "
                "start now (wait and preview again)"
            )
        create = self._create_call(ctx, instance, snap_name)
        engine = f"{db.get('Engine', '?')} {db.get('EngineVersion', '')}".strip()
        return Preview(
            summary=f"snapshot RDS instance {instance} as {snap_name}",
            calls=[api("rds.create_db_snapshot", **create), wait],
            lines=[
                f"RDS instance {instance} ({_region(rds)}): {status}, {engine}, "
                f"{db.get('AllocatedStorage', '?')} GB",
                f"new manual snapshot {snap_name}",
                "tags: " + ", ".join(f"{t['Key']}={t['Value']}" for t in create["Tags"]),
                "waited until available; it is kept (no undo)",
            ],
            state={
                "instance": instance,
                "instance_status": status,
                "snapshot_id": snap_name,
                "exists": False,
            },
        )

    def run(self, spec: RdsSnapshotRun, ctx: StepContext, outcome: dict[str, Any]) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        rds = aws_client(ctx, "rds")
        instance, hint = self._target(spec, ctx)
        snap_name = snapshot_id(ctx)
        outcome.update(instance=instance, snapshot_id=snap_name)
        snap = self._snapshot(rds, snap_name)
        if snap is not None:
            self._check_owner(snap, instance)
            ctx.output(f"snapshot {snap_name} already exists ({self._describe(snap)}); waiting")
        else:
            db = self._instance(rds, instance, hint)
            status = db.get("DBInstanceStatus", "?")
            if status != "available":
                raise StepFailed(
                    f"RDS instance {instance}: status is {status}, not available; a snapshot "
                    "cannot start now"
                )
            ctx.check()
            ctx.output(f"creating snapshot {snap_name} of RDS instance {instance}")
            try:
                snap = rds.create_db_snapshot(**self._create_call(ctx, instance, snap_name))[
                    "DBSnapshot"
                ]
            except ClientError as exc:
                if error_code(exc) != "DBSnapshotAlreadyExists":
                    raise aws_error(exc, f"RDS snapshot {snap_name} of {instance}") from None
                snap = self._snapshot(rds, snap_name)
            except BotoCoreError as exc:
                raise aws_error(exc, f"RDS snapshot {snap_name} of {instance}") from None
            if snap is None:
                raise StepFailed(f"RDS snapshot {snap_name}: created but not found afterwards")
        outcome["snapshot_arn"] = snap.get("DBSnapshotArn", "")
        snap = self._wait(rds, snap_name, snap, ctx)
        outcome.update(self._details(snap))

    def _wait(
        self, rds: Any, snap_name: str, snap: dict[str, Any], ctx: StepContext
    ) -> dict[str, Any]:
        shown = ""
        for _ in _wait_loop(ctx, f"RDS snapshot {snap_name}"):
            status = snap.get("Status", "")
            line = f"snapshot {snap_name}: {self._describe(snap)}"
            if line != shown:
                ctx.output(line)
                shown = line
            if status == "available":
                return snap
            if status in ("failed", "error", "deleting", "deleted", "incompatible-restore"):
                raise StepFailed(f"RDS snapshot {snap_name}: status {status}")
            found = self._snapshot(rds, snap_name)
            if found is None:
                raise StepFailed(f"RDS snapshot {snap_name}: disappeared while being waited for")
            snap = found
        raise AssertionError("unreachable")

    def verify(self, spec: RdsSnapshotRun, ctx: StepContext, outcome: dict[str, Any]) -> None:
        snap_name = outcome.get("snapshot_id") or snapshot_id(ctx)
        snap = self._snapshot(aws_client(ctx, "rds"), snap_name)
        if snap is None:
            raise StepFailed(f"RDS snapshot {snap_name}: not found")
        if snap.get("Status") != "available":
            raise StepFailed(f"RDS snapshot {snap_name}: {self._describe(snap)}, not available")
        outcome.update(self._details(snap))

    def recheck(self, spec: RdsSnapshotRun, ctx: StepContext, started: dict[str, Any]) -> Recheck:
        snap_name = snapshot_id(ctx)
        snap = self._snapshot(aws_client(ctx, "rds"), snap_name)
        if snap is None:
            return Recheck(False, f"RDS snapshot {snap_name} does not exist; run creates it")
        if snap.get("Status") == "available":
            return Recheck(True, f"RDS snapshot {snap_name} is available", self._details(snap))
        return Recheck(
            False,
            f"RDS snapshot {snap_name} is {self._describe(snap)}; run waits for it "
            "(it does not create another)",
            self._details(snap),
        )


# ---------------------------------------------------------------- S3 sync

MULTIPART_CHUNK = 8 * 1024 * 1024  # the AWS CLI's default part size
READ_WHOLE = 16 * 1024 * 1024  # files up to this size are read into memory before the PUT
DELETE_BATCH = 1000  # delete_objects' limit
PREVIEW_LINES = 20

_mime = mimetypes.MimeTypes()  # the built-in table only: the same types on every machine
for _ext, _type in (
    (".mjs", "text/javascript"),
    (".js", "text/javascript"),
    (".map", "application/json"),
    (".webmanifest", "application/manifest+json"),
    (".wasm", "application/wasm"),
    (".woff", "font/woff"),
    (".woff2", "font/woff2"),
    (".webp", "image/webp"),
    (".avif", "image/avif"),
    (".svg", "image/svg+xml"),
):
    _mime.add_type(_type, _ext)


def content_type(name: str) -> str:
    """The Content-Type an upload gets, from the file name (octet-stream when unknown)."""
    return _mime.guess_type(name, strict=False)[0] or "application/octet-stream"


@dataclass(frozen=True)
class Upload:
    key: str
    path: Path
    size: int
    reason: str  # "new" or "changed"


@dataclass(frozen=True)
class Remote:
    key: str
    size: int
    etag: str


@dataclass
class SyncPlan:
    """What a sync will do: ``uploads`` (new and changed files) and ``deletes`` (objects no longer
    in the source, only with ``delete``)."""

    bucket: str
    prefix: str
    source: Path
    files: int
    remote_objects: int
    uploads: list[Upload] = field(default_factory=list)
    deletes: list[Remote] = field(default_factory=list)

    @property
    def upload_bytes(self) -> int:
        return sum(u.size for u in self.uploads)

    @property
    def delete_bytes(self) -> int:
        return sum(d.size for d in self.deletes)

    @property
    def empty(self) -> bool:
        return not self.uploads and not self.deletes

    @property
    def where(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def counts(self) -> dict[str, Any]:
        return {
            "bucket": self.bucket,
            "prefix": self.prefix,
            "source": str(self.source),
            "files": self.files,
            "remote_objects": self.remote_objects,
            "uploads": len(self.uploads),
            "new": sum(1 for u in self.uploads if u.reason == "new"),
            "changed": sum(1 for u in self.uploads if u.reason == "changed"),
            "upload_bytes": self.upload_bytes,
            "deletes": len(self.deletes),
            "delete_bytes": self.delete_bytes,
            "unchanged": self.files - len(self.uploads),
        }

    def totals(self) -> str:
        c = self.counts()
        return (
            f"{c['uploads']} uploads ({human_bytes(c['upload_bytes'])}: {c['new']} new, "
            f"{c['changed']} changed), {c['deletes']} deletions "
            f"({human_bytes(c['delete_bytes'])}), {c['unchanged']} unchanged"
        )


def file_etag(path: Path, size: int, parts: int) -> str:
    """The ETag S3 gives ``path`` uploaded in one part (``parts`` <= 0: its MD5) or in ``parts``
    parts of :data:`MULTIPART_CHUNK` (MD5 of the parts' MD5s, ``-N``)."""
    with path.open("rb") as handle:
        if parts <= 0:
            digest = hashlib.md5(usedforsecurity=False)
            while chunk := handle.read(1024 * 1024):
                digest.update(chunk)
            return digest.hexdigest()
        sums = b""
        while chunk := handle.read(MULTIPART_CHUNK):
            sums += hashlib.md5(chunk, usedforsecurity=False).digest()
        return f"{hashlib.md5(sums, usedforsecurity=False).hexdigest()}-{parts}"


def _same_content(path: Path, size: int, etag: str) -> bool:
    if "-" in etag:
        count = etag.partition("-")[2]
        if not count.isdigit() or -(-size // MULTIPART_CHUNK) != int(count):
            return False
        return file_etag(path, size, int(count)) == etag
    return file_etag(path, size, 0) == etag


def _prefix(value: str) -> str:
    value = value.strip("/")
    return value + "/" if value else ""


def local_files(source: Path) -> dict[str, tuple[Path, int]]:
    """Relative POSIX path -> (path, size) of every file under ``source`` (links to files
    followed, links to directories not)."""
    found: dict[str, tuple[Path, int]] = {}
    for root, dirs, names in os.walk(source):
        dirs.sort()
        for name in sorted(names):
            path = Path(root, name)
            try:
                info = path.stat()
            except OSError:
                raise StepFailed(
                    f"s3_sync source {path}: cannot read it (a broken link?); fix the build "
                    "directory"
                ) from None
            if not os.path.isfile(path):
                continue
            found[path.relative_to(source).as_posix()] = (path, info.st_size)
    return found


class S3SyncStep(StepKind):
    kind = "s3_sync"
    undoable = False
    undo_text = (
        "no undo: a resumed sync cannot know which objects it overwrote; roll back by syncing "
        "the previous build"
    )

    def _client(self, ctx: StepContext, workers: int = 10) -> Any:
        return aws_client(ctx, "s3", pool=max(10, workers))

    def plan(self, spec: S3SyncRun, ctx: StepContext, client: Any | None = None) -> SyncPlan:
        """What a sync would do now (read-only)."""
        bucket, hint = _pick(
            ctx, spec.bucket, ctx.env.aws.s3_bucket, "bucket", "s3_bucket", "S3 bucket"
        )
        prefix = _prefix(ctx.render(spec.prefix))
        source = ctx.resolve(spec.source)
        if not source.is_dir():
            raise StepFailed(
                f"s3_sync source {source}: no such directory (source in the step; relative to "
                "the config file's directory)"
            )
        client = client or self._client(ctx, spec.workers)
        files = local_files(source)
        remote = self._list(client, bucket, prefix, hint)
        plan = SyncPlan(bucket, prefix, source, len(files), len(remote))
        for rel, (path, size) in files.items():
            key = prefix + rel
            have = remote.get(key)
            if have is None:
                plan.uploads.append(Upload(key, path, size, "new"))
            elif have.size != size or not _same_content(path, size, have.etag):
                plan.uploads.append(Upload(key, path, size, "changed"))
        if spec.delete:
            wanted = {prefix + rel for rel in files}
            plan.deletes = [r for key, r in sorted(remote.items()) if key not in wanted]
        return plan

    def _list(self, client: Any, bucket: str, prefix: str, hint: str) -> dict[str, Remote]:
        from botocore.exceptions import BotoCoreError, ClientError

        found: dict[str, Remote] = {}
        try:
            pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            for page in pages:
                for obj in page.get("Contents", ()):
                    key = obj["Key"]
                    found[key] = Remote(
                        key, int(obj.get("Size", 0)), obj.get("ETag", "").strip('"')
                    )
        except ClientError as exc:
            if error_code(exc) == "NoSuchBucket":
                raise StepFailed(f"S3 bucket {bucket}: not found ({hint})") from None
            raise aws_error(exc, f"S3 bucket {bucket}") from None
        except BotoCoreError as exc:
            raise aws_error(exc, f"S3 bucket {bucket}") from None
        return found

    def preview(self, spec: S3SyncRun, ctx: StepContext) -> Preview:
        plan = self.plan(spec, ctx)
        calls = [api("s3.list_objects_v2", Bucket=plan.bucket, Prefix=plan.prefix)]
        if plan.uploads:
            calls.append(
                f"s3.put_object(Bucket={plan.bucket!r}, Key={plan.prefix!r} + path, Body=file, "
                f"ContentType=by extension) x {len(plan.uploads)} "
                f"({human_bytes(plan.upload_bytes)}, {spec.workers} in parallel)"
            )
        if plan.deletes:
            batches = -(-len(plan.deletes) // DELETE_BATCH)
            calls.append(
                f"s3.delete_objects(Bucket={plan.bucket!r}, Delete={{'Objects': [...], "
                f"'Quiet': True}}) x {batches} ({len(plan.deletes)} keys, "
                f"{human_bytes(plan.delete_bytes)})"
            )
        lines = [f"{plan.source} -> {plan.where} ({plan.files} files)"]
        rows = [(f"upload {u.reason}", u.key, u.size) for u in plan.uploads]
        rows += [("delete", d.key, d.size) for d in plan.deletes]
        width = max((len(r[0]) for r in rows), default=0)
        for action, key, size in rows[:PREVIEW_LINES]:
            lines.append(f"  {action.ljust(width)}  {key}  {human_bytes(size)}")
        if len(rows) > PREVIEW_LINES:
            lines.append(f"  ... and {len(rows) - PREVIEW_LINES} more")
        lines.append(plan.totals() if not plan.empty else "nothing to upload or delete")
        summary = (
            f"sync {plan.source.name}/ to {plan.where}: {plan.totals()}"
            if not plan.empty
            else f"{plan.where} already matches {plan.source.name}/ ({plan.files} files)"
        )
        return Preview(summary=summary, calls=calls, lines=lines, state=plan.counts())

    def run(self, spec: S3SyncRun, ctx: StepContext, outcome: dict[str, Any]) -> None:
        client = self._client(ctx, spec.workers)
        plan = self.plan(spec, ctx, client)
        outcome.update(plan.counts(), uploaded=0, uploaded_bytes=0, deleted=0)
        if plan.empty:
            ctx.output(f"{plan.where} already matches {plan.source} ({plan.files} files)")
            return
        ctx.output(f"{plan.source} -> {plan.where}: {plan.totals()}")
        if plan.uploads:
            self._upload(client, plan, spec.workers, ctx, outcome)
        if plan.deletes:
            self._delete(client, plan, ctx, outcome)

    def _upload(
        self, client: Any, plan: SyncPlan, workers: int, ctx: StepContext, outcome: dict[str, Any]
    ) -> None:
        """Parallel PUTs: ``workers`` threads take the next file from one list and report each
        result on a queue; this thread reports progress and stops them on cancel or timeout."""
        todo = iter(plan.uploads)
        todo_lock = threading.Lock()
        stop = threading.Event()
        results: queue.Queue[tuple[Upload, BaseException | None]] = queue.Queue()

        def work() -> None:
            while not stop.is_set():
                with todo_lock:
                    item = next(todo, None)
                if item is None:
                    return
                try:
                    self._put(client, plan.bucket, item)
                except BaseException as exc:  # reported to the main thread
                    results.put((item, exc))
                    return
                results.put((item, None))

        threads = [
            threading.Thread(target=work, name=f"s3sync-{n}", daemon=True)
            for n in range(min(workers, len(plan.uploads)))
        ]
        for thread in threads:
            thread.start()
        total, total_bytes = len(plan.uploads), plan.upload_bytes
        done = done_bytes = 0
        failure: tuple[Upload, BaseException] | None = None
        shown = time.monotonic()
        stopping: StepFailed | None = None
        try:
            while done < total:
                try:
                    item, error = results.get(timeout=0.2)
                except queue.Empty:
                    if not any(t.is_alive() for t in threads) and results.empty():
                        break
                else:
                    if error is not None:
                        failure = (item, error)
                        break
                    done += 1
                    done_bytes += item.size
                try:
                    ctx.check()
                except StepFailed as exc:
                    stopping = exc
                    break
                if time.monotonic() - shown >= 0.5:
                    shown = time.monotonic()
                    ctx.output(self._progress(done, total, done_bytes, total_bytes))
        finally:
            stop.set()
            for thread in threads:
                thread.join()
        # Uploads that finished while the threads were stopping.
        while True:
            try:
                item, error = results.get_nowait()
            except queue.Empty:
                break
            if error is None:
                done += 1
                done_bytes += item.size
            elif failure is None:
                failure = (item, error)
        outcome.update(uploaded=done, uploaded_bytes=done_bytes)
        ctx.output(self._progress(done, total, done_bytes, total_bytes))
        if failure is not None:
            item, error = failure
            if isinstance(error, StepFailed):
                raise error
            raise aws_error(
                error, f"S3 upload of {item.path.name} to s3://{plan.bucket}/{item.key}"
            )
        left = f"after {done} of {total} uploads; run again to upload the {total - done} left"
        if isinstance(stopping, Cancelled):
            raise Cancelled(f"cancelled by the operator {left}")
        if stopping is not None:
            raise StepTimeout(f"S3 sync to {plan.where}: timed out {left}")
        if done < total:
            raise StepFailed(f"S3 sync to {plan.where}: stopped {left}")

    @staticmethod
    def _progress(done: int, total: int, done_bytes: int, total_bytes: int) -> str:
        return (
            f"uploaded {done}/{total} files, {human_bytes(done_bytes)}/{human_bytes(total_bytes)}"
        )

    @staticmethod
    def _put(client: Any, bucket: str, item: Upload) -> None:
        kind = content_type(item.path.name)
        if item.size <= READ_WHOLE:
            client.put_object(
                Bucket=bucket, Key=item.key, Body=item.path.read_bytes(), ContentType=kind
            )
            return
        with item.path.open("rb") as body:
            client.put_object(Bucket=bucket, Key=item.key, Body=body, ContentType=kind)

    def _delete(
        self, client: Any, plan: SyncPlan, ctx: StepContext, outcome: dict[str, Any]
    ) -> None:
        deleted = 0
        for start in range(0, len(plan.deletes), DELETE_BATCH):
            ctx.check()
            batch = plan.deletes[start : start + DELETE_BATCH]
            answer = _call(
                f"S3 bucket {plan.bucket}",
                client.delete_objects,
                Bucket=plan.bucket,
                Delete={"Objects": [{"Key": d.key} for d in batch], "Quiet": True},
            )
            errors = answer.get("Errors") or []
            deleted += len(batch) - len(errors)
            outcome["deleted"] = deleted
            ctx.output(f"deleted {deleted}/{len(plan.deletes)} objects")
            if errors:
                first = errors[0]
                raise StepFailed(
                    _one_line(
                        f"S3 delete of s3://{plan.bucket}/{first.get('Key')}: "
                        f"{first.get('Code')}: {first.get('Message')} "
                        f"({len(errors)} keys not deleted)"
                    )
                )

    def verify(self, spec: S3SyncRun, ctx: StepContext, outcome: dict[str, Any]) -> None:
        plan = self.plan(spec, ctx)
        if not plan.empty:
            first = (plan.uploads or plan.deletes)[0].key
            raise StepFailed(
                f"S3 {plan.where}: still differs from {plan.source} after the sync: "
                f"{plan.totals()} (first: {first})"
            )
        outcome["verified_objects"] = plan.files

    def recheck(self, spec: S3SyncRun, ctx: StepContext, started: dict[str, Any]) -> Recheck:
        plan = self.plan(spec, ctx)
        if plan.empty:
            return Recheck(
                True, f"{plan.where} matches {plan.source} ({plan.files} files)", plan.counts()
            )
        return Recheck(
            False,
            f"{plan.where}: {plan.totals()} left; run again does only those",
            plan.counts(),
        )


# ---------------------------------------------------------------- CloudFront invalidation

# Invalidations looked at (newest first) for one with the step's CallerReference.
INVALIDATIONS_SEARCHED = 50


def caller_reference(ctx: StepContext, paths: list[str]) -> str:
    """The same on every run of this item of this release in this environment with these paths."""
    base = f"cockpit:{ctx.env_name}:{ctx.release_id}:{ctx.item_id}"[:110]
    return f"{base}:{_digest(ctx.env_name, ctx.release_id, ctx.item_id, *paths)}"


def _done_status(status: str) -> bool:
    # AWS says "Completed"; moto says "COMPLETED".
    return status.lower() == "completed"


class CloudFrontInvalidationStep(StepKind):
    kind = "cloudfront_invalidation"
    undoable = False
    undo_text = "no undo: an invalidation only empties caches"

    def _target(self, spec: CloudFrontInvalidationRun, ctx: StepContext) -> tuple[str, str]:
        return _pick(
            ctx,
            spec.distribution,
            ctx.env.aws.cloudfront_distribution,
            "distribution",
            "cloudfront_distribution",
            "CloudFront distribution",
        )

    @staticmethod
    def _paths(spec: CloudFrontInvalidationRun, ctx: StepContext) -> list[str]:
        paths = [ctx.render(p) for p in spec.paths]
        for path in paths:
            if not path.startswith("/"):
                raise StepFailed(
                    f"cloudfront_invalidation: path {path!r} must start with / (paths in the step)"
                )
        return paths

    def _distribution(self, cf: Any, dist: str, hint: str) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return dict(cf.get_distribution(Id=dist)["Distribution"])
        except ClientError as exc:
            if error_code(exc) == "NoSuchDistribution":
                raise StepFailed(f"CloudFront distribution {dist}: not found ({hint})") from None
            raise aws_error(exc, f"CloudFront distribution {dist}") from None
        except BotoCoreError as exc:
            raise aws_error(exc, f"CloudFront distribution {dist}") from None

    def find(self, cf: Any, dist: str, reference: str) -> dict[str, Any] | None:
        """The distribution's invalidation with ``reference``, among its newest
        :data:`INVALIDATIONS_SEARCHED`."""
        summaries: list[dict[str, Any]] = []
        marker = ""
        for _ in range(10):
            params: dict[str, Any] = {"DistributionId": dist, "MaxItems": "100"}
            if marker:
                params["Marker"] = marker
            page = _call(f"CloudFront distribution {dist}", cf.list_invalidations, **params)
            listing = page.get("InvalidationList", {})
            summaries += listing.get("Items", []) or []
            marker = listing.get("NextMarker", "")
            if not listing.get("IsTruncated") or not marker:
                break
        summaries.sort(key=lambda s: _iso(s.get("CreateTime")), reverse=True)
        for summary in summaries[:INVALIDATIONS_SEARCHED]:
            found = self._get(cf, dist, summary["Id"])
            if found.get("InvalidationBatch", {}).get("CallerReference") == reference:
                return found
        return None

    def _get(self, cf: Any, dist: str, ident: str) -> dict[str, Any]:
        answer = _call(
            f"CloudFront invalidation {ident} of {dist}",
            cf.get_invalidation,
            DistributionId=dist,
            Id=ident,
        )
        return dict(answer["Invalidation"])

    @staticmethod
    def _batch(paths: list[str], reference: str) -> dict[str, Any]:
        return {"Paths": {"Quantity": len(paths), "Items": paths}, "CallerReference": reference}

    @staticmethod
    def _details(dist: str, inv: dict[str, Any]) -> dict[str, Any]:
        return {
            "distribution": dist,
            "invalidation_id": inv.get("Id", ""),
            "status": inv.get("Status", ""),
            "created": _iso(inv.get("CreateTime")),
            "caller_reference": inv.get("InvalidationBatch", {}).get("CallerReference", ""),
        }

    def preview(self, spec: CloudFrontInvalidationRun, ctx: StepContext) -> Preview:
        cf = aws_client(ctx, "cloudfront")
        dist, hint = self._target(spec, ctx)
        paths = self._paths(spec, ctx)
        reference = caller_reference(ctx, paths)
        info = self._distribution(cf, dist, hint)
        domain = info.get("DomainName", "?")
        existing = self.find(cf, dist, reference)
        poll = f"cloudfront.get_invalidation(DistributionId={dist!r}, Id=...) until Completed"
        state = {
            "distribution": dist,
            "domain": domain,
            "paths": paths,
            "caller_reference": reference,
            "existing": existing.get("Id") if existing else None,
        }
        if existing is not None:
            return Preview(
                summary=f"CloudFront invalidation {existing['Id']} of {dist} exists "
                f"({existing.get('Status')}): wait for it",
                calls=[poll.replace("Id=...", f"Id={existing['Id']!r}")],
                lines=[
                    f"distribution {dist} ({domain})",
                    f"invalidation {existing['Id']} already created for this step: "
                    f"{existing.get('Status')}",
                    "run waits for it; nothing is created",
                ],
                state=state,
            )
        create = api(
            "cloudfront.create_invalidation",
            DistributionId=dist,
            InvalidationBatch=self._batch(paths, reference),
        )
        return Preview(
            summary=f"invalidate {', '.join(paths)} in CloudFront distribution {dist}",
            calls=[create, poll],
            lines=[
                f"distribution {dist} ({domain}): {info.get('Status', '?')}",
                f"paths: {', '.join(paths)}",
                "polled until Completed; no undo",
            ],
            state=state,
        )

    def run(
        self, spec: CloudFrontInvalidationRun, ctx: StepContext, outcome: dict[str, Any]
    ) -> None:
        cf = aws_client(ctx, "cloudfront")
        dist, hint = self._target(spec, ctx)
        paths = self._paths(spec, ctx)
        reference = caller_reference(ctx, paths)
        outcome.update(distribution=dist, caller_reference=reference)
        self._distribution(cf, dist, hint)
        inv = self.find(cf, dist, reference)
        if inv is not None:
            ctx.output(f"invalidation {inv['Id']} already created ({inv.get('Status')}); waiting")
        else:
            ctx.check()
            answer = _call(
                f"CloudFront distribution {dist}",
                cf.create_invalidation,
                DistributionId=dist,
                InvalidationBatch=self._batch(paths, reference),
            )
            inv = dict(answer["Invalidation"])
            ctx.output(f"created invalidation {inv['Id']} of {', '.join(paths)} in {dist}")
        outcome["invalidation_id"] = inv["Id"]
        shown = ""
        for _ in _wait_loop(ctx, f"CloudFront invalidation {inv['Id']} of {dist}"):
            status = str(inv.get("Status", ""))
            if status != shown:
                ctx.output(f"invalidation {inv['Id']}: {status}")
                shown = status
            if _done_status(status):
                break
            inv = self._get(cf, dist, inv["Id"])
        outcome.update(self._details(dist, inv))

    def verify(
        self, spec: CloudFrontInvalidationRun, ctx: StepContext, outcome: dict[str, Any]
    ) -> None:
        dist, ident = outcome.get("distribution"), outcome.get("invalidation_id")
        if not dist or not ident:
            raise StepFailed("CloudFront invalidation: the run recorded no invalidation id")
        inv = self._get(aws_client(ctx, "cloudfront"), dist, ident)
        if not _done_status(str(inv.get("Status", ""))):
            raise StepFailed(f"CloudFront invalidation {ident} of {dist}: {inv.get('Status')}")

    def recheck(
        self, spec: CloudFrontInvalidationRun, ctx: StepContext, started: dict[str, Any]
    ) -> Recheck:
        cf = aws_client(ctx, "cloudfront")
        dist, _ = self._target(spec, ctx)
        inv = self.find(cf, dist, caller_reference(ctx, self._paths(spec, ctx)))
        if inv is None:
            return Recheck(False, f"no invalidation of {dist} for this step yet; run creates it")
        details = self._details(dist, inv)
        if _done_status(str(inv.get("Status", ""))):
            return Recheck(
                True, f"CloudFront invalidation {inv['Id']} of {dist} completed", details
            )
        return Recheck(
            False,
            f"CloudFront invalidation {inv['Id']} of {dist} is "
            f"{inv.get('Status')}; run waits for it (it does not create another)",
            details,
        )


# ---------------------------------------------------------------- ECS service update


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


class EcsUpdateStep(StepKind):
    kind = "ecs_update"
    undoable = True
    undo_text = "point the ECS service back at its previous task definition"

    def _names(self, spec: EcsUpdateRun, ctx: StepContext) -> tuple[str, str, str, str]:
        cluster, cluster_hint = _pick(
            ctx, spec.cluster, ctx.env.aws.ecs_cluster, "cluster", "ecs_cluster", "ECS cluster"
        )
        service, service_hint = _pick(
            ctx, spec.service, ctx.env.aws.ecs_service, "service", "ecs_service", "ECS service"
        )
        return cluster, service, cluster_hint, service_hint

    def _service(
        self, ecs: Any, cluster: str, service: str, hints: tuple[str, str]
    ) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError

        what = f"ECS service {service} in cluster {cluster}"
        try:
            answer = ecs.describe_services(cluster=cluster, services=[service])
        except ClientError as exc:
            if error_code(exc) == "ClusterNotFoundException":
                raise StepFailed(
                    f"ECS cluster {cluster}: not found in {_region(ecs)} ({hints[0]})"
                ) from None
            raise aws_error(exc, what) from None
        except BotoCoreError as exc:
            raise aws_error(exc, what) from None
        found = [s for s in answer.get("services", []) if s.get("status") != "INACTIVE"]
        if not found:
            raise StepFailed(f"{what}: not found in {_region(ecs)} ({hints[1]})")
        return dict(found[0])

    def _task_definition(self, ecs: Any, name: str, hint: str) -> tuple[dict[str, Any], list[Any]]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            answer = ecs.describe_task_definition(taskDefinition=name, include=["TAGS"])
        except ClientError as exc:
            if error_code(exc) in ("ClientException", "InvalidParameterException"):
                raise StepFailed(
                    f"ECS task definition {name}: not found in {_region(ecs)} ({hint})"
                ) from None
            raise aws_error(exc, f"ECS task definition {name}") from None
        except BotoCoreError as exc:
            raise aws_error(exc, f"ECS task definition {name}") from None
        return dict(answer["taskDefinition"]), list(answer.get("tags") or [])

    @staticmethod
    def _register_args(ecs: Any, td: dict[str, Any]) -> dict[str, Any]:
        """The fields of a described task definition that register_task_definition accepts."""
        allowed = set(
            ecs.meta.service_model.operation_model("RegisterTaskDefinition").input_shape.members
        )
        allowed.discard("tags")
        return {k: v for k, v in td.items() if k in allowed and v not in (None, [], {})}

    def resolve(self, spec: EcsUpdateRun, ctx: StepContext) -> EcsTarget:
        """Read-only: the service now and the task definition it should run."""
        ecs = aws_client(ctx, "ecs")
        cluster, service, cluster_hint, service_hint = self._names(spec, ctx)
        hints = (cluster_hint, service_hint)
        svc = self._service(ecs, cluster, service, hints)
        current = str(svc.get("taskDefinition", ""))
        if spec.task_definition:
            wanted = ctx.render(spec.task_definition)
            td, _ = self._task_definition(ecs, wanted, "task_definition in the step")
            return EcsTarget(
                cluster, service, current, td["taskDefinitionArn"], None, hints=hints, svc=svc
            )
        if not spec.image:
            raise StepFailed(
                f"ecs_update of {service}: set task_definition, or image (and container), in "
                "the step"
            )
        image = ctx.render(spec.image)
        td, _ = self._task_definition(ecs, current, f"the task definition of service {service}")
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
        args = self._register_args(ecs, td)
        args["containerDefinitions"] = [
            {**c, "image": image} if c.get("name") == container else c for c in containers
        ]
        # A revision identical to the one wanted, registered by an earlier (interrupted) run.
        latest, _ = self._task_definition(ecs, td["family"], "the family of the service's task")
        if latest["taskDefinitionArn"] != current and self._register_args(ecs, latest) == args:
            found.target = latest["taskDefinitionArn"]
            return found
        found.register = args
        return found

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
        _, tag_list = self._task_definition(ecs, t.current, "the service's task definition")
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
            answer = _call(
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
            _call(
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
            for _ in _wait_loop(ctx, what):
                svc = self._service(ecs, cluster, service, hints)
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
                        _one_line(
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
        cluster, service, cluster_hint, service_hint = self._names(spec, ctx)
        svc = self._service(ecs, cluster, service, (cluster_hint, service_hint))
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
        cluster, service, cluster_hint, service_hint = self._names(spec, ctx)
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
        svc = self._service(ecs, cluster, service, hints)
        now = str(svc.get("taskDefinition", ""))
        outcome.update(cluster=cluster, service=service, task_definition=previous, replaced=now)
        if now == previous:
            outcome["skipped"] = f"{what} is already on {short_td(previous)}"
            ctx.output(outcome["skipped"])
            return
        ctx.check()
        _call(what, ecs.update_service, cluster=cluster, service=service, taskDefinition=previous)
        ctx.output(f"{what}: {short_td(now)} -> {short_td(previous)}")
        self._wait_stable(ecs, cluster, service, previous, ctx, hints)
