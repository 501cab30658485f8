"""``cockpit notify test|run|status|draft``: send a test notice to one channel, run the outbox's
sender in the foreground (beside the cockpit, e.g. in a tmux pane or a service), show each
channel's state and the notices not yet sent, and print a notify item's draft
(docs/notifications.md).
"""

from __future__ import annotations

import signal
import threading
from typing import Any

from cockpit.cli.base import Command, add


def _outbox(cmd: Command) -> Any:
    from cockpit.notify import Outbox

    session = cmd.session
    return Outbox(session.store, session.loaded, session.operator)


def cmd_notify_test(cmd: Command) -> int:
    state = _outbox(cmd).test(cmd.args.channel)
    if state.sent is not None:
        answer = state.sent.details_obj.get("answer", "")
        cmd.print(f"{state.channel}: sent (#{state.sent.seq}; {answer})")
        return 0
    error = state.gave_up.details_obj.get("error", "") if state.gave_up else ""
    cmd.print(f"{state.channel}: NOT sent: {error}")
    return 1


def cmd_notify_status(cmd: Command) -> int:
    from cockpit.notify import NOTICE_ACTIONS, channel_health, fold_notices

    store = cmd.session.store
    events = store.events(actions=NOTICE_ACTIONS)
    health = channel_health(events)
    channels = cmd.session.loaded.config.notify.channels
    if not channels:
        cmd.say("cli.no_channels")
    for name, channel in sorted(channels.items()):
        seen = health.get(name) or cmd.session.t("cli.nothing_sent")
        cmd.print_line(f"{name:<16} {channel.kind:<10} {seen}")
    waiting = [s for s in fold_notices(events).values() if not s.settled]
    for state in waiting:
        title = state.queued.details_obj.get("title", "")
        cmd.print_line(
            f"  waiting {state.key[:12]} {state.channel}: {len(state.attempts)} attempt(s): {title}"
        )
    return 0


def cmd_notify_draft(cmd: Command) -> int:
    from cockpit.checklist import Refused, load_checklist
    from cockpit.notify.drafts import draft
    from cockpit.plan import NotifyItem

    checklist = load_checklist(cmd.session.store, cmd.args.release)
    checklist.phase_of(cmd.args.item)  # an unknown item: exit 2
    item = checklist.plan.plan.item(cmd.args.item)
    if not isinstance(item, NotifyItem):
        raise Refused.said("err.not_notify", item=cmd.args.item, kind=item.kind)
    cmd.out.write(draft(cmd.session, checklist, item) + "\n")
    return 0


def cmd_notify_run(cmd: Command) -> int:
    from cockpit.notify import Sender

    outbox = _outbox(cmd)
    if cmd.args.once:
        for ev in outbox.run_once():
            cmd.print_line(f"#{ev.seq} {ev.action} {ev.details_obj.get('channel', '')}")
        return 0
    sender = Sender(outbox, cmd.session.db_url)
    stopped = threading.Event()

    def stop(_signum: int, _frame: object) -> None:
        stopped.set()

    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(sig, stop)
    outbox.cursor = outbox.start_cursor()
    cmd.say("cli.sending", seq=outbox.cursor)
    cmd.out.flush()
    sender.start()
    while not stopped.wait(1.0):
        pass
    sender.stop()
    sender.join(timeout=30)
    return 0


def register(sub: Any) -> None:
    """``notify test|run|status``."""
    notify = sub.add_parser("notify", help="notices to people: test a channel, run the sender")
    notify_sub = notify.add_subparsers(dest="subcommand", metavar="SUBCOMMAND", required=True)
    p = add(notify_sub, "test", cmd_notify_test, "send a test notice to one channel, now")
    p.add_argument("channel", help="a channel named in [notify.channels]")
    p = add(notify_sub, "run", cmd_notify_run, "send notices from the log until stopped")
    p.add_argument("--once", action="store_true", help="one pass: queue and send what is due")
    add(notify_sub, "status", cmd_notify_status, "each channel's state and notices waiting")
    p = add(notify_sub, "draft", cmd_notify_draft, "print a notify item's draft, to edit and send")
    p.add_argument("release", metavar="RELEASE")
    p.add_argument("item", metavar="ITEM", help="a notify item's id")
