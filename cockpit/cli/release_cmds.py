"""``cockpit note`` and ``cockpit release new|list|show|close|cancel``: the operator's logbook
entry, and starting, listing, showing (with the checklist's progress) and closing releases.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cockpit.cli.base import Command, add
from cockpit.errors import UsageError


def cmd_note(cmd: Command) -> int:
    from cockpit.release import get_release, record_note

    text = " ".join(cmd.args.text).strip()
    if not text:
        raise UsageError("note: the text is empty")
    release = get_release(cmd.session.store, cmd.args.release) if cmd.args.release else None
    ev = record_note(cmd.session.store, cmd.session.operator, text, release)
    cmd.print(f"noted as #{ev.seq} by {ev.actor}")
    return 0


def cmd_release_new(cmd: Command) -> int:
    from cockpit.release import create_release, new_release_event

    # Check everything the operator typed before the database is touched.
    new_release_event(
        cmd.session.loaded,
        plan=cmd.args.plan,
        environment=cmd.args.env,
        version=cmd.args.version,
        t0=cmd.args.t0,
    )
    release = create_release(
        cmd.session,
        plan=cmd.args.plan,
        environment=cmd.args.env,
        version=cmd.args.version,
        t0=cmd.args.t0,
    )
    if cmd.args.json:
        cmd.print(json.dumps(release.as_dict(), indent=2, ensure_ascii=False))
    else:
        cmd.print(
            f"created release {release.id}: {release.version} {release.plan} "
            f"-> {release.environment}{' (rehearsal)' if release.rehearsal else ''}, "
            f"T-0 {cmd.local_time(release.t0)}"
        )
    return 0


def cmd_release_list(cmd: Command) -> int:
    from cockpit.release import all_releases

    # From the projection: one row a release, whatever the log's length (`show` has the notes).
    releases = all_releases(cmd.session.store, summary=True)
    if cmd.args.json:
        listed = [{k: v for k, v in r.as_dict().items() if k != "notes"} for r in releases]
        cmd.print(json.dumps(listed, indent=2, ensure_ascii=False))
        return 0
    if not releases:
        cmd.print("no releases yet: `cockpit release new --help`")
        return 0
    cmd.print(f"{'ID':<11} {'VERSION':<12} {'PLAN':<9} {'ENV':<14} {'T-0':<21} STATUS")
    for r in releases:
        env = r.environment + (" (R)" if r.rehearsal else "")
        t0 = cmd.local_time(r.t0)
        plan = Path(r.plan).stem
        cmd.print_line(f"{r.id:<11} {r.version:<12} {plan:<9} {env:<14} {t0:<21} {r.status}")
    if any(r.rehearsal for r in releases):
        cmd.print("(R) rehearsal")
    return 0


def cmd_release_close(cmd: Command) -> int:
    from cockpit.release import close_release

    release = close_release(
        cmd.session.store,
        cmd.session.operator,
        cmd.args.release,
        cancel=cmd.args.subcommand == "cancel",
        reason=cmd.args.reason,
    )
    cmd.print(f"release {release.id} {release.status}")
    return 0


def cmd_release_show(cmd: Command) -> int:
    from cockpit.release import get_release

    release = get_release(cmd.session.store, cmd.args.release)
    if cmd.args.json:
        cmd.print(json.dumps(release.as_dict(), indent=2, ensure_ascii=False))
        return 0
    cmd.print(
        f"release {release.id}  {release.version}  plan {release.plan}  "
        f"-> {release.environment}{'  REHEARSAL' if release.rehearsal else ''}"
    )
    cmd.print(f"  T-0       {cmd.local_time(release.t0)}  ({release.t0})")
    cmd.print(f"  status    {release.status}")
    cmd.print(f"  created   {release.created_at} by {release.created_by} (#{release.created_seq})")
    cmd.print(f"  events    {release.event_count}, last #{release.last_seq} {release.last_action}")
    for note in release.notes:
        cmd.print_line(f"  note #{note['seq']} {note['by']}: {note['text']}")
    _print_checklist(cmd, release.id)
    return 0


def _print_checklist(cmd: Command, release_id: str) -> None:
    from cockpit.checklist import MARKERS, load_checklist
    from cockpit.plan import PlanError
    from cockpit.window import phase_due

    try:
        checklist = load_checklist(cmd.session.store, release_id)
    except PlanError as exc:
        cmd.print(f"  plan      cannot be read: {exc}")
        return

    t0 = checklist.release.t0_at()
    cmd.print("")
    for phase in checklist.plan.plan.phases:
        done, total = checklist.progress(phase)
        due = phase_due(t0, -phase.offset_days).strftime("%m-%d %H:%M")
        cmd.print_line(f"  {phase.id.upper():<5} {phase.title_ja}  {done}/{total}  due {due}")
        if not getattr(cmd.args, "items", False):
            continue
        for item in phase.items:
            state = checklist.state(item.id)
            extra = f"  {state.by} {state.status.value}" if state.by else ""
            cmd.print_line(f"    {MARKERS[state.status]} {item.id:<24} {item.title_ja}{extra}")
    upcoming = checklist.next_item()
    if upcoming:
        phase, item = upcoming
        cmd.print_line(f"  next      {item.id}  {item.title_ja} ({item.title_en})")


def register(sub: Any) -> None:
    """``note`` and ``release new|list|show|close|cancel``."""
    p = add(sub, "note", cmd_note, "add an operator's logbook entry to the audit log")
    p.add_argument("--release", metavar="ID", help="the release it is about")
    p.add_argument("text", nargs="+", help="what to note")

    release = sub.add_parser("release", help="create, list and show releases")
    release_sub = release.add_subparsers(dest="subcommand", metavar="SUBCOMMAND", required=True)
    p = add(release_sub, "new", cmd_release_new, "start a release")
    p.add_argument("--plan", default="release", help="plan name (default: release)")
    p.add_argument("--env", required=True, help="environment from cockpit.toml")
    p.add_argument("--version", required=True, help="semantic version, e.g. 1.4.0")
    p.add_argument("--t0", required=True, help="T-0, ISO 8601 (window time zone if no offset)")
    p.add_argument("--json", action="store_true")
    p = add(release_sub, "list", cmd_release_list, "list releases")
    p.add_argument("--json", action="store_true")
    p = add(release_sub, "show", cmd_release_show, "show one release and its checklist")
    p.add_argument("release", metavar="ID")
    p.add_argument("--json", action="store_true")
    p.add_argument("--items", action="store_true", help="list every item with its state")

    for name, help_text in (
        ("close", "close a release whose work is over"),
        ("cancel", "cancel a release (reason required)"),
    ):
        p = add(release_sub, name, cmd_release_close, help_text)
        p.add_argument("release", metavar="ID")
        p.add_argument("--reason", help="why")
