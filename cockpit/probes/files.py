"""The ``file_exists`` and ``file_younger_than`` probes: a file is there, and was modified less
than so many hours ago (a fresh backup, a report of today's run)."""

from __future__ import annotations

import time

from cockpit.plan.probes import FileExistsProbe, FileYoungerThanProbe
from cockpit.probes.base import ProbeContext, ProbeKind, Result


class FileExistsProbeKind(ProbeKind):
    name = "file_exists"

    def preview(self, spec: FileExistsProbe, ctx: ProbeContext) -> str:
        return f"{ctx.resolve(spec.path)}: exists"

    def run(self, spec: FileExistsProbe, ctx: ProbeContext) -> Result:
        path = ctx.resolve(spec.path)
        if not path.exists():
            return Result(
                False,
                "does not exist",
                "exists",
                {"path": str(path)},
                line=f"{path}: does not exist",
            )
        return Result(True, "exists", "exists", {"path": str(path)})


class FileYoungerThanProbeKind(ProbeKind):
    name = "file_younger_than"

    def preview(self, spec: FileYoungerThanProbe, ctx: ProbeContext) -> str:
        return f"{ctx.resolve(spec.path)}: modified less than {spec.hours:g} h ago"

    def run(self, spec: FileYoungerThanProbe, ctx: ProbeContext) -> Result:
        path = ctx.resolve(spec.path)
        expected = f"under {spec.hours:g} h old"
        try:
            age_h = (time.time() - path.stat().st_mtime) / 3600
        except FileNotFoundError:
            return Result(
                False,
                "does not exist",
                expected,
                {"path": str(path)},
                line=f"{path}: does not exist",
            )
        details = {"path": str(path), "age_hours": round(age_h, 2)}
        if age_h >= spec.hours:
            return Result(
                False,
                f"{age_h:.1f} h old",
                expected,
                details,
                line=f"{path}: {age_h:.1f} h old, needs to be under {spec.hours:g} h",
            )
        return Result(True, f"{age_h:.1f} h old", expected, details)
