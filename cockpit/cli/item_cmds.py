"""``cockpit item`` and ``cockpit preview``: decide a checklist item (do, skip, approve, reject, or
resume or redo an interrupted step), and show exactly what a step will do without changing
anything.
"""

from __future__ import annotations

import contextlib
import json
import signal
import threading
from pathlib import Path
from typing import Any

from cockpit.cli.base import Command, add, require_item
from cockpit.vocabulary import DECISIONS

# Not decisions: watching a running step, and asking it to stop.
FOLLOWING = ("attach", "cancel")


def cmd_item(cmd: Command) -> int:
    from cockpit.actions import decide
    from cockpit.launch import Detached

    args = cmd.args
    if args.decision in FOLLOWING:
        return _follow(cmd)
    cancel, leave = threading.Event(), threading.Event()
    left: list[int] = []

    def on_interrupt(_sig: int, _frame: object) -> None:
        # Ctrl-C: ask the step to stop (recorded); a second Ctrl-C leaves it running.
        if cancel.is_set():
            leave.set()
            return
        cancel.set()
        with contextlib.suppress(OSError, ValueError):
            cmd.say("cli.cancelling", item=args.item)

    def on_hangup(sig: int, _frame: object) -> None:
        # A dropped SSH session or a kill: stop watching; the step goes on under its supervisor.
        left.append(sig)
        leave.set()

    previous = {
        sig: signal.signal(sig, handler)
        for sig, handler in (
            (signal.SIGINT, on_interrupt),
            (signal.SIGHUP, on_hangup),
            (signal.SIGTERM, on_hangup),
        )
    }
    try:
        ev = decide(
            cmd.session,
            args.release,
            args.item,
            args.decision,
            reason=args.reason,
            override=args.override,
            output=lambda line: cmd.print_line("  | " + line),
            cancel=cancel,
            detach=args.detach,
            leave=leave,
            message=_message(args),
        )
    except Detached:
        with contextlib.suppress(OSError, ValueError):
            cmd.print(_detached_text(args.release, args.item))
        return 128 + left[0] if left else 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if args.detach:
        cmd.print(_detached_text(args.release, args.item))
        return 0
    cmd.print(f"#{ev.seq} {ev.action} {ev.subject} by {ev.actor}")
    return 0


def _message(args: Any) -> str | None:
    """A notify item's text from ``--message-file`` (``-``: standard input); None: its draft."""
    name = getattr(args, "message_file", None)
    if not name:
        return None
    import sys

    from cockpit.errors import UsageError

    if name == "-":
        return sys.stdin.read()
    try:
        return Path(name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError.said(
            "err.cannot_read", option="--message-file", value=name, cause=exc
        ) from None


def _detached_text(release: str, item: str) -> str:
    return (
        f"{item} goes on under its supervisor; follow it with "
        f"`cockpit item attach {release} {item}`, stop it with "
        f"`cockpit item cancel {release} {item} --reason ...`"
    )


def _follow(cmd: Command) -> int:
    """``attach``: the running step's output until its outcome; ``cancel``: ask it to stop."""
    from cockpit.errors import UsageError
    from cockpit.release import find_release_id
    from cockpit.steprun import attach, request_cancel

    args = cmd.args
    release_id = find_release_id(cmd.session.store, args.release)
    require_item(cmd, release_id, args.item)
    if args.decision == "cancel":
        if not (args.reason and args.reason.strip()):
            raise UsageError.said("err.cancel_reason")
        ev = request_cancel(cmd.session, release_id, args.item, args.reason.strip())
        cmd.print(
            f"#{ev.seq} {ev.action} {ev.subject} by {ev.actor}: the step stops within seconds"
        )
        return 0
    status = attach(
        cmd.session, release_id, args.item, output=lambda line: cmd.print_line("  | " + line)
    )
    cmd.print(f"{args.item}: {status.value}")
    return 0 if status.value == "done" else 1


def cmd_preview(cmd: Command) -> int:
    from cockpit.deploy import preview

    info, shown = preview(cmd.session, cmd.release_or_the_open_one(), cmd.args.item)
    if cmd.args.json:
        cmd.print(
            json.dumps(
                {
                    "item": info.id,
                    "kind": info.run.kind,
                    "source": info.source,
                    "summary": shown.summary,
                    "calls": shown.calls,
                    "lines": shown.said("en"),
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
    for line in shown.said(cmd.session.lang):
        cmd.print_line("  " + line)
    return 0


def register(sub: Any) -> None:
    """``item`` and ``preview``."""
    p = add(
        sub,
        "item",
        cmd_item,
        "do, skip, approve or reject a checklist item; resume or redo an interrupted step; "
        "attach to or cancel a running step",
    )
    p.add_argument("decision", metavar="ACTION", choices=(*DECISIONS, *FOLLOWING))
    p.add_argument("release", metavar="RELEASE")
    p.add_argument("item", metavar="ITEM", help="item id, e.g. t14.requirements")
    p.add_argument("--reason", help="why (required to skip or reject)")
    p.add_argument(
        "--override", metavar="REASON", help="run a T-0 step outside the change window, saying why"
    )
    p.add_argument(
        "--detach",
        action="store_true",
        help="start the step and return; it runs on under its supervisor",
    )
    p.add_argument(
        "--message-file",
        metavar="FILE",
        help="a notify item: send this text (`-`: standard input) instead of its draft "
        "(`cockpit notify draft` prints the draft to edit)",
    )

    p = add(sub, "preview", cmd_preview, "show exactly what a step will do (changes nothing)")
    p.add_argument("release", metavar="RELEASE", nargs="?", help="default: the one open release")
    p.add_argument("item", metavar="ITEM", help="step item id, e.g. t0.deploy")
    p.add_argument("--json", action="store_true")
