"""``cockpit item`` and ``cockpit preview``: decide a checklist item (do, skip, approve, reject, or
resume or redo an interrupted step), and show exactly what a step will do without changing
anything.
"""

from __future__ import annotations

import json
from typing import Any

from cockpit.cli.base import Command, add
from cockpit.vocabulary import DECISIONS


def cmd_item(cmd: Command) -> int:
    from cockpit.actions import decide

    ev = decide(
        cmd.session,
        cmd.args.release,
        cmd.args.item,
        cmd.args.action,
        reason=cmd.args.reason,
        override=cmd.args.override,
        output=lambda line: cmd.print_line("  | " + line),
    )
    cmd.print(f"#{ev.seq} {ev.action} {ev.subject} by {ev.actor}")
    return 0


def cmd_preview(cmd: Command) -> int:
    from cockpit.deploy import preview

    info, shown = preview(cmd.session, cmd.args.release, cmd.args.item)
    if cmd.args.json:
        cmd.print(
            json.dumps(
                {
                    "item": info.id,
                    "kind": info.run.kind,
                    "source": info.source,
                    "summary": shown.summary,
                    "calls": shown.calls,
                    "lines": shown.lines,
                    "state": shown.state,
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return 0
    where = " (from cockpit.toml)" if info.source == "config" else ""
    cmd.print_line(f"{info.id}  {info.run.kind}{where}  {info.status.value}")
    cmd.print_line(shown.summary)
    for call in shown.calls:
        cmd.print_line("  $ " + call)
    for line in shown.lines:
        cmd.print_line("  " + line)
    return 0


def register(sub: Any) -> None:
    """``item`` and ``preview``."""
    p = add(
        sub,
        "item",
        cmd_item,
        "do, skip, approve or reject a checklist item; resume or redo an interrupted step",
    )
    p.add_argument("action", choices=DECISIONS)
    p.add_argument("release", metavar="RELEASE")
    p.add_argument("item", metavar="ITEM", help="item id, e.g. t14.requirements")
    p.add_argument("--reason", help="why (required to skip or reject)")
    p.add_argument(
        "--override", metavar="REASON", help="run a T-0 step outside the change window, saying why"
    )

    p = add(sub, "preview", cmd_preview, "show exactly what a step will do (changes nothing)")
    p.add_argument("release", metavar="RELEASE")
    p.add_argument("item", metavar="ITEM", help="step item id, e.g. t0.deploy")
    p.add_argument("--json", action="store_true")
