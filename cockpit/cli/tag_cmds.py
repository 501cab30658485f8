"""``cockpit tag``: choose the next version, run the preflight, show the plan and the tag message,
then (after one question, or ``--yes``) tag it in git and publish it with ``--push``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from cockpit.cli.base import Command, add
from cockpit.errors import UsageError
from cockpit.vocabulary import BUMPS, PRE_TOKENS


def cmd_tag(cmd: Command) -> int:
    from cockpit import tagging
    from cockpit.versioning import GitFailed, TagRequest

    args = cmd.args
    notes = _read_notes(args.notes) if args.notes else None
    request = TagRequest(
        bump=args.bump,
        pre=args.pre,
        version=args.version,
        allow_dirty=args.allow_dirty,
        push=args.push,
    )
    prep = tagging.prepare(
        cmd.session,
        request,
        release_text=args.release,
        env_name=args.env,
        repo=args.repo,
        unshallow=args.unshallow,
    )
    if notes is not None:
        prep.plan.notes = notes.strip("\n")
    if args.json:
        cmd.print(json.dumps(prep.as_dict(), indent=2, ensure_ascii=False))
    else:
        print_tag_preview(cmd, prep)
    if not prep.ok:
        if not args.json:
            cmd.say("cli.preflight_failed")
        return 1
    if args.dry_run or (prep.plan.todo == "nothing" and not args.push):
        return 0
    if prep.plan.todo == "nothing":
        if not args.json:
            cmd.say("cli.tag_published", tag=prep.plan.tag)
        return 0
    if not args.yes:
        if not (sys.stdin.isatty() and sys.stdout.isatty()):
            raise UsageError.said("err.no_tty_tag")
        what = {"create": "create", "remake": "make again", "push": "push"}[prep.plan.todo]
        push = f" and push it to {prep.plan.remote}" if args.push and what != "push" else ""
        answer = input(f"{what} {prep.plan.tag} on {prep.plan.commit[:12]}{push}? [y/N] ")
        if answer.strip().lower() not in {"y", "yes"}:
            cmd.say("cli.nothing_changed")
            return 1
    try:
        ev = tagging.execute(
            cmd.session,
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


def _read_notes(value: str) -> str:
    """The ``--notes`` file (relative to the working directory), read before anything is done."""
    try:
        return Path(value).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError.said("err.no_file", option="--notes", value=value) from None
    except UnicodeDecodeError as exc:
        raise UsageError.said("err.not_utf8", file=f"--notes {value}", byte=exc.start) from None
    except OSError as exc:
        cause = exc.strerror or exc
        raise UsageError.said(
            "err.cannot_read", option="--notes", value=value, cause=cause
        ) from None


def print_tag_preview(cmd: Command, prep: Any) -> None:
    plan = prep.plan
    where = f"branch {plan.branch}" if plan.branch else "detached HEAD"
    cmd.print_line(f"repository  {plan.repo}  ({where}, HEAD {plan.commit[:12]})")
    cmd.print_line(f"version     {plan.version}  {plan.said_why(cmd.session.lang)}")
    if plan.suggestion is not None:
        cmd.print_line(f"commits     {plan.suggestion.describe()}")
        for c in plan.suggestion.deciding[:10]:
            cmd.print_line(f"              {c.sha[:7]} {c.subject}")
    cmd.print("preflight")
    for check in plan.checks:
        cmd.print_line(f"  {check.mark} {check.name:<11} {check.say(cmd.session.lang)}")
    if plan.todo in {"create", "remake"}:
        cmd.print(f"tag message ({plan.tag})")
        for line in prep.message(None).splitlines():
            cmd.print_line("  | " + line)


def register(sub: Any) -> None:
    """``tag``."""
    p = add(sub, "tag", cmd_tag, "choose the next version and tag it in git (preflight first)")
    p.add_argument("--release", metavar="ID", help="tag this release's version (its plan step)")
    p.add_argument("--env", help="environment whose git policy applies (default: the release's)")
    p.add_argument("--repo", metavar="PATH", help="repository (default: the environment's)")
    p.add_argument("--bump", choices=BUMPS, help="raise this part")
    p.add_argument("--pre", choices=PRE_TOKENS, help="a pre-release of this series")
    p.add_argument("--version", help="exactly this version (must be above every version tag)")
    p.add_argument("--allow-dirty", metavar="REASON", help="accept uncommitted changes, saying why")
    p.add_argument("--unshallow", action="store_true", help="fetch the full history first")
    p.add_argument("--notes", metavar="FILE", help="use this text as the changes (edited notes)")
    p.add_argument("--no-changelog", action="store_true", help="do not commit a CHANGELOG section")
    p.add_argument("--dry-run", action="store_true", help="preflight and preview only")
    p.add_argument("--push", action="store_true", help="publish: branch and tag, one atomic push")
    p.add_argument("--yes", action="store_true", help="do not ask before tagging")
    p.add_argument("--json", action="store_true", help="the plan (and result) as JSON")
