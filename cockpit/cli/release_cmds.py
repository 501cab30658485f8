"""``cockpit note`` and ``cockpit release new|list|show|close|cancel``: the operator's logbook
entry, and starting, listing, showing (with the checklist's progress) and closing releases.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cockpit.cli.base import Command, add
from cockpit.errors import UsageError
from cockpit.vocabulary import EMERGENCY_CRITERIA


def cmd_note(cmd: Command) -> int:
    from cockpit.release import get_release, record_note

    text = " ".join(cmd.args.text).strip()
    if not text:
        raise UsageError.said("err.note_empty")
    release = get_release(cmd.session.store, cmd.args.release) if cmd.args.release else None
    ev = record_note(cmd.session.store, cmd.session.operator, text, release)
    cmd.say("cli.noted", seq=ev.seq, actor=ev.actor)
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
        emergency=cmd.args.emergency,
        reason=cmd.args.reason,
        override=cmd.args.override,
    )
    if cmd.args.json:
        cmd.print(json.dumps(release.as_dict(), indent=2, ensure_ascii=False))
    else:
        cmd.print(
            f"created release {release.id}: {release.version} {release.plan} "
            f"-> {release.environment}{' (rehearsal)' if release.rehearsal else ''}, "
            f"T-0 {cmd.local_time(release.t0)}"
        )
        if release.emergency:
            cmd.print(
                f"emergency ({release.emergency['criterion']}): its T-0 steps wait for the "
                f"release committee: cockpit release approve-emergency {release.id}"
            )
    return 0


def cmd_release_approve_emergency(cmd: Command) -> int:
    from cockpit.release import approve_emergency

    release = approve_emergency(cmd.session, cmd.args.release, cmd.args.reason)
    cmd.say("cli.emergency_approved", release=release.id, name=cmd.session.operator.name)
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
        cmd.say("cli.no_releases")
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
    cmd.say("cli.release_ended", release=release.id, status=release.status)
    if release.status == "closed":
        cmd.say("cli.its_report", release=release.id)
    return 0


def cmd_release_show(cmd: Command) -> int:
    from cockpit.release import get_release

    release = get_release(cmd.session.store, cmd.args.release)
    if cmd.args.json:
        shown = {**release.as_dict(), "phases": _phases(cmd, release.id)}
        cmd.print(json.dumps(shown, indent=2, ensure_ascii=False))
        return 0
    cmd.print(
        f"release {release.id}  {release.version}  plan {release.plan}  "
        f"-> {release.environment}{'  REHEARSAL' if release.rehearsal else ''}"
    )
    cmd.print(f"  T-0       {cmd.local_time(release.t0)}  ({release.t0})")
    cmd.print(f"  status    {release.status}")
    if release.emergency:
        approved = ", ".join(a.split("@")[0] for a in release.emergency_approved_by)
        cmd.print_line(
            f"  emergency {release.emergency['criterion']}: {release.emergency['reason']}; "
            f"committee: {approved or 'not approved yet'}"
        )
    created = cmd.local_time(release.created_at)
    cmd.print(f"  created   {created} by {release.created_by} (#{release.created_seq})")
    cmd.print(f"  events    {release.event_count}, last #{release.last_seq} {release.last_action}")
    for note in release.notes:
        cmd.print_line(f"  note #{note['seq']} {note['by']}: {note['text']}")
    _print_checklist(cmd, release.id)
    return 0


def _phases(cmd: Command, release_id: str) -> list[dict[str, Any]] | None:
    """Each phase's state, as the text shows it: settled / all items, due, each item's status
    and who settled it (``None``: the plan cannot be read)."""
    from cockpit.checklist import load_checklist
    from cockpit.plan import PlanError
    from cockpit.window import phase_due

    try:
        checklist = load_checklist(cmd.session.store, release_id)
    except PlanError:
        return None
    t0 = checklist.release.t0_at()
    phases = []
    for phase in checklist.plan.plan.phases:
        done, total = checklist.progress(phase)
        items = [(item, checklist.state(item.id)) for item in phase.items]
        phases.append(
            {
                "id": phase.id,
                "title_ja": phase.title_ja,
                "title_en": phase.title_en,
                "settled": done,
                "items": total,
                "due": phase_due(t0, -phase.offset_days).isoformat(),
                "state": [
                    {"item": item.id, "status": state.status.value, "by": state.by}
                    for item, state in items
                ],
            }
        )
    return phases


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
        due = cmd.session.times.short(phase_due(t0, -phase.offset_days))
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


def cmd_release_notes(cmd: Command) -> int:
    from cockpit.config import GitConfig
    from cockpit.versioning.git import Git
    from cockpit.versioning.notes import release_notes
    from cockpit.versioning.rules import version_of_tag

    loaded = cmd.session.loaded
    cfg = loaded.environment(cmd.args.env).git if cmd.args.env else GitConfig()
    repo = Path(cmd.args.repo) if cmd.args.repo else loaded.resolve(cfg.repo)
    git = Git(repo, timeout=cfg.timeout_seconds)
    until = cmd.args.to or "HEAD"
    if git.sha(until) is None:
        raise UsageError.said("err.notes_ref", option="--to", ref=until, repo=repo)
    since = cmd.args.since
    if since is not None and git.sha(since) is None:
        raise UsageError.said("err.notes_ref", option="--from", ref=since, repo=repo)
    if since is None:
        tags = {k: v for k, v in git.version_tags(cfg.tag_format).items() if k != until}
        since = git.last_release(
            tags, f"{until}^" if until in git.version_tags(cfg.tag_format) else until
        )
    version = cmd.args.version or str(version_of_tag(cfg.tag_format, until) or "Unreleased")
    langs = (cmd.args.lang,) if cmd.args.lang else ("ja", "en")
    text = release_notes(version, git.commits(since, until), since, until, langs)
    return _write(cmd, text)


def cmd_release_report(cmd: Command) -> int:
    from cockpit.releasereport import release_report

    text = release_report(cmd.session.store, cmd.args.release, cmd.args.format, cmd.session.times)
    return _write(cmd, text)


def _write(cmd: Command, text: str) -> int:
    """Print ``text``, or write it to ``--out`` and say where."""
    if not cmd.args.out:
        cmd.out.write(text)
        return 0
    out = Path(cmd.args.out)
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError.said(
            "err.cannot_write", option="--out", value=out, cause=exc.strerror
        ) from None
    cmd.print(f"wrote {out}")
    return 0


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
    p.add_argument(
        "--emergency",
        metavar="CRITERION",
        choices=EMERGENCY_CRITERIA,
        help=f"an emergency release outside the windows ({', '.join(EMERGENCY_CRITERIA)}); "
        "needs --reason and the release committee's approval",
    )
    p.add_argument("--reason", help="what happened (with --emergency)")
    p.add_argument(
        "--override",
        metavar="REASON",
        help="a T-0 outside every window, or in the past, with the reason why "
        "(production: a second operator gives the same command)",
    )
    p.add_argument("--json", action="store_true")
    p = add(release_sub, "list", cmd_release_list, "list releases")
    p.add_argument("--json", action="store_true")
    p = add(release_sub, "show", cmd_release_show, "show one release and its checklist")
    p.add_argument("release", metavar="ID")
    p.add_argument("--json", action="store_true")
    p.add_argument("--items", action="store_true", help="list every item with its state")

    p = add(release_sub, "notes", cmd_release_notes, "release notes from conventional commits")
    p.add_argument("--env", help="the environment whose [git] repository and tag format to use")
    p.add_argument("--repo", help="the repository (default: the config's git.repo)")
    p.add_argument("--from", dest="since", metavar="REV", help="default: the last release tag")
    p.add_argument("--to", metavar="REV", help="default: HEAD")
    p.add_argument("--version", help="the version the notes are for (default: --to's tag)")
    # --lang (the global option, before or after the command) gives one language; else both.
    p.add_argument("--out", metavar="FILE", help="write to FILE instead of printing")
    p = add(release_sub, "report", cmd_release_report, "the release report (Markdown or HTML)")
    p.add_argument("release", metavar="ID")
    p.add_argument("--format", choices=("md", "html"), default="md")
    p.add_argument("--out", metavar="FILE", help="write to FILE instead of printing")
    p = add(
        release_sub,
        "approve-emergency",
        cmd_release_approve_emergency,
        "let an emergency release run its T-0 steps (release committee)",
    )
    p.add_argument("release", metavar="ID")
    p.add_argument("--reason", help="why")

    for name, help_text in (
        ("close", "close a release whose work is over"),
        ("cancel", "cancel a release (reason required)"),
    ):
        p = add(release_sub, name, cmd_release_close, help_text)
        p.add_argument("release", metavar="ID")
        p.add_argument("--reason", help="why")
