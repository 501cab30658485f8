"""``cockpit window list``: a plan's next change windows (regular, extra, blacked out) in the
window's zone, in UTC and in the operator's own zone, with the stages of its T-0 day.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cockpit.cli.base import Command, add, count

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def span(start: datetime, end: datetime, zone: Any = None) -> str:
    """``Wed 2026-12-16 01:00-05:00 JST`` in ``zone`` (``None``: the machine's local zone); an
    end on another day gets ``+1d``."""
    s, e = start.astimezone(zone), end.astimezone(zone)
    later = f"+{(e.date() - s.date()).days}d" if e.date() != s.date() else ""
    zones = s.tzname() if s.tzname() == e.tzname() else f"{s.tzname()}/{e.tzname()}"
    return f"{_DAYS[s.weekday()]} {s:%Y-%m-%d %H:%M}-{e:%H:%M}{later} {zones}"


def cmd_window_list(cmd: Command) -> int:
    from itertools import islice

    from cockpit.plan import read_plan
    from cockpit.schedule import schedule_for, slots, stage_times

    config = cmd.session.loaded.config
    plan = read_plan(cmd.args.plan).plan
    cfg = schedule_for(config, plan.name)
    stages = next((p.stages for p in plan.phases if p.offset_days == 0), [])
    own = "own schedule" if plan.name in config.windows else "change_window"
    nth = ("first", "second", "third", "fourth", "fifth")[cfg.week - 1]
    rule = f"every {cfg.weekday}" if cfg.frequency == "weekly" else f"{nth} {cfg.weekday} monthly"
    cmd.print(
        f"plan {plan.name} ({own}): {rule}, {cfg.start}-{cfg.end} {cfg.timezone}; "
        f"phase order: {cfg.phase_order}"
    )
    now = cmd.session.now()
    local_zone = now.astimezone().tzname()
    cmd.print(f"{'WINDOW (' + cfg.timezone + ')':<34} {'UTC':<34} LOCAL ({local_zone})")
    for slot in islice(slots(config, plan.name, now), cmd.args.n):
        w = slot.window
        line = f"{span(w.start, w.end, w.start.tzinfo):<34} {span(w.start, w.end, UTC):<34} "
        line += span(w.start, w.end)
        if slot.kind == "extra":
            line += f"  extra: {slot.reason or '-'}"
        if slot.blackout is not None:
            line += f"  BLACKED OUT: {slot.blackout.reason}"
        cmd.print_line(line)
        if slot.usable:
            for stage, start, end in stage_times(w, stages):
                late = (
                    "  (after the window closes)"
                    if end.astimezone(UTC) > w.end.astimezone(UTC)
                    else ""
                )
                label = f"{start:%H:%M}-{end:%H:%M}"
                cmd.print_line(f"    {label}  {stage.title_ja} ({stage.title_en}){late}")
    return 0


def register(sub: Any) -> None:
    """``window list``."""
    window = sub.add_parser("window", help="the change windows of the calendar")
    window_sub = window.add_subparsers(dest="subcommand", metavar="SUBCOMMAND", required=True)
    p = add(window_sub, "list", cmd_window_list, "show a plan's next change windows")
    p.add_argument("--plan", default="release", help="plan name or .yaml (default: release)")
    p.add_argument("-n", type=count, default=6, help="how many windows (default: 6)")
