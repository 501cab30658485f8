"""The ``cockpit`` command: headless commands for operators and scripts.

Exit codes: 0 success; 1 the command ran and found a problem (a broken audit chain, an action
refused); 2 bad input (config, arguments); 130 interrupted. Errors are one line on stderr, never
a traceback (``COCKPIT_DEBUG=1`` shows one for an internal error).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from cockpit.errors import CockpitError, UsageError

if TYPE_CHECKING:
    pass


class Command:
    """One invocation of a command: its arguments, where it prints, and the session (config,
    store, operator, clock, language), each made on first use so `cockpit --help` stays
    instant."""

    def __init__(self, args: argparse.Namespace, out: TextIO) -> None:
        from cockpit.i18n import default_lang
        from cockpit.session import Session

        self.args = args
        self.out = out
        self.session = Session(
            config_path=getattr(args, "config", None),
            lang=getattr(args, "lang", None) or default_lang(),
        )

    def print(self, text: str = "") -> None:
        print(text, file=self.out)

    def print_line(self, text: str) -> None:
        """One record per line: cut to the terminal's width on a terminal (80 columns on a
        bastion), whole when piped to a file or another program."""
        if self.out.isatty():
            import shutil

            width = shutil.get_terminal_size().columns
            if len(text) > width:
                text = text[: max(width - 3, 1)] + "..."
        print(text, file=self.out)

    def local_time(self, iso: str) -> str:
        """An ISO 8601 moment as ``2026-12-16 01:00 JST`` in the change window's time zone."""
        from datetime import datetime
        from zoneinfo import ZoneInfo

        zone = ZoneInfo(self.session.loaded.config.change_window.timezone)
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(zone)
        return moment.strftime("%Y-%m-%d %H:%M %Z")


# ---------------------------------------------------------------- commands


def cmd_init(cmd: Command) -> int:
    from importlib import resources

    target = Path(cmd.args.path)
    if target.exists() and not cmd.args.force:
        raise UsageError(f"{target}: already exists (use --force to overwrite)")
    starter = resources.files("cockpit").joinpath("starter.toml").read_text(encoding="utf-8")
    target.write_text(starter, encoding="utf-8")
    cmd.print(f"wrote {target}: edit it, then run `cockpit config check`")
    return 0


def cmd_config_check(cmd: Command) -> int:
    loaded = cmd.session.loaded
    envs = ", ".join(sorted(loaded.config.environments)) or "none"
    where = loaded.path or "no config file: embedded default"
    from cockpit.config import redact_url

    cmd.print(f"{where}: ok")
    cmd.print(f"  environments: {envs}")
    cmd.print(f"  database:     {redact_url(cmd.session.db_url)}")
    cmd.print(f"  checkpoint:   {cmd.session.checkpoint_file}")
    return 0


def cmd_config_schema(cmd: Command) -> int:
    from cockpit.config import json_schema

    cmd.print(json.dumps(json_schema(), indent=2))
    return 0


def cmd_db_upgrade(cmd: Command) -> int:
    from cockpit.config import redact_url
    from cockpit.store import Store

    store = Store(cmd.session.db_url, checkpoint_file=cmd.session.checkpoint_file)
    before = store.current_revision()
    store.upgrade()
    after = store.current_revision()
    state = "already up to date" if before == after else f"upgraded {before or 'empty'} -> {after}"
    cmd.print(f"{redact_url(cmd.session.db_url)}: {state}")
    return 0


def cmd_db_current(cmd: Command) -> int:
    from cockpit.config import redact_url
    from cockpit.store import SCHEMA_HEAD, SCHEMA_REVISIONS, Store

    current = Store(cmd.session.db_url).current_revision()
    if current == SCHEMA_HEAD:
        state = "up to date"
    elif current is not None and current not in SCHEMA_REVISIONS:
        state = f"NEWER than this cockpit ({SCHEMA_HEAD}): upgrade the cockpit"
    else:
        state = f"behind (head is {SCHEMA_HEAD}): run `cockpit db upgrade`"
    cmd.print(
        f"{redact_url(cmd.session.db_url)}: revision {current or 'none (empty database)'}, {state}"
    )
    return 0 if current == SCHEMA_HEAD else 1


