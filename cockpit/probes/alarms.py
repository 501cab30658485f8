"""The ``alarms`` probe: no CloudWatch alarm is in ``ALARM`` among those named and those whose
name starts with a prefix. A named alarm that does not exist, or a prefix no alarm matches,
fails the check (a check that looks at nothing never passes). ``INSUFFICIENT_DATA`` is shown but
does not fail: a new alarm starts there."""

from __future__ import annotations

from typing import Any

from cockpit.plan.probes import AlarmsProbe
from cockpit.probes.aws import client, pages
from cockpit.probes.base import CannotLook, ProbeContext, ProbeKind, Result


class AlarmsProbeKind(ProbeKind):
    name = "alarms"

    def preview(self, spec: AlarmsProbe, ctx: ProbeContext) -> str:
        return f"CloudWatch alarms {_which(spec)}: none in ALARM"

    def run(self, spec: AlarmsProbe, ctx: ProbeContext) -> Result:
        if not spec.names and not spec.prefix:
            raise CannotLook("alarms: name the alarms (names) or a prefix")
        cloudwatch = client(ctx, "cloudwatch")
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(spec.names), 100):
            batch = spec.names[start : start + 100]
            for alarm in pages(
                "cloudwatch DescribeAlarms",
                cloudwatch,
                "describe_alarms",
                "MetricAlarms",
                AlarmNames=batch,
            ):
                found[alarm["AlarmName"]] = alarm
        by_prefix: list[str] = []
        if spec.prefix:
            for alarm in pages(
                "cloudwatch DescribeAlarms",
                cloudwatch,
                "describe_alarms",
                "MetricAlarms",
                AlarmNamePrefix=spec.prefix,
            ):
                found[alarm["AlarmName"]] = alarm
                by_prefix.append(alarm["AlarmName"])
        missing = [name for name in spec.names if name not in found]
        firing = sorted(name for name, a in found.items() if a.get("StateValue") == "ALARM")
        states = {name: str(a.get("StateValue", "")) for name, a in sorted(found.items())}
        details: dict[str, Any] = {"alarms": states, "in_alarm": firing, "missing": missing}
        expected = f"no alarm in ALARM among {_which(spec)}"
        problems: list[str] = []
        if firing:
            reason = str(found[firing[0]].get("StateReason", ""))[:200]
            problems.append(
                f"{len(firing)} in ALARM: {', '.join(firing)}" + (f" ({reason})" if reason else "")
            )
        if missing:
            problems.append(f"not found: {', '.join(missing)}")
        if spec.prefix and not by_prefix:
            problems.append(f"no alarm named {spec.prefix}*")
        if problems:
            return Result(False, "; ".join(problems), expected, details)
        waiting = [name for name, state in states.items() if state == "INSUFFICIENT_DATA"]
        seen = f"{len(states)} alarm(s), none in ALARM" + (
            f" ({len(waiting)} with insufficient data)" if waiting else ""
        )
        return Result(True, seen, expected, details)


def _which(spec: AlarmsProbe) -> str:
    parts = list(spec.names) + ([f"{spec.prefix}*"] if spec.prefix else [])
    return ", ".join(parts) or "(none named)"
