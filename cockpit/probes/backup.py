"""The ``backup`` probe: a backup younger than N hours: the newest available RDS snapshot of the
environment's database (``aws.rds_instance`` unless named), or the newest file matching a glob
(a dump written by the backup job)."""

from __future__ import annotations

import glob
import os
import time
from datetime import UTC, datetime
from typing import Any

from cockpit.plan.probes import BackupProbe
from cockpit.probes.aws import client, pages
from cockpit.probes.base import CannotLook, ProbeContext, ProbeKind, Result


class BackupProbeKind(ProbeKind):
    name = "backup"

    def preview(self, spec: BackupProbe, ctx: ProbeContext) -> str:
        return f"the newest backup of {_what(spec, ctx)}: younger than {spec.hours:g} h"

    def run(self, spec: BackupProbe, ctx: ProbeContext) -> Result:
        expected = f"a backup younger than {spec.hours:g} h"
        if spec.path:
            name, taken = _newest_file(spec, ctx)
            details: dict[str, Any] = {"file": name}
        else:
            name, taken = _newest_snapshot(spec, ctx)
            details = {"instance": _instance(spec, ctx), "snapshot": name}
        if not name:
            return Result(False, f"no backup of {_what(spec, ctx)}", expected, details)
        age_h = (time.time() - taken) / 3600
        details |= {
            "taken_at": datetime.fromtimestamp(taken, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "age_hours": round(age_h, 6),
        }
        seen = f"{name}, {age_h:.1f} h old" if age_h >= 1 else f"{name}, {age_h * 60:.1f} min old"
        return Result(age_h < spec.hours, seen, expected, details)


def _instance(spec: BackupProbe, ctx: ProbeContext) -> str:
    return spec.instance or ctx.env.aws.rds_instance


def _what(spec: BackupProbe, ctx: ProbeContext) -> str:
    if spec.path:
        return str(ctx.resolve(spec.path))
    return f"RDS instance {_instance(spec, ctx) or '(aws.rds_instance not set)'}"


def _newest_file(spec: BackupProbe, ctx: ProbeContext) -> tuple[str, float]:
    found = [(os.stat(p).st_mtime, p) for p in glob.glob(str(ctx.resolve(spec.path)))]
    if not found:
        return "", 0.0
    taken, path = max(found)
    return path, taken


def _newest_snapshot(spec: BackupProbe, ctx: ProbeContext) -> tuple[str, float]:
    instance = _instance(spec, ctx)
    if not instance:
        raise CannotLook(
            f"backup: no RDS instance (set aws.rds_instance for environment {ctx.env_name} in "
            "cockpit.toml, or instance in the check)"
        )
    rds = client(ctx, "rds")
    snapshots = pages(
        f"RDS snapshots of {instance}",
        rds,
        "describe_db_snapshots",
        "DBSnapshots",
        DBInstanceIdentifier=instance,
    )
    ready = [
        (s["SnapshotCreateTime"].timestamp(), str(s["DBSnapshotIdentifier"]))
        for s in snapshots
        if s.get("Status") == "available" and s.get("SnapshotCreateTime")
    ]
    if not ready:
        return "", 0.0
    taken, name = max(ready)
    return name, taken