def cmd_audit_verify(cmd: Command) -> int:
    from cockpit.store import read_checkpoint

    if cmd.args.checkpoint:
        checkpoint = read_checkpoint(Path(cmd.args.checkpoint))
        source = cmd.args.checkpoint
    else:
        checkpoint = read_checkpoint(cmd.session.checkpoint_file, missing_ok=True)
        source = str(cmd.session.checkpoint_file)
    started = time.perf_counter()
    report = cmd.session.store.verify(checkpoint)
    elapsed = time.perf_counter() - started
    if cmd.args.json:
        cmd.print(
            json.dumps(
                {
                    "ok": report.ok,
                    "events": report.count,
                    "head": {"seq": report.head_seq, "hash": report.head_hash},
                    "checkpoint": None
                    if checkpoint is None
                    else {"seq": checkpoint.seq, "hash": checkpoint.hash, "file": source},
                    "finding": None
                    if report.problem is None
                    else {
                        "code": report.problem.code,
                        "seq": report.problem.seq,
                        "message": report.problem.message,
                    },
                    "warnings": [
                        {"code": w.code, "seq": w.seq, "message": w.message}
                        for w in report.warnings
                    ],
                },
                indent=2,
            )
        )
        return 0 if report.ok else 1
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if report.problem is not None:
        cmd.print(f"audit chain BROKEN: {report.problem}")
        return 1
    anchor = (
        f"matches checkpoint seq {checkpoint.seq}"
        if checkpoint and checkpoint.seq
        else "no checkpoint: a cut-off or rewritten end cannot be detected"
    )
    cmd.print(
        f"audit chain ok: {report.count} events, head #{report.head_seq} "
        f"{report.head_hash[:12]}, {anchor} ({elapsed:.2f}s)"
    )
    return 0


def _release_filter(cmd: Command) -> str | None:
    if not getattr(cmd.args, "release", None):
        return None
    from cockpit.release import find_release_id

    return find_release_id(cmd.session.store, cmd.args.release)


def cmd_audit_export(cmd: Command) -> int:
    from cockpit.audit_export import export

    events = cmd.session.store.events(release_id=_release_filter(cmd))
    out: TextIO = cmd.out
    handle = None
    if cmd.args.output:
        handle = open(cmd.args.output, "w", encoding="utf-8", newline="")  # noqa: SIM115
        out = handle
    try:
        export(events, cmd.args.format, out)
    finally:
        if handle:
            handle.close()
    return 0


def cmd_audit_tail(cmd: Command) -> int:
    from cockpit.audit_export import format_event_line

    release_id = _release_filter(cmd)
    events = cmd.session.store.events(release_id=release_id, last=cmd.args.lines)
    for ev in events:
        cmd.print_line(format_event_line(ev))
    if not cmd.args.follow:
        return 0
    last = events[-1].seq if events else 0
    try:
        while True:
            time.sleep(1.0)
            for ev in cmd.session.store.events(release_id=release_id, after_seq=last):
                cmd.print_line(format_event_line(ev))
                last = ev.seq
            cmd.out.flush()
    except KeyboardInterrupt:
        return 0


def cmd_note(cmd: Command) -> int:
    from cockpit.events import NewEvent
    from cockpit.release import get_release

    text = " ".join(cmd.args.text).strip()
    if not text:
        raise UsageError("note: the text is empty")
    release = get_release(cmd.session.store, cmd.args.release) if cmd.args.release else None
    ev = cmd.session.store.append(
        NewEvent(
            action="note",
            release_id=release.id if release else None,
            reason=text,
            rehearsal=release.rehearsal if release else False,
        ),
        cmd.session.operator,
    )
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
        cmd.session.store,
        cmd.session.loaded,
        cmd.session.operator,
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

    releases = all_releases(cmd.session.store)
    if cmd.args.json:
        cmd.print(json.dumps([r.as_dict() for r in releases], indent=2, ensure_ascii=False))
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


