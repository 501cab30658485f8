"""The ``rds_snapshot`` step kind: a manual RDS snapshot of the environment's database before the
deploy, waited until available.

Safe to run again after an interruption: the snapshot id is made from the environment, the
release and the item (:func:`snapshot_id`), so a second run finds the snapshot the first one
started and waits for it instead of creating another. No undo: the snapshot *is* the backup the
T-0 backup item points at (``snapshot_id``, ``snapshot_arn`` in the outcome).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from cockpit.steps.aws.client import (
    api,
    aws_client,
    aws_error,
    digest,
    error_code,
    iso,
    pick,
    region,
    release_tags,
    wait_loop,
)
from cockpit.steps.base import Preview, Recheck, StepContext, StepFailed, StepKind

if TYPE_CHECKING:
    from cockpit.plan.runs import RdsSnapshotRun


def snapshot_id(ctx: StepContext) -> str:
    """``cockpit-production-r-1a2b3c4d-t0-backup-5e6f7a8b``: a valid RDS identifier (letters,
    digits, single hyphens, starting with a letter), the same on every run of this item of this
    release in this environment; the digest keeps ids apart that differ only in punctuation."""
    raw = f"{ctx.env_name}-{ctx.release_id}-{ctx.item_id}"
    base = re.sub(r"[^a-z0-9]+", "-", raw.lower()).strip("-")[:200].strip("-")
    return f"cockpit-{base}-{digest(ctx.env_name, ctx.release_id, ctx.item_id)}"


class RdsSnapshotStep(StepKind):
    kind = "rds_snapshot"
    undoable = False
    undo_text = "no undo: the snapshot is the backup itself, and it is kept"

    def _target(self, spec: RdsSnapshotRun, ctx: StepContext) -> tuple[str, str]:
        return pick(
            ctx, spec.instance, ctx.env.aws.rds_instance, "instance", "rds_instance", "RDS instance"
        )

    def _instance(self, rds: Any, instance: str, hint: str) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            found = rds.describe_db_instances(DBInstanceIdentifier=instance)["DBInstances"]
        except ClientError as exc:
            if error_code(exc) == "DBInstanceNotFound":
                raise StepFailed(
                    f"RDS instance {instance}: not found in {region(rds)} ({hint})"
                ) from None
            raise aws_error(exc, f"RDS instance {instance}") from None
        except BotoCoreError as exc:
            raise aws_error(exc, f"RDS instance {instance}") from None
        if not found:
            raise StepFailed(f"RDS instance {instance}: not found in {region(rds)} ({hint})")
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
            "created": iso(snap.get("SnapshotCreateTime")),
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
                    f"RDS instance {instance} ({region(rds)})",
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
                f"RDS instance {instance} ({region(rds)}): {status}, {engine}, "
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
        for _ in wait_loop(ctx, f"RDS snapshot {snap_name}"):
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
