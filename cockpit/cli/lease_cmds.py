"""``cockpit lease show|take|release|takeover|approve-takeover`` and ``cockpit follow``: who drives
a release, driving it (``--hold`` keeps the lease alive while the command runs), letting go,
taking it over with a reason (in production a second operator approves first, unless the lease
is dead), and opening the cockpit read-only on a release.
"""

from __future__ import annotations

import json
import signal
import threading
from typing import TYPE_CHECKING, Any

from cockpit.cli.base import Command, add

if TYPE_CHECKING:
    from cockpit.lease import Lease


def _release_id(cmd: Command) -> str:
    from cockpit.release import find_release_id

    return find_release_id(cmd.session.store, cmd.args.release)


def cmd_lease_show(cmd: Command) -> int:
    from cockpit.lease import current, driven_by, since_text

    release_id = _release_id(cmd)
    held, now = current(cmd.session.store, release_id)
    if cmd.args.json:
        shown = {
            "release": release_id,
            "lease": held.as_dict() if held else None,
            "live": bool(held and held.live(now)),
        }
        cmd.print(json.dumps(shown, ensure_ascii=False, indent=2))
        return 0
    if held is None:
        cmd.say("cli.nobody_drives", release=release_id)
    elif held.live(now):
        cmd.print_line(
            f"{release_id}: {driven_by(cmd.session, held, now)} (pid {held.pid}); "
            f"last beat {now - held.heartbeat_at:.0f} s ago, expires in "
            f"{held.expires_at - now:.0f} s"
        )
    else:
        since = since_text(cmd.session, held, now)
        cmd.print_line(
            f"{release_id}: the lease of {held.holder} (since {since}) expired "
            f"{now - held.expires_at:.0f} s ago: anyone may take it"
        )
    return 0


def cmd_lease_take(cmd: Command) -> int:
    from cockpit.lease import take

    lease, fresh = take(cmd.session, cmd.args.release, ttl=cmd.args.ttl)
    if not fresh:
        cmd.say("cli.you_drive", release=lease.release_id, pid=lease.pid, host=lease.host)
        return 0
    cmd.say("cli.driven_now", release=lease.release_id, holder=lease.holder, ttl=f"{lease.ttl:g}")
    return _hold(cmd, lease) if cmd.args.hold else 0


def cmd_lease_takeover(cmd: Command) -> int:
    from cockpit.lease import takeover

    lease = takeover(cmd.session, cmd.args.release, cmd.args.reason, ttl=cmd.args.ttl)
    cmd.say("cli.taken_over", release=lease.release_id, holder=lease.holder)
    return _hold(cmd, lease) if cmd.args.hold else 0


def cmd_lease_release(cmd: Command) -> int:
    from cockpit.lease import release

    ev = release(cmd.session, cmd.args.release)
    cmd.print(f"#{ev.seq} {ev.action} {ev.release_id} by {ev.actor}")
    return 0


def cmd_lease_approve(cmd: Command) -> int:
    from cockpit.lease import APPROVAL_VALID_S, approve_takeover

    ev = approve_takeover(cmd.session, cmd.args.release, cmd.args.taker, cmd.args.reason)
    cmd.print(
        f"#{ev.seq} {ev.action} by {ev.actor}: {ev.subject} may take {ev.release_id} over "
        f"within {APPROVAL_VALID_S / 60:g} minutes"
    )
    return 0


def _hold(cmd: Command, lease: Lease) -> int:
    """Keep the lease alive (a heartbeat every ttl/3) until Ctrl-C, a hang-up or SIGTERM, then
    let go. Exit 1 when it is taken over meanwhile."""
    from cockpit.errors import CockpitError
    from cockpit.lease import current, heartbeat, release

    stop = threading.Event()
    previous = {
        sig: signal.signal(sig, lambda _sig, _frame: stop.set())
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    }
    cmd.say("cli.holding")
    try:
        while not stop.wait(lease.ttl / 3):
            try:
                alive = heartbeat(cmd.session.store, lease)
            except CockpitError as exc:  # the database is away: try again at the next beat
                cmd.print(f"heartbeat missed: {exc}")
                continue
            if not alive:
                held, _now = current(cmd.session.store, lease.release_id)
                who = held.holder if held else "nobody"
                cmd.say("cli.lease_lost", release=lease.release_id, who=who)
                return 1
        ev = release(cmd.session, lease.release_id, lease)
        cmd.print(f"#{ev.seq} {ev.action} {ev.release_id} by {ev.actor}")
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def cmd_follow(cmd: Command) -> int:
    """The cockpit, read-only, on that release or the current one."""
    from screens.app import run_app

    release_id = _release_id(cmd) if cmd.args.release else None
    run_app(cmd.session, ascii=cmd.args.ascii, release_id=release_id, readonly=True)
    return 0


def _ttl(text: str) -> float:
    import argparse

    from cockpit.errors import UsageError
    from cockpit.lease import TTL_ENV, lease_ttl

    try:
        return lease_ttl({TTL_ENV: text})
    except UsageError:
        raise argparse.ArgumentTypeError(f"{text!r}: give seconds, 1 to 3600") from None


def register(sub: Any) -> None:
    """``lease show|take|release|takeover|approve-takeover`` and ``follow``."""
    lease = sub.add_parser("lease", help="who drives a release: show, take, release, take over")
    lease_sub = lease.add_subparsers(dest="subcommand", metavar="SUBCOMMAND", required=True)
    p = add(lease_sub, "show", cmd_lease_show, "who drives the release, since when")
    p.add_argument("release", metavar="RELEASE")
    p.add_argument("--json", action="store_true")
    for name, func, text in (
        ("take", cmd_lease_take, "drive the release (refused while someone else does)"),
        ("takeover", cmd_lease_takeover, "take the release over from its driver, saying why"),
    ):
        p = add(lease_sub, name, func, text)
        p.add_argument("release", metavar="RELEASE")
        if name == "takeover":
            p.add_argument("--reason", required=True, help="why you take over (recorded)")
        p.add_argument(
            "--ttl", type=_ttl, help="seconds the lease lives without a heartbeat (default 30)"
        )
        p.add_argument("--hold", action="store_true", help="keep it alive until Ctrl-C")
    p = add(lease_sub, "release", cmd_lease_release, "let go of the release you drive")
    p.add_argument("release", metavar="RELEASE")
    p = add(
        lease_sub,
        "approve-takeover",
        cmd_lease_approve,
        "as a second operator, approve another's takeover (production; valid 5 minutes)",
    )
    p.add_argument("release", metavar="RELEASE")
    p.add_argument("--for", dest="taker", required=True, metavar="OPERATOR", help="who takes over")
    p.add_argument("--reason", help="why (recorded)")

    p = add(
        sub, "follow", cmd_follow, "open the cockpit read-only (on RELEASE, or the current one)"
    )
    p.add_argument("release", metavar="RELEASE", nargs="?")
    p.set_defaults(readonly=True)