def cmd_item(cmd: Command) -> int:
    from cockpit.actions import decide

    ev = decide(
        cmd.session.store,
        cmd.session.loaded,
        cmd.session.operator,
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

    info, shown = preview(
        cmd.session.store, cmd.session.loaded, cmd.session.operator, cmd.args.release, cmd.args.item
    )
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


def cmd_rollback_plan(cmd: Command) -> int:
    from cockpit.rollback import rollback_plan

    plan = rollback_plan(
        cmd.session.store, cmd.session.loaded, cmd.session.operator, cmd.args.release
    )
    if not plan.entries:
        cmd.print("nothing to roll back: no step of this release has run")
        return 0
    _print_rollback_plan(cmd, plan)
    return 0


def _print_rollback_plan(cmd: Command, plan: Any) -> None:
    """The question naming what will be undone, then one line per step, newest first."""
    cmd.print_line(plan.question())
    for number, entry in enumerate(plan.entries, start=1):
        cmd.print_line(f"  {number}. {entry.id:<20} {entry.summary}")


def cmd_rollback_run(cmd: Command) -> int:
    from cockpit.rollback import rollback, rollback_plan

    plan = rollback_plan(
        cmd.session.store, cmd.session.loaded, cmd.session.operator, cmd.args.release
    )
    if not plan.to_undo:
        cmd.print("nothing to roll back: no done step has an undo")
        return 1
    _print_rollback_plan(cmd, plan)
    if not cmd.args.yes:
        if not sys.stdin.isatty():
            raise UsageError("not a terminal: give --yes to roll back without asking")
        if input("roll back? [y/N] ").strip().lower() not in {"y", "yes"}:
            cmd.print("not rolled back")
            return 1
    result = rollback(
        cmd.session.store,
        cmd.session.loaded,
        cmd.session.operator,
        cmd.args.release,
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
        cmd.print_line(f"left to undo: {', '.join(result.left) or 'none'}")
    return 0 if result.ok else 1


def cmd_rollback_report(cmd: Command) -> int:
    from cockpit.reports import rollback_report

    text = rollback_report(cmd.session.store, cmd.args.release)
    if cmd.args.out:
        Path(cmd.args.out).write_text(text, encoding="utf-8")
        cmd.print(f"wrote {cmd.args.out}")
    else:
        cmd.print(text)
    return 0


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


def open_app(cmd: Command, release_id: str | None = None) -> int:
    """Open the Textual cockpit on this terminal."""
    from screens.app import run_app

    run_app(cmd.session, ascii=cmd.args.ascii, release_id=release_id)
    return 0


def cmd_open(cmd: Command) -> int:
    release_id = None
    if getattr(cmd.args, "release", None):
        from cockpit.release import find_release_id

        release_id = find_release_id(cmd.session.store, cmd.args.release)
    return open_app(cmd, release_id)


def serve_demo_app(root: Path) -> Any:
    """Serve the demo application (its HTTP checks' target) while the cockpit runs; the demo's
    rehearsal steps run Alembic against its database through DEMOAPP_DATABASE_URL."""
    from urllib.parse import urlsplit

    from cockpit.config import parse_config_file
    from cockpit.demo import app_db_url
    from cockpit.demoapp import DATABASE_URL_ENV
    from cockpit.demoapp.server import start

    os.environ.setdefault(DATABASE_URL_ENV, app_db_url(root))
    config = parse_config_file(root / "cockpit.toml")
    staging = config.environments.get("staging")
    port = urlsplit(staging.app_url).port if staging and staging.app_url else None
    try:
        return start(os.environ[DATABASE_URL_ENV], port=port or 0)
    except OSError as exc:
        print(f"cockpit: warning: the demo application cannot listen: {exc}", file=sys.stderr)
        return None


def cmd_demo(cmd: Command) -> int:
    from cockpit.demo import create_demo

    workspace = create_demo(Path(cmd.args.dir) if cmd.args.dir else None)
    os.environ["COCKPIT_CONFIG"] = str(workspace.config)
    cmd.args.config = str(workspace.config)
    cmd.print(f"demo workspace: {workspace.root}")
    cmd.print(f"  git repository  {workspace.repo} (tags: {', '.join(workspace.tags)})")
    cmd.print(f"  git remote      {workspace.repo.parent / 'remote.git'} (origin, bare)")
    cmd.print(f"  config          {workspace.config}")
    cmd.print(f"  application     {workspace.app_url} (database {workspace.db_url})")
    cmd.print("")
    if sys.stdout.isatty() and sys.stdin.isatty() and not cmd.args.no_tui:
        server = serve_demo_app(workspace.root)
        try:
            return open_app(cmd, workspace.release_id)
        finally:
            if server is not None:
                server.stop()
    cmd.args.release = workspace.release_id
    cmd.args.json = False
    cmd_release_show(cmd)
    cmd.print("")
    cmd.args.checkpoint = None
    cmd_audit_verify(cmd)
    cmd.print("")
    rid = workspace.release_id
    cmd.print("try it:")
    cmd.print(f"  export COCKPIT_CONFIG={workspace.config}")
    cmd.print(f"  cockpit release show {rid} --items")
    cmd.print(f"  cockpit item done {rid} t14.requirements")
    cmd.print(f"  cockpit item skip {rid} t14.dependencies --reason 'pip-audit ran in CI'")
    cmd.print(f"  cockpit note --release {rid} 'walked through T-14'")
    cmd.print("  cockpit audit tail; cockpit audit verify")
    return 0


# ---------------------------------------------------------------- parser


def cmd_tag(cmd: Command) -> int:
    from cockpit import tagging
    from cockpit.versioning import GitFailed, TagRequest

    args = cmd.args
    request = TagRequest(
        bump=args.bump,
        pre=args.pre,
        version=args.version,
        allow_dirty=args.allow_dirty,
        push=args.push,
    )
    prep = tagging.prepare(
        cmd.session.store,
        cmd.session.loaded,
        cmd.session.operator,
        request,
        release_text=args.release,
        env_name=args.env,
        repo=args.repo,
        unshallow=args.unshallow,
    )
    notes = Path(args.notes).read_text(encoding="utf-8") if args.notes else None
    if notes is not None:
        prep.plan.notes = notes.strip("\n")
    if args.json:
        cmd.print(json.dumps(prep.as_dict(), indent=2, ensure_ascii=False))
    else:
        print_tag_preview(cmd, prep)
    if not prep.ok:
        if not args.json:
            cmd.print("preflight failed: nothing was changed")
        return 1
    if args.dry_run or (prep.plan.todo == "nothing" and not args.push):
        return 0
    if prep.plan.todo == "nothing":
        if not args.json:
            cmd.print(f"{prep.plan.tag} is already published: nothing to do")
        return 0
    if not args.yes:
        if not (sys.stdin.isatty() and sys.stdout.isatty()):
            raise UsageError("not a terminal: add --yes to tag without a question")
        what = {"create": "create", "remake": "make again", "push": "push"}[prep.plan.todo]
        push = f" and push it to {prep.plan.remote}" if args.push and what != "push" else ""
        answer = input(f"{what} {prep.plan.tag} on {prep.plan.commit[:12]}{push}? [y/N] ")
        if answer.strip().lower() not in {"y", "yes"}:
            cmd.print("nothing was changed")
            return 1
    try:
        ev = tagging.execute(
            cmd.session.store,
            cmd.session.loaded,
            cmd.session.operator,
            prep,
            changelog=not args.no_changelog,
            progress=lambda line: cmd.print_line("  .. " + line) if not args.json else None,
        )
    except GitFailed as exc:
        made = prep.git.sha(f"refs/tags/{prep.plan.tag}") is not None
        state = "is made locally and not published" if made else "was not made"
        print(f"cockpit: {exc}", file=sys.stderr)
        print(
            f"cockpit: {prep.plan.tag} {state}; fix the cause and run the same command again: "
            "it resumes from there",
            file=sys.stderr,
        )
        return 1
    if not args.json:
        done = "published" if args.push else "created (not pushed: --push publishes it)"
        cmd.print(f"#{ev.seq} {ev.action}: {prep.plan.tag} {done}")
    return 0


def print_tag_preview(cmd: Command, prep: Any) -> None:
    plan = prep.plan
    where = f"branch {plan.branch}" if plan.branch else "detached HEAD"
    cmd.print_line(f"repository  {plan.repo}  ({where}, HEAD {plan.commit[:12]})")
    cmd.print_line(f"version     {plan.version}  {plan.why}")
    if plan.suggestion is not None:
        cmd.print_line(f"commits     {plan.suggestion.describe()}")
        for c in plan.suggestion.deciding[:10]:
            cmd.print_line(f"              {c.sha[:7]} {c.subject}")
    cmd.print("preflight")
    for check in plan.checks:
        mark = "[x]" if check.ok else "[!]"
        cmd.print_line(f"  {mark} {check.name:<11} {check.detail}")
    if plan.todo in {"create", "remake"}:
        cmd.print(f"tag message ({plan.tag})")
        for line in prep.message(None).splitlines():
            cmd.print_line("  | " + line)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cockpit",
        description="Release Cockpit: drive a release from one terminal, with an audit log.",
    )
    parser.add_argument("--config", metavar="FILE", help="cockpit.toml to use")
    parser.add_argument("--lang", choices=["ja", "en"], help="screen language (default: locale)")
    parser.add_argument(
        "--ascii", action="store_true", help="ASCII borders only (CJK terminals such as Tera Term)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(
        parent: Any, name: str, func: Callable[[Command], int], help_text: str
    ) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = parent.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(func=func)
        return p

    p = add(sub, "init", cmd_init, "write a commented starter cockpit.toml")
    p.add_argument("--path", default="cockpit.toml", help="where to write it")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")

    config = sub.add_parser("config", help="check the config or print its JSON Schema")
    config_sub = config.add_subparsers(dest="subcommand", metavar="SUBCOMMAND", required=True)
    add(config_sub, "check", cmd_config_check, "validate cockpit.toml")
    add(config_sub, "schema", cmd_config_schema, "print a JSON Schema of cockpit.toml")

    db = sub.add_parser("db", help="the cockpit's own database schema")
    db_sub = db.add_subparsers(dest="subcommand", metavar="SUBCOMMAND", required=True)
    add(db_sub, "upgrade", cmd_db_upgrade, "apply the shipped migrations")
    add(db_sub, "current", cmd_db_current, "show the schema revision")

    audit = sub.add_parser("audit", help="verify, export or follow the audit log")
    audit_sub = audit.add_subparsers(dest="subcommand", metavar="SUBCOMMAND", required=True)
    p = add(audit_sub, "verify", cmd_audit_verify, "check the hash chain (exit 1 if broken)")
    p.add_argument("--checkpoint", metavar="FILE", help="checkpoint file to check the head against")
    p.add_argument("--json", action="store_true", help="machine-readable result")
    p = add(audit_sub, "export", cmd_audit_export, "export events")
    p.add_argument("--format", choices=["jsonl", "csv", "md"], default="jsonl")
    p.add_argument("--release", metavar="ID", help="only this release")
    p.add_argument("--output", "-o", metavar="FILE", help="write here instead of stdout")
    p = add(audit_sub, "tail", cmd_audit_tail, "show the newest events")
    p.add_argument("-n", "--lines", type=int, default=20, help="how many (default 20)")
    p.add_argument("-f", "--follow", action="store_true", help="keep printing new events")
    p.add_argument("--release", metavar="ID", help="only this release")

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

    p = add(
        sub,
        "item",
        cmd_item,
        "do, skip, approve or reject a checklist item; resume or redo an interrupted step",
    )
    p.add_argument("action", choices=["done", "skip", "approve", "reject", "resume", "redo"])
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

    rb = sub.add_parser("rollback", help="undo the done steps of a release, newest first")
    rb_sub = rb.add_subparsers(dest="subcommand", metavar="SUBCOMMAND", required=True)
    p = add(rb_sub, "plan", cmd_rollback_plan, "show what a rollback would undo (changes nothing)")
    p.add_argument("release", metavar="RELEASE")
    p = add(rb_sub, "run", cmd_rollback_run, "roll back now (asks once, naming what is undone)")
    p.add_argument("release", metavar="RELEASE")
    p.add_argument("--reason", required=True, help="why: what was seen, or the trigger")
    p.add_argument("--yes", action="store_true", help="do not ask")
    p = add(rb_sub, "report", cmd_rollback_report, "draft the rollback report (Markdown)")
    p.add_argument("release", metavar="RELEASE")
    p.add_argument("--out", metavar="FILE", help="write it to FILE (default: print it)")

    plan = sub.add_parser("plan", help="validate and show release plans (checklists)")
    plan_sub = plan.add_subparsers(dest="subcommand", metavar="SUBCOMMAND", required=True)
    p = add(plan_sub, "validate", cmd_plan_validate, "check plan files against the schema")
    p.add_argument("files", nargs="+", metavar="FILE", help="plan .yaml file or shipped name")
    p = add(plan_sub, "show", cmd_plan_show, "list the shipped plans, or show one")
    p.add_argument("plan", nargs="?", metavar="NAME", help="shipped plan name or .yaml path")

    p = add(sub, "tag", cmd_tag, "choose the next version and tag it in git (preflight first)")
    p.add_argument("--release", metavar="ID", help="tag this release's version (its plan step)")
    p.add_argument("--env", help="environment whose git policy applies (default: the release's)")
    p.add_argument("--repo", metavar="PATH", help="repository (default: the environment's)")
    p.add_argument("--bump", choices=["major", "minor", "patch"], help="raise this part")
    p.add_argument("--pre", choices=["alpha", "beta", "rc"], help="a pre-release of this series")
    p.add_argument("--version", help="exactly this version (must be above every version tag)")
    p.add_argument("--allow-dirty", metavar="REASON", help="accept uncommitted changes, saying why")
    p.add_argument("--unshallow", action="store_true", help="fetch the full history first")
    p.add_argument("--notes", metavar="FILE", help="use this text as the changes (edited notes)")
    p.add_argument("--no-changelog", action="store_true", help="do not commit a CHANGELOG section")
    p.add_argument("--dry-run", action="store_true", help="preflight and preview only")
    p.add_argument("--push", action="store_true", help="publish: branch and tag, one atomic push")
    p.add_argument("--yes", action="store_true", help="do not ask before tagging")
    p.add_argument("--json", action="store_true", help="the plan (and result) as JSON")

    p = add(sub, "demo", cmd_demo, "create a throwaway demo workspace and open it")
    p.add_argument("--dir", help="where to create it (default: a new temporary directory)")
    p.add_argument("--no-tui", action="store_true", help="print the workspace, do not open it")

    p = add(sub, "open", cmd_open, "open the cockpit (the default without a command)")
    p.add_argument("--release", metavar="ID", help="start on this release")
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        if sys.stdout.isatty() and sys.stdin.isatty():
            args.func = cmd_open
        else:
            parser.print_help()
            return 0
    cmd = Command(args, out or sys.stdout)
    import logging

    logger = logging.getLogger("cockpit")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("cockpit: warning: %(message)s"))
        logger.addHandler(handler)
        logger.propagate = False
    try:
        return int(args.func(cmd))
    except CockpitError as exc:
        print(f"cockpit: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("cockpit: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:
        if os.environ.get("COCKPIT_DEBUG"):
            raise
        first = (str(exc).splitlines() or [""])[0]
        print(
            f"cockpit: internal error: {type(exc).__name__}: {first} "
            "(set COCKPIT_DEBUG=1 to see the traceback)",
            file=sys.stderr,
        )
        return 70
