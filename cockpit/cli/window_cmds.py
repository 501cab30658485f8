"""``cockpit window list``: a plan's next change windows (regular, extra, blacked out) in the
window's zone, in UTC and in the operator's own zone, with the stages of its T-0 day.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cockpit.cli.base import Command, add, count
from cockpit.i18n import tr
from cockpit.window import WEEKDAYS


def span(start: datetime, end: datetime, zone: Any = None, lang: str = "en") -> str:
    """``Wed 2026-12-16 01:00-05:00 JST`` (ja ``2026-12-16(水) 01:00-05:00 JST``) in ``zone``
    (``None``: the machine's local zone), padded to 34 cells; an end on another day gets
    ``+1d`` (``+1日``)."""
    from rich.cells import cell_len

    from cockpit.when import day_label

    s, e = start.astimezone(zone), end.astimezone(zone)
    days = (e.date() - s.date()).days
    later = tr("when.plus_days", lang, n=days) if days else ""
    zones = s.tzname() if s.tzname() == e.tzname() else f"{s.tzname()}/{e.tzname()}"
    text = f"{day_label(s, lang, year=True)} {s:%H:%M}-{e:%H:%M}{later} {zones}"
    return text + " " * max(0, 34 - cell_len(text))


def cmd_window_list(cmd: Command) -> int:
    from itertools import islice

    from cockpit.plan import read_plan
    from cockpit.schedule import schedule_for, slots, stage_times

    config = cmd.session.loaded.config
    plan = read_plan(cmd.args.plan).plan
    cfg = schedule_for(config, plan.name)
    stages = next((p.stages for p in plan.phases if p.offset_days == 0), [])
    lang = cmd.session.lang
    own = cmd.session.t("win.own") if plan.name in config.windows else "change_window"
    day = cmd.session.t(f"win.day{WEEKDAYS.index(cfg.weekday)}")
    if cfg.frequency == "weekly":
        rule = cmd.session.t("win.weekly", day=day)
    else:
        rule = cmd.session.t("win.monthly", nth=cmd.session.t(f"win.nth{cfg.week}"), day=day)
    cmd.say(
        "win.rule",
        plan=plan.name,
        own=own,
        rule=rule,
        hours=f"{cfg.start}-{cfg.end} {cfg.timezone}",
        order=cfg.phase_order,
    )
    now = cmd.session.now()
    local_zone = now.astimezone().tzname()
    cmd.print(f"{'WINDOW (' + cfg.timezone + ')':<34} {'UTC':<34} LOCAL ({local_zone})")
    for slot in islice(slots(config, plan.name, now), cmd.args.n):
        w = slot.window
        line = f"{span(w.start, w.end, w.start.tzinfo, lang)} {span(w.start, w.end, UTC, lang)} "
        line += span(w.start, w.end, None, lang).rstrip()
        if slot.kind == "extra":
            line += "  " + cmd.session.t("win.extra", reason=slot.reason or "-")
        if slot.blackout is not None:
            line += "  " + cmd.session.t("win.blackout", reason=slot.blackout.reason)
        cmd.print_line(line)
        if slot.usable:
            for stage, start, end in stage_times(w, stages):
                late = (
                    "  " + cmd.session.t("win.late")
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
