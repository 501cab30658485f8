"""``cockpit rollback plan|run|skip|report``: show what a rollback would undo, undo a release's
done steps newest first (asking once; resuming an interrupted rollback), leave a step whose undo
failed as it is, and draft the rollback report.
"""

from __future__ import annotations

import sys
from typing import Any

from cockpit.cli.base import Command, add, output_path, require_item, write_output
from cockpit.errors import Phrase, UsageError


def cmd_rollback_plan(cmd: Command) -> int:
    from cockpit.rollback import rollback_plan

    plan = rollback_plan(cmd.session, cmd.args.release)
    if not plan.entries:
        cmd.say("cli.nothing_ran")
        return 0
    _print_rollback_plan(cmd, plan)
    return 0


def _print_rollback_plan(cmd: Command, plan: Any) -> None:
    """The question naming what will be undone, then one line per step, newest first."""
    if plan.interrupted is not None:
        cmd.print_line(
            f"an interrupted rollback (#{plan.interrupted.seq}: {plan.interrupted.reason}) "
            "resumes where it stopped"
        )
    cmd.print_line(plan.question())
    for number, entry in enumerate(plan.entries, start=1):
        again = " (interrupted: re-checked first)" if entry.in_flight is not None else ""
        cmd.print_line(f"  {number}. {entry.id:<20} {entry.summary}{again}")


def cmd_rollback_skip(cmd: Command) -> int:
    from cockpit.rollback import skip_undo

    require_item(cmd, cmd.args.release, cmd.args.item)
    ev = skip_undo(cmd.session, cmd.args.release, cmd.args.item, cmd.args.reason)
    cmd.say("cli.undo_left", seq=ev.seq, action=ev.action, item=ev.subject, actor=ev.actor)
    return 0


def cmd_rollback_run(cmd: Command) -> int:
    from cockpit.rollback import rollback_plan

    plan = rollback_plan(cmd.session, cmd.args.release)
    if not plan.to_undo:
        cmd.say("cli.no_undo")
        return 1
    _print_rollback_plan(cmd, plan)
    if not cmd.args.yes:
        if not sys.stdin.isatty():
            raise UsageError.said("err.no_tty_rollback")
        if input("roll back? [y/N] ").strip().lower() not in {"y", "yes"}:
            cmd.say("cli.not_rolled_back")
            return 1
    from cockpit.release import find_release_id
    from cockpit.steprun import start_rollback

    # Under its supervisor: an SSH drop now leaves it running; rolling back again resumes an
    # interrupted one where it stopped.
    result = start_rollback(
        cmd.session,
        find_release_id(cmd.session.store, cmd.args.release),
        cmd.args.reason,
        output=lambda line: cmd.print_line("  | " + line),
    )
    healthy = {True: "healthy", False: "NOT healthy", None: "no health checks"}[result.healthy]
    cmd.print_line(
        f"undone: {', '.join(result.undone) or 'none'}; {healthy}; "
        f"{result.elapsed_s:.1f} s from the decision"
    )
    if result.failed:
        cmd.print_line(f"FAILED at {result.failed}: {result.error}")
        cmd.say("cli.left_to_undo", left=", ".join(result.left) or Phrase("err.none"))
    return 0 if result.ok else 1


def cmd_rollback_report(cmd: Command) -> int:
    from cockpit.reports import rollback_report

    target = output_path(cmd.args.out, "--out") if cmd.args.out else None
    text = rollback_report(cmd.session.store, cmd.release_or_the_open_one(), cmd.session.times)
    if target is not None:
        write_output(target, text, "--out")
        cmd.print(f"wrote {cmd.args.out}")
    else:
        cmd.print(text)
    return 0


def register(sub: Any) -> None:
    """``rollback plan|run|report``."""
    rb = sub.add_parser("rollback", help="undo the done steps of a release, newest first")
    rb_sub = rb.add_subparsers(dest="subcommand", metavar="SUBCOMMAND", required=True)
    p = add(rb_sub, "plan", cmd_rollback_plan, "show what a rollback would undo (changes nothing)")
    p.add_argument("release", metavar="RELEASE")
    p = add(rb_sub, "run", cmd_rollback_run, "roll back now (asks once, naming what is undone)")
    p.add_argument("release", metavar="RELEASE")
    p.add_argument("--reason", required=True, help="why: what was seen, or the trigger")
    p.add_argument("--yes", action="store_true", help="do not ask")
    p = add(rb_sub, "skip", cmd_rollback_skip, "leave a step whose undo failed as it is")
    p.add_argument("release", metavar="RELEASE")
    p.add_argument("item", metavar="ITEM")
    p.add_argument("--reason", required=True, help="why it may stay as it is")
    p = add(rb_sub, "report", cmd_rollback_report, "draft the rollback report (Markdown)")
    p.add_argument("release", metavar="RELEASE", nargs="?", help="default: the one open release")
    p.add_argument("--out", metavar="FILE", help="write it to FILE (default: print it)")
