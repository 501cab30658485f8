"""The AWS step kinds against a real moto server (tests/services.py), with the real boto3."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cockpit.config import AwsConfig, Config, EnvironmentConfig, LoadedConfig, parse_config_text
from cockpit.errors import ConfigError
from cockpit.plan.runs import CloudFrontInvalidationRun, EcsUpdateRun, RdsSnapshotRun, S3SyncRun
from cockpit.steps.aws import client as aws_steps
from cockpit.steps.aws.client import endpoint_for
from cockpit.steps.aws.cloudfront import CloudFrontInvalidationStep, caller_reference
from cockpit.steps.aws.ecs import EcsUpdateStep
from cockpit.steps.aws.rds import RdsSnapshotStep, snapshot_id
from cockpit.steps.aws.s3 import S3SyncStep, content_type
from cockpit.steps.base import Cancelled, StepContext, StepFailed, StepTimeout, kind_for
from tests.services import MotoServer, moto_server

REGION = "eu-west-1"
ACCOUNT = "123456789012"  # moto's
SECRET = "moto-test-secret-7f3a9c"  # must never show up in any output


@pytest.fixture(scope="session")
def moto() -> Iterator[MotoServer]:
    """One moto server for the whole run, and fake credentials that only it accepts."""
    saved = {k: os.environ.get(k) for k in _AWS_ENV}
    os.environ.update(
        AWS_ACCESS_KEY_ID="moto-test-key",
        AWS_SECRET_ACCESS_KEY=SECRET,
        AWS_CONFIG_FILE="/nonexistent/aws-config",
        AWS_SHARED_CREDENTIALS_FILE="/nonexistent/aws-credentials",
    )
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_PROFILE"):
        os.environ.pop(name, None)
    try:
        with moto_server() as server:
            yield server
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


_AWS_ENV = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_DEFAULT_PROFILE",
)


@pytest.fixture(autouse=True)
def fast_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aws_steps, "POLL_SECONDS", 0.05)
    monkeypatch.setattr(aws_steps, "POLL_MAX_SECONDS", 0.1)


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


class Ctx:
    """Builds StepContexts for one environment and keeps every output line."""

    def __init__(self, tmp_path: Path, aws: AwsConfig, env_name: str = "staging") -> None:
        self.lines: list[str] = []
        self.loaded = LoadedConfig(
            Config(environments={env_name: EnvironmentConfig(aws=aws)}), tmp_path / "cockpit.toml"
        )
        self.env_name = env_name
        self.release = _name("r")
        self.item = "t0.deploy"

    def __call__(self, *, timeout: float | None = 30.0, item: str | None = None) -> StepContext:
        return StepContext(
            loaded=self.loaded,
            env_name=self.env_name,
            env=self.loaded.config.environments[self.env_name],
            release_id=self.release,
            item_id=item or self.item,
            version="1.4.0",
            operator="alice@bastion-1",
            output=self.lines.append,
            deadline=None if timeout is None else time.monotonic() + timeout,
        )


def _aws(moto: MotoServer, **fields: Any) -> AwsConfig:
    return AwsConfig(region=REGION, endpoint_url=moto.url, max_attempts=2, **fields)


def _client(moto: MotoServer, service: str) -> Any:
    import boto3

    return boto3.client(service, endpoint_url=moto.url, region_name=REGION)


def _no_secret(*texts: Any) -> None:
    for text in texts:
        assert SECRET not in repr(text)


def _one_line(exc: pytest.ExceptionInfo[BaseException]) -> str:
    message = str(exc.value)
    assert "\n" not in message and "Traceback" not in message
    return message


# ---------------------------------------------------------------- config and clients


def test_endpoints_per_service_and_their_check() -> None:
    config = parse_config_text(
        "[environments.staging.aws]\n"
        'region = "eu-west-1"\n'
        'endpoint_url = "http://127.0.0.1:4566"\n'
        'endpoints = { s3 = "http://127.0.0.1:9000" }\n'
        "read_timeout = 5\n"
    )
    aws = config.environments["staging"].aws
    assert endpoint_for(aws, "s3") == "http://127.0.0.1:9000"
    assert endpoint_for(aws, "rds") == "http://127.0.0.1:4566"
    assert endpoint_for(AwsConfig(), "rds") is None
    with pytest.raises(ConfigError, match=r"cockpit.toml:2: environments.staging.aws.endpoints.s3"):
        parse_config_text(
            '[environments.staging.aws]\nendpoints = { s3 = "http://u:pw@127.0.0.1:9000" }\n'
        )


def test_boto3_is_imported_only_when_a_step_runs() -> None:
    code = (
        "import sys, cockpit.steps.aws, cockpit.steps.base;"
        "cockpit.steps.base.kind_for('s3_sync');"
        "assert not {'boto3', 'botocore'} & set(sys.modules), sorted(sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
    assert type(kind_for("ecs_update")) is EcsUpdateStep


def test_per_service_endpoint_is_used_and_an_unreachable_one_is_one_line(
    moto: MotoServer, tmp_path: Path
) -> None:
    from tests.services import free_port

    dead = f"http://127.0.0.1:{free_port()}"
    ctx = Ctx(
        tmp_path,
        AwsConfig(
            region=REGION,
            endpoint_url=dead,
            endpoints={"s3": moto.url},
            max_attempts=1,
            connect_timeout=2,
            rds_instance="app-db",
        ),
    )
    bucket = _name("site")
    _client(moto, "s3").create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "index.html").write_text("<h1>hi</h1>")
    spec = S3SyncRun(source="build", bucket=bucket)
    assert S3SyncStep().preview(spec, ctx()).state["uploads"] == 1  # s3 went to moto
    with pytest.raises(StepFailed) as failed:
        RdsSnapshotStep().preview(RdsSnapshotRun(), ctx())
    message = _one_line(failed)
    assert message.startswith("RDS ") and "cannot reach AWS" in message and dead in message


# ---------------------------------------------------------------- RDS snapshot


def _instance(moto: MotoServer, name: str) -> None:
    _client(moto, "rds").create_db_instance(
        DBInstanceIdentifier=name,
        DBInstanceClass="db.t3.micro",
        Engine="postgres",
        MasterUsername="app",
        MasterUserPassword="not-a-real-one-1",
        AllocatedStorage=20,
    )


def _snapshots(moto: MotoServer, instance: str) -> list[dict[str, Any]]:
    found = _client(moto, "rds").describe_db_snapshots(
        DBInstanceIdentifier=instance, SnapshotType="manual"
    )
    return list(found["DBSnapshots"])


def _rds_backend() -> Any:
    from moto.rds.models import rds_backends

    return rds_backends[ACCOUNT][REGION]


def test_snapshot_id_is_a_stable_valid_rds_identifier(tmp_path: Path) -> None:
    ctx = Ctx(tmp_path, AwsConfig())
    first = snapshot_id(ctx())
    assert first == snapshot_id(ctx())
    assert re.fullmatch(r"[a-z](?!.*--)[a-z0-9-]{0,253}[a-z0-9]", first)
    assert snapshot_id(ctx(item="t0.backup")) != first
    assert snapshot_id(ctx(item="t0-deploy")) != first  # same letters, other item
    ctx.release = "R_" + "x" * 400 + "--"
    long = snapshot_id(ctx())
    assert len(long) <= 255 and re.fullmatch(r"[a-z](?!.*--)[a-z0-9-]*[a-z0-9]", long)
    other_env = Ctx(tmp_path, AwsConfig(), env_name="production")
    other_env.release = ctx.release
    assert snapshot_id(other_env()) != long


def test_rds_snapshot_created_waited_then_found_again(moto: MotoServer, tmp_path: Path) -> None:
    instance = _name("app-db")
    _instance(moto, instance)
    ctx = Ctx(tmp_path, _aws(moto, rds_instance=instance))
    step, spec = RdsSnapshotStep(), RdsSnapshotRun()
    snap = snapshot_id(ctx())

    preview = step.preview(spec, ctx())
    assert preview.calls[0].startswith(
        f"rds.create_db_snapshot(DBInstanceIdentifier='{instance}', DBSnapshotIdentifier='{snap}'"
    )
    assert "'Key': 'cockpit:operator', 'Value': 'alice@bastion-1'" in preview.calls[0]
    assert preview.state["instance_status"] == "available" and not preview.state["exists"]
    assert _snapshots(moto, instance) == []  # preview is read-only

    outcome: dict[str, Any] = {}
    step.run(spec, ctx(), outcome)
    assert outcome["snapshot_id"] == snap
    assert outcome["snapshot_arn"] == f"arn:aws:rds:{REGION}:{ACCOUNT}:snapshot:{snap}"
    assert outcome["status"] == "available" and outcome["created"].startswith("20")
    assert f"creating snapshot {snap} of RDS instance {instance}" in ctx.lines
    assert f"snapshot {snap}: available" in ctx.lines
    step.verify(spec, ctx(), outcome)
    tags = _client(moto, "rds").list_tags_for_resource(ResourceName=outcome["snapshot_arn"])
    tag_map = {t["Key"]: t["Value"] for t in tags["TagList"]}
    assert tag_map["cockpit:release"] == ctx.release
    assert tag_map["cockpit:version"] == "1.4.0"
    assert tag_map["cockpit:operator"] == "alice@bastion-1"

    # After a crash: the re-check finds it, a second run waits for it, nothing new is made.
    again = step.recheck(spec, ctx(), preview.state)
    assert again.done and again.details["snapshot_id"] == snap
    assert step.preview(spec, ctx()).state["exists"] is True
    second: dict[str, Any] = {}
    step.run(spec, ctx(), second)
    assert second["snapshot_arn"] == outcome["snapshot_arn"]
    assert [s["DBSnapshotIdentifier"] for s in _snapshots(moto, instance)] == [snap]
    assert not step.can_undo(spec) and "no undo" in step.undo_text
    _no_secret(ctx.lines, outcome, preview)


def test_rds_snapshot_creating_is_waited_for_and_rechecked_as_not_done(
    moto: MotoServer, tmp_path: Path
) -> None:
    instance = _name("app-db")
    _instance(moto, instance)
    ctx = Ctx(tmp_path, _aws(moto, rds_instance=instance))
    step, spec = RdsSnapshotStep(), RdsSnapshotRun()
    snap = snapshot_id(ctx())
    # An interrupted run had started it; AWS is still copying.
    _client(moto, "rds").create_db_snapshot(
        DBInstanceIdentifier=instance, DBSnapshotIdentifier=snap
    )
    record = _rds_backend().database_snapshots[snap]
    record.status = "creating"

    found = step.recheck(spec, ctx(), {})
    assert not found.done and "creating" in found.text and "does not create another" in found.text

    threading.Timer(0.4, lambda: setattr(record, "status", "available")).start()
    outcome: dict[str, Any] = {}
    started = time.monotonic()
    step.run(spec, ctx(), outcome)
    assert time.monotonic() - started >= 0.35
    assert f"snapshot {snap} already exists (creating); waiting" in ctx.lines
    assert ctx.lines[-1] == f"snapshot {snap}: available"
    assert len(_snapshots(moto, instance)) == 1

    # Cancel while waiting: stops within a second.
    record.status = "creating"
    cancel_ctx = ctx()
    threading.Timer(0.2, cancel_ctx.cancel.set).start()
    started = time.monotonic()
    with pytest.raises(Cancelled):
        step.run(spec, cancel_ctx, {})
    assert time.monotonic() - started < 1.5
    # Out of time: one line naming the snapshot.
    with pytest.raises(StepTimeout) as timed_out:
        step.run(spec, ctx(timeout=0.3), {})
    assert _one_line(timed_out) == (
        f"RDS snapshot {snap}: still not ready when the step's timeout ran out"
    )
    record.status = "available"


def test_rds_instance_missing_or_busy_is_one_line(moto: MotoServer, tmp_path: Path) -> None:
    ctx = Ctx(tmp_path, _aws(moto, rds_instance="app-db-missing"))
    step = RdsSnapshotStep()
    for call in (
        lambda: step.preview(RdsSnapshotRun(), ctx()),
        lambda: step.run(RdsSnapshotRun(), ctx(), {}),
    ):
        with pytest.raises(StepFailed) as failed:
            call()
        assert _one_line(failed) == (
            f"RDS instance app-db-missing: not found in {REGION} (aws.rds_instance in cockpit.toml)"
        )
    with pytest.raises(StepFailed) as failed:
        step.preview(RdsSnapshotRun(instance="other-{env}"), ctx())
    assert _one_line(failed) == (
        f"RDS instance other-staging: not found in {REGION} (instance in the step)"
    )
    busy = _name("app-db")
    _instance(moto, busy)
    _rds_backend().databases[busy].status = "modifying"
    with pytest.raises(StepFailed) as failed:
        step.preview(RdsSnapshotRun(instance=busy), ctx())
    assert _one_line(failed).startswith(f"RDS instance {busy}: status is modifying, not available")
    none = Ctx(tmp_path, _aws(moto))
    with pytest.raises(StepFailed) as failed:
        step.preview(RdsSnapshotRun(), none())
    assert "set aws.rds_instance for environment staging" in _one_line(failed)


# ---------------------------------------------------------------- S3 sync


def _bucket(moto: MotoServer) -> str:
    name = _name("site")
    _client(moto, "s3").create_bucket(
        Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    return name


def _objects(moto: MotoServer, bucket: str) -> dict[str, dict[str, Any]]:
    pages = _client(moto, "s3").get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return {o["Key"]: o for page in pages for o in page.get("Contents", [])}


def _write(root: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def test_s3_plan_sync_verify_recheck(moto: MotoServer, tmp_path: Path) -> None:
    s3 = _client(moto, "s3")
    bucket = _bucket(moto)
    for key, body in {
        "site/same.css": b"body{}",
        "site/index.html": b"<h1>old</h1>",  # same size as the new one, other bytes
        "site/app.js": b"old()",  # other size
        "site/gone.txt": b"x" * 2048,  # not in the build any more
        "other/keep.txt": b"outside the prefix",
    }.items():
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    build = tmp_path / "build"
    _write(
        build,
        {
            "same.css": b"body{}",
            "index.html": b"<h1>new</h1>",
            "app.js": b"console.log('new')",
            "img/logo.svg": b"<svg/>",
            "fonts/a.woff2": b"\0" * 3000,
        },
    )
    ctx = Ctx(tmp_path, _aws(moto, s3_bucket=bucket))
    step, spec = S3SyncStep(), S3SyncRun(source="build", prefix="/site/", delete=True, workers=4)

    preview = step.preview(spec, ctx())
    state = preview.state
    assert (state["new"], state["changed"], state["deletes"], state["unchanged"]) == (2, 2, 1, 1)
    assert state["upload_bytes"] == 12 + 18 + 6 + 3000 and state["delete_bytes"] == 2048
    assert preview.calls == [
        f"s3.list_objects_v2(Bucket='{bucket}', Prefix='site/')",
        f"s3.put_object(Bucket='{bucket}', Key='site/' + path, Body=file, ContentType=by "
        "extension) x 4 (3.0 KB, 4 in parallel)",
        f"s3.delete_objects(Bucket='{bucket}', Delete={{'Objects': [...], 'Quiet': True}}) x 1 "
        "(1 keys, 2.0 KB)",
    ]
    body = "\n".join(preview.lines)
    assert re.search(r"upload new\s+site/fonts/a.woff2\s+3.0 KB", body)
    assert re.search(r"upload changed\s+site/index.html\s+12 B", body)
    assert re.search(r"upload changed\s+site/app.js\s+18 B", body)
    assert re.search(r"delete\s+site/gone.txt\s+2.0 KB", body)
    assert "same.css" not in body
    assert preview.lines[-1] == (
        "4 uploads (3.0 KB: 2 new, 2 changed), 1 deletions (2.0 KB), 1 unchanged"
    )
    puts_before = moto.count("PUT", f"/{bucket}/")

    outcome: dict[str, Any] = {}
    step.run(spec, ctx(), outcome)
    assert (outcome["uploaded"], outcome["deleted"]) == (4, 1)
    assert moto.count("PUT", f"/{bucket}/") - puts_before == 4
    assert ctx.lines[-2] == "uploaded 4/4 files, 3.0 KB/3.0 KB"
    assert ctx.lines[-1] == "deleted 1/1 objects"
    objects = _objects(moto, bucket)
    assert sorted(objects) == [
        "other/keep.txt",
        "site/app.js",
        "site/fonts/a.woff2",
        "site/img/logo.svg",
        "site/index.html",
        "site/same.css",
    ]
    head = s3.head_object(Bucket=bucket, Key="site/index.html")
    assert head["ContentType"] == "text/html"
    assert s3.get_object(Bucket=bucket, Key="site/index.html")["Body"].read() == b"<h1>new</h1>"
    assert s3.head_object(Bucket=bucket, Key="site/fonts/a.woff2")["ContentType"] == "font/woff2"
    assert s3.head_object(Bucket=bucket, Key="site/app.js")["ContentType"] == "text/javascript"

    step.verify(spec, ctx(), outcome)
    assert outcome["verified_objects"] == 5
    again = step.recheck(spec, ctx(), preview.state)
    assert again.done and again.text.startswith(f"s3://{bucket}/site/ matches")
    assert step.preview(spec, ctx()).calls == [
        f"s3.list_objects_v2(Bucket='{bucket}', Prefix='site/')"
    ]

    # Without delete, an extra object stays and is not in the plan; a local change is seen.
    s3.put_object(Bucket=bucket, Key="site/extra.txt", Body=b"extra")
    (build / "same.css").write_bytes(b"body{color:red}")
    keep = S3SyncRun(source="build", bucket=bucket, prefix="site")
    found = step.recheck(keep, ctx(), {})
    assert not found.done and found.details["changed"] == 1 and found.details["deletes"] == 0
    with pytest.raises(StepFailed) as failed:
        step.verify(keep, ctx(), {})
    assert "first: site/same.css" in _one_line(failed)
    step.run(keep, ctx(), {})
    assert "site/extra.txt" in _objects(moto, bucket)
    assert not step.can_undo(spec) and "no undo" in step.undo_text
    _no_secret(ctx.lines, outcome, preview)


def test_s3_cancel_mid_sync_then_a_rerun_uploads_only_the_rest(
    moto: MotoServer, tmp_path: Path
) -> None:
    bucket = _bucket(moto)
    files = {f"assets/f{n:03d}.txt": f"file {n}\n".encode() * 50 for n in range(240)}
    _write(tmp_path / "build", files)
    ctx = Ctx(tmp_path, _aws(moto, s3_bucket=bucket))
    step, spec = S3SyncStep(), S3SyncRun(source="build", workers=2)
    prefix = f"/{bucket}/"
    before = moto.count("PUT", prefix)

    run_ctx = ctx()

    def cancel_after_some() -> None:
        deadline = time.monotonic() + 20
        while moto.count("PUT", prefix) - before < 30 and time.monotonic() < deadline:
            time.sleep(0.005)
        run_ctx.cancel.set()

    watcher = threading.Thread(target=cancel_after_some)
    watcher.start()
    first: dict[str, Any] = {}
    started = time.monotonic()
    with pytest.raises(Cancelled) as cancelled:
        step.run(spec, run_ctx, first)
    watcher.join()
    assert time.monotonic() - started < 20
    done = first["uploaded"]
    assert 30 <= done < 240
    assert _one_line(cancelled) == (
        f"cancelled by the operator after {done} of 240 uploads; run again to upload the "
        f"{240 - done} left"
    )
    assert len(_objects(moto, bucket)) == done == moto.count("PUT", prefix) - before
    mid = step.recheck(spec, ctx(), {})
    assert not mid.done and mid.details["uploads"] == 240 - done

    second: dict[str, Any] = {}
    step.run(spec, ctx(), second)
    assert second["uploaded"] == 240 - done
    # Every file was PUT exactly once over the two runs.
    assert moto.count("PUT", prefix) - before == 240
    puts = [r for r in moto.requests if r.startswith(f"PUT {prefix}")]
    assert len(set(puts)) == len(puts) == 240
    step.verify(spec, ctx(), second)


def test_s3_multipart_etag_counts_as_unchanged(moto: MotoServer, tmp_path: Path) -> None:
    s3 = _client(moto, "s3")
    bucket = _bucket(moto)
    data = os.urandom(8 * 1024 * 1024 + 10)
    _write(tmp_path / "build", {"big.bin": data})
    upload = s3.create_multipart_upload(Bucket=bucket, Key="big.bin")
    parts = []
    for number, chunk in enumerate((data[: 8 * 1024 * 1024], data[8 * 1024 * 1024 :]), start=1):
        answer = s3.upload_part(
            Bucket=bucket, Key="big.bin", UploadId=upload["UploadId"], PartNumber=number, Body=chunk
        )
        parts.append({"PartNumber": number, "ETag": answer["ETag"]})
    s3.complete_multipart_upload(
        Bucket=bucket, Key="big.bin", UploadId=upload["UploadId"], MultipartUpload={"Parts": parts}
    )
    assert _objects(moto, bucket)["big.bin"]["ETag"].endswith('-2"')
    ctx = Ctx(tmp_path, _aws(moto, s3_bucket=bucket))
    plan = S3SyncStep().plan(S3SyncRun(source="build"), ctx())
    assert plan.empty and plan.files == 1
    expected = hashlib.md5(data).hexdigest()
    assert expected not in _objects(moto, bucket)["big.bin"]["ETag"]


def test_s3_missing_bucket_or_source_is_one_line(moto: MotoServer, tmp_path: Path) -> None:
    (tmp_path / "build").mkdir()
    ctx = Ctx(tmp_path, _aws(moto, s3_bucket="no-such-bucket-here"))
    with pytest.raises(StepFailed) as failed:
        S3SyncStep().preview(S3SyncRun(source="build"), ctx())
    assert _one_line(failed) == (
        "S3 bucket no-such-bucket-here: not found (aws.s3_bucket in cockpit.toml)"
    )
    with pytest.raises(StepFailed) as failed:
        S3SyncStep().run(S3SyncRun(source="dist-{version}"), ctx(), {})
    assert _one_line(failed) == (
        f"s3_sync source {tmp_path / 'dist-1.4.0'}: no such directory (source in the step; "
        "relative to the config file's directory)"
    )


def test_content_types_do_not_depend_on_the_machine() -> None:
    assert content_type("index.html") == "text/html"
    assert content_type("app.mjs") == "text/javascript"
    assert content_type("a.woff2") == "font/woff2"
    assert content_type("data.json") == "application/json"
    assert content_type("noext") == "application/octet-stream"


# ---------------------------------------------------------------- CloudFront invalidation


def _distribution(moto: MotoServer) -> str:
    cf = _client(moto, "cloudfront")
    answer = cf.create_distribution(
        DistributionConfig={
            "CallerReference": _name("dist"),
            "Origins": {
                "Quantity": 1,
                "Items": [
                    {
                        "Id": "site",
                        "DomainName": "site.s3.amazonaws.com",
                        "S3OriginConfig": {"OriginAccessIdentity": ""},
                    }
                ],
            },
            "DefaultCacheBehavior": {
                "TargetOriginId": "site",
                "ViewerProtocolPolicy": "allow-all",
                "MinTTL": 0,
                "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
            },
            "Comment": "",
            "Enabled": True,
        }
    )
    return str(answer["Distribution"]["Id"])


def _invalidations(moto: MotoServer, dist: str) -> list[dict[str, Any]]:
    listing = _client(moto, "cloudfront").list_invalidations(DistributionId=dist)
    return list(listing["InvalidationList"].get("Items") or [])


def test_cloudfront_invalidation_created_once_and_polled_to_complete(
    moto: MotoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto.cloudfront.models import cloudfront_backends

    dist = _distribution(moto)
    ctx = Ctx(tmp_path, _aws(moto, cloudfront_distribution=dist))
    step = CloudFrontInvalidationStep()
    spec = CloudFrontInvalidationRun(paths=["/index.html", "/v/{version}/*"])
    reference = caller_reference(ctx(), ["/index.html", "/v/1.4.0/*"])

    preview = step.preview(spec, ctx())
    assert preview.calls[0] == (
        f"cloudfront.create_invalidation(DistributionId='{dist}', InvalidationBatch={{'Paths': "
        f"{{'Quantity': 2, 'Items': ['/index.html', '/v/1.4.0/*']}}, 'CallerReference': "
        f"'{reference}'}})"
    )
    assert _invalidations(moto, dist) == []

    # moto completes at once; hold the new invalidation "InProgress" for a moment, as AWS does.
    backend = cloudfront_backends[ACCOUNT]["aws"]
    real_create = backend.create_invalidation

    def in_progress(*args: Any, **kwargs: Any) -> Any:
        made = real_create(*args, **kwargs)
        made.status = "InProgress"
        threading.Timer(0.3, lambda: setattr(made, "status", "COMPLETED")).start()
        return made

    monkeypatch.setattr(backend, "create_invalidation", in_progress)
    gets_before = moto.count("GET", f"/2020-05-31/distribution/{dist}/invalidation/")
    outcome: dict[str, Any] = {}
    step.run(spec, ctx(), outcome)
    ident = outcome["invalidation_id"]
    assert outcome["status"] == "COMPLETED" and outcome["caller_reference"] == reference
    assert f"invalidation {ident}: InProgress" in ctx.lines
    assert ctx.lines[-1] == f"invalidation {ident}: COMPLETED"
    assert moto.count("GET", f"/2020-05-31/distribution/{dist}/invalidation/") - gets_before >= 2
    step.verify(spec, ctx(), outcome)

    # A rerun (or a re-check after a crash) finds it; nothing new is created.
    again = step.recheck(spec, ctx(), preview.state)
    assert again.done and again.details["invalidation_id"] == ident
    assert step.preview(spec, ctx()).state["existing"] == ident
    second: dict[str, Any] = {}
    step.run(spec, ctx(), second)
    assert second["invalidation_id"] == ident
    assert [i["Id"] for i in _invalidations(moto, dist)] == [ident]
    assert moto.count("POST", f"/2020-05-31/distribution/{dist}/invalidation") == 1
    # Other paths are another invalidation.
    other = CloudFrontInvalidationRun(paths=["/*"])
    assert not step.recheck(other, ctx(), {}).done
    _no_secret(ctx.lines, outcome, preview)


def test_cloudfront_missing_distribution_and_bad_path(moto: MotoServer, tmp_path: Path) -> None:
    ctx = Ctx(tmp_path, _aws(moto, cloudfront_distribution="E0NOSUCHDIST"))
    with pytest.raises(StepFailed) as failed:
        CloudFrontInvalidationStep().preview(CloudFrontInvalidationRun(), ctx())
    assert _one_line(failed) == (
        "CloudFront distribution E0NOSUCHDIST: not found (aws.cloudfront_distribution in "
        "cockpit.toml)"
    )
    with pytest.raises(StepFailed) as failed:
        CloudFrontInvalidationStep().run(CloudFrontInvalidationRun(paths=["index.html"]), ctx(), {})
    assert "path 'index.html' must start with /" in _one_line(failed)


# ---------------------------------------------------------------- ECS service update


def _ecs_service(
    moto: MotoServer, monkeypatch: pytest.MonkeyPatch, running: int = 2
) -> tuple[str, str, str]:
    """A cluster, a service with 2 tasks on api:N (two containers), its task definition ARN."""
    ecs = _client(moto, "ecs")
    cluster, service, family = _name("prod"), _name("api"), _name("api")
    ecs.create_cluster(clusterName=cluster)
    td = ecs.register_task_definition(
        family=family,
        containerDefinitions=[
            {"name": "web", "image": "registry.example.com/api:1.3.2", "memory": 256},
            {"name": "log", "image": "registry.example.com/fluent:2", "memory": 64},
        ],
        tags=[{"key": "team", "value": "payments"}],
    )["taskDefinition"]
    # moto reads how many tasks run from the environment when the service is created.
    monkeypatch.setenv("MOTO_ECS_SERVICE_RUNNING", str(running))
    ecs.create_service(
        cluster=cluster, serviceName=service, taskDefinition=td["taskDefinitionArn"], desiredCount=2
    )
    return cluster, service, str(td["taskDefinitionArn"])


def _on(moto: MotoServer, cluster: str, service: str) -> str:
    svc = _client(moto, "ecs").describe_services(cluster=cluster, services=[service])
    return str(svc["services"][0]["taskDefinition"])


def test_ecs_update_to_new_image_then_undo_back_and_undo_skipped(
    moto: MotoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ecs = _client(moto, "ecs")
    cluster, service, first = _ecs_service(moto, monkeypatch)
    family = first.rsplit("/", 1)[1].split(":")[0]
    ctx = Ctx(tmp_path, _aws(moto, ecs_cluster=cluster, ecs_service=service))
    step = EcsUpdateStep()
    spec = EcsUpdateRun(image="registry.example.com/api:{version}", container="web")

    preview = step.preview(spec, ctx())
    assert preview.state["current_task_definition"] == first
    assert preview.state["target_task_definition"] is None  # a revision is to be registered
    assert preview.calls == [
        f"ecs.register_task_definition(<the fields of {family}:1>, "
        "containerDefinitions[web].image='registry.example.com/api:1.4.0', "
        f"tags=[cockpit:previous={family}:1, ...])",
        f"ecs.update_service(cluster='{cluster}', service='{service}', "
        "taskDefinition='<ARN of the new revision>')",
        f"ecs.describe_services(cluster='{cluster}', services=['{service}']) until 1 deployment "
        "and running == desired",
    ]
    assert "container web: registry.example.com/api:1.3.2 -> registry.example.com/api:1.4.0" in (
        preview.lines
    )
    assert _on(moto, cluster, service) == first

    outcome: dict[str, Any] = {}
    step.run(spec, ctx(), outcome)
    new = outcome["task_definition"]
    assert new.endswith(f"task-definition/{family}:2") and outcome["registered"] == new
    assert outcome["previous_task_definition"] == first and outcome["stable"] is True
    assert _on(moto, cluster, service) == new
    described = ecs.describe_task_definition(taskDefinition=new, include=["TAGS"])
    containers = {c["name"]: c for c in described["taskDefinition"]["containerDefinitions"]}
    assert containers["web"]["image"] == "registry.example.com/api:1.4.0"
    assert containers["log"]["image"] == "registry.example.com/fluent:2"
    assert containers["web"]["memory"] == 256
    tags = {t["key"]: t["value"] for t in described["tags"]}
    assert tags["cockpit:previous"] == first and tags["cockpit:release"] == ctx.release
    assert f"ECS service {service} in cluster {cluster}: stable on {family}:2" in ctx.lines
    step.verify(spec, ctx(), outcome)

    # Re-check and rerun: already there, nothing registered twice.
    # (the engine passes the intent's details, the preview's state nested under "state")
    again = step.recheck(spec, ctx(), {"summary": preview.summary, "state": preview.state})
    assert again.done and again.details["previous_task_definition"] == first
    # A step found done by a re-check is undone from what the re-check found.
    resumed = {"resumed": True, "rechecked": again.details, "state_before": preview.state}
    assert step.undo_summary(spec, ctx(), resumed) == f"ECS service {service} back to {family}:1"
    assert step.undo_summary(spec, ctx(), {"state_before": preview.state}).endswith(f"{family}:1")
    rerun: dict[str, Any] = {}
    step.run(spec, ctx(), rerun)
    assert rerun["task_definition"] == new and rerun["previous_task_definition"] == first
    assert "registered" not in rerun
    assert len(ecs.list_task_definitions(familyPrefix=family)["taskDefinitionArns"]) == 2

    assert step.undo_summary(spec, ctx(), outcome) == f"ECS service {service} back to {family}:1"
    undone: dict[str, Any] = {}
    step.undo(spec, ctx(), outcome, undone)
    assert _on(moto, cluster, service) == first and undone["replaced"] == new
    assert "skipped" not in undone
    skipped: dict[str, Any] = {}
    step.undo(spec, ctx(), outcome, skipped)
    assert skipped["skipped"] == (
        f"ECS service {service} in cluster {cluster} is already on {family}:1"
    )
    _no_secret(ctx.lines, outcome, preview)

    # Another release finds the service already on the image it asks for (on the revision the
    # first release registered): nothing to do, and its undo must not go back to what the first
    # release's tag names.
    ecs.update_service(cluster=cluster, service=service, taskDefinition=new)
    later = Ctx(tmp_path, _aws(moto, ecs_cluster=cluster, ecs_service=service))
    assert step.preview(spec, later()).state["target_task_definition"] == new
    other: dict[str, Any] = {}
    step.run(spec, later(), other)
    assert other["previous_task_definition"] == new == other["task_definition"]
    nothing: dict[str, Any] = {}
    step.undo(spec, later(), other, nothing)
    assert "already on" in nothing["skipped"] and _on(moto, cluster, service) == new


def test_ecs_reuses_a_revision_registered_by_an_interrupted_run(
    moto: MotoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ecs = _client(moto, "ecs")
    cluster, service, first = _ecs_service(moto, monkeypatch)
    family = first.rsplit("/", 1)[1].split(":")[0]
    ctx = Ctx(tmp_path, _aws(moto, ecs_cluster=cluster, ecs_service=service))
    step = EcsUpdateStep()
    spec = EcsUpdateRun(image="registry.example.com/api:1.4.0", container="web")
    target = step.resolve(spec, ctx())
    assert target.register is not None
    # The crash came after register_task_definition, before update_service.
    registered = ecs.register_task_definition(**target.register)["taskDefinition"]
    preview = step.preview(spec, ctx())
    assert preview.state["target_task_definition"] == registered["taskDefinitionArn"]
    assert not preview.calls[0].startswith("ecs.register_task_definition")
    outcome: dict[str, Any] = {}
    step.run(spec, ctx(), outcome)
    assert outcome["task_definition"] == registered["taskDefinitionArn"]
    assert outcome["previous_task_definition"] == first
    assert len(ecs.list_task_definitions(familyPrefix=family)["taskDefinitionArns"]) == 2

    # A named task definition (family:revision) back to the first one.
    back = EcsUpdateRun(task_definition=f"{family}:1")
    assert step.preview(back, ctx()).state["target_task_definition"] == first
    step.run(back, ctx(), {})
    assert _on(moto, cluster, service) == first


def test_ecs_waits_until_stable_and_times_out_with_one_line(
    moto: MotoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto.ecs.models import ecs_backends

    cluster, service, first = _ecs_service(moto, monkeypatch, running=0)
    family = first.rsplit("/", 1)[1].split(":")[0]
    ctx = Ctx(tmp_path, _aws(moto, ecs_cluster=cluster, ecs_service=service))
    step = EcsUpdateStep()
    spec = EcsUpdateRun(image="registry.example.com/api:1.4.0", container="web")
    assert not step.recheck(spec, ctx(), {}).done

    record = ecs_backends[ACCOUNT][REGION].services[f"{cluster}:{service}"]
    with pytest.raises(StepTimeout) as timed_out:
        step.run(spec, ctx(timeout=0.4), {})
    assert _one_line(timed_out) == (
        f"ECS service {service} in cluster {cluster}: not stable when the step's timeout ran "
        "out (running 0/2, pending 2, 1 deployment(s))"
    )
    # On the target but not stable: the re-check says not done; the run waits for the tasks.
    found = step.recheck(spec, ctx(), {})
    assert not found.done and "not stable" in found.text
    threading.Timer(0.3, lambda: setattr(record, "running_count", 2)).start()
    outcome: dict[str, Any] = {}
    step.run(spec, ctx(), outcome)
    assert outcome["stable"] and outcome["task_definition"].endswith(f"{family}:2")
    assert outcome["previous_task_definition"] == first  # from the tag of the revision
    assert f"{service}: running 0/2, pending 2, 1 deployment(s)" in ctx.lines
    assert step.recheck(spec, ctx(), {}).done


def test_ecs_missing_service_cluster_or_container_is_one_line(
    moto: MotoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cluster, service, first = _ecs_service(moto, monkeypatch)
    step = EcsUpdateStep()
    image = EcsUpdateRun(image="registry.example.com/api:1.4.0")

    def failure(aws: AwsConfig, spec: EcsUpdateRun) -> str:
        with pytest.raises(StepFailed) as failed:
            step.preview(spec, Ctx(tmp_path, aws)())
        return _one_line(failed)

    assert failure(_aws(moto, ecs_cluster=cluster, ecs_service="nope"), image) == (
        f"ECS service nope in cluster {cluster}: not found in {REGION} "
        "(aws.ecs_service in cockpit.toml)"
    )
    assert failure(_aws(moto, ecs_cluster="no-cluster", ecs_service=service), image) == (
        f"ECS cluster no-cluster: not found in {REGION} (aws.ecs_cluster in cockpit.toml)"
    )
    where = _aws(moto, ecs_cluster=cluster, ecs_service=service)
    family = first.rsplit("/", 1)[1].split(":")[0]
    assert failure(where, image) == (
        f"ECS task definition {family}:1 has 2 containers (web, log): name one with container "
        "in the step"
    )
    assert "no container 'api'" in failure(where, EcsUpdateRun(image="x:1", container="api"))
    assert failure(where, EcsUpdateRun(task_definition="nothing-here:7")).startswith(
        "ECS task definition nothing-here:7: not found"
    )
    assert "set task_definition, or image" in failure(where, EcsUpdateRun())
    assert step.undo_summary(EcsUpdateRun(), Ctx(tmp_path, where)(), {}) == (
        f"ECS service {service}: the previous task definition was not recorded"
    )
