"""``cockpit plan validate|show``: check plan files against the schema, list the shipped plans, or
show one phase by phase.
"""

from __future__ import annotations

from typing import Any

from cockpit.cli.base import Command, add


def cmd_plan_validate(cmd: Command) -> int:
    from cockpit.plan import read_plan

    for name in cmd.args.files:
        loaded = read_plan(name)
        items = sum(len(phase.items) for phase in loaded.plan.phases)
        cmd.print(
            f"{loaded.source}: ok ({len(loaded.plan.phases)} phases, {items} items, "
            f"sha256 {loaded.sha256[:12]})"
        )
    return 0


def cmd_plan_show(cmd: Command) -> int:
    from cockpit.plan import list_plans, read_plan

    if not cmd.args.plan:
        for name in list_plans():
            plan = read_plan(name).plan
            cmd.print_line(f"{name:<10} {plan.title_ja}  {plan.title_en}")
        return 0
    loaded = read_plan(cmd.args.plan)
    plan = loaded.plan
    english = cmd.session.lang == "en"

    def title(thing: Any) -> str:
        first, second = (
            (thing.title_en, thing.title_ja) if english else (thing.title_ja, thing.title_en)
        )
        return f"{first}  ({second})"

    cmd.print(f"{plan.name}: {title(plan)}   sha256 {loaded.sha256[:12]}")
    for phase in plan.phases:
        cmd.print("")
        cmd.print_line(f"{phase.id.upper():<5} {title(phase)}")
        for item in phase.items:
            kind = type(item).__struct_config__.tag
            cmd.print_line(f"  {kind:<6} {item.id:<24} {title(item)}")
    return 0


def register(sub: Any) -> None:
    """``plan validate|show``."""
    plan = sub.add_parser("plan", help="validate and show release plans (checklists)")
    plan_sub = plan.add_subparsers(dest="subcommand", metavar="SUBCOMMAND", required=True)
    p = add(plan_sub, "validate", cmd_plan_validate, "check plan files against the schema")
    p.add_argument("files", nargs="+", metavar="FILE", help="plan .yaml file or shipped name")
    p = add(plan_sub, "show", cmd_plan_show, "list the shipped plans, or show one")
    p.add_argument("plan", nargs="?", metavar="NAME", help="shipped plan name or .yaml path")
