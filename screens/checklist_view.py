"""What the checklist screen shows, as text: the phase line (progress, rehearsal, due), one row
per item with its state note, what doing an item runs, and the selected item's detail pane
(help, who decided, marked claimed unless signed, what a failed check saw against what it
expected, void approvals and those that do not count, the keys not allowed now and why, a step's
live output). Pure functions of the checklist the screen loaded: they read no log."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text

from cockpit.checklist import MARKERS, SETTLED, Status, Why, actor_name
from cockpit.plan import CheckItem, GateItem, Item, ShellRun, StepItem, StepRun, TagRun
from cockpit.window import due_status, format_remaining, phase_due
from screens.keys import key_display
from widgets.cells import fit

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from textual.binding import ActiveBinding

    from cockpit.checklist import Checklist, ItemState
    from cockpit.plan import Phase
    from cockpit.session import Session

# (binding id, action name in the catalog, engine action)
ACTION_KEYS = (
    ("checklist.do", "act.do", "done"),
    ("checklist.skip", "act.skip", "skip"),
    ("checklist.approve", "act.approve", "approve"),
    ("checklist.reject", "act.reject", "reject"),
)


def describe_run(item: Item, run: StepRun | None = None) -> str:
    """What doing the item runs, in one line (the preview before it runs). ``run`` is the step's
    run in force for the release's environment (cockpit.toml may replace the plan's)."""
    if isinstance(item, CheckItem):
        probe = item.check
        if probe is None:
            return f'checks."{item.id}" (cockpit.toml)'
        args = {k: v for k, v in ((f, getattr(probe, f)) for f in probe.__struct_fields__) if v}
        shown = " ".join(
            " ".join(v) if isinstance(v, list) else f"{k}={v}" for k, v in args.items()
        )
        return f"{probe.name} {shown}".strip()
    if not isinstance(item, StepItem):
        return ""
    run = run or item.run
    if isinstance(run, ShellRun):
        return f"{run.kind}: {' '.join(run.argv)}  (timeout {run.timeout:g}s)"
    if isinstance(run, TagRun):
        return "tag: git tag + push --atomic" if run.push else "tag: git tag"
    return f"{run.kind} {getattr(run, 'action', '')}".strip()


def phase_line(
    session: Session, checklist: Checklist, phase: Phase, titles: tuple[str, str]
) -> Text:
    """`` T-1 Day before  3/9  REHEARSAL  due 12-15 01:00 in 5h  (the other title)``"""
    release = checklist.release
    first, second = titles
    done, total = checklist.progress(phase)
    due = phase_due(release.t0_at(), -phase.offset_days)
    now = session.now()
    status = due_status(due, now)
    when = session.times.short(due, now)
    remaining = format_remaining(due - now, session.lang) if due > now else ""
    # Most important first, so a narrow terminal cuts the least important: progress, the
    # rehearsal mark, then the due date.
    line = Text(f" {phase.id.upper()} {first} ", style="bold")
    line.append(f" {done}/{total}  ", style="bold")
    if release.rehearsal:
        line.append("REHEARSAL", style="reverse")
        line.append("  ")
    late = status == "overdue" and done < total and not release.rehearsal
    label = "dash.overdue" if late else "dash.due"
    line.append(session.t(label, when=when))
    if remaining:
        line.append(" " + session.t("list.in", left=remaining))
    line.append("   " + second, style="dim")
    return line


def item_row(status: Status, titles: tuple[str, str], title_cells: int, note: str) -> Text:
    """One row of the item list: the state's marker, both titles cut to ``title_cells``, the
    state note."""
    first, second = titles
    text = Text(f" {MARKERS[status]} ", no_wrap=True, overflow="ellipsis")
    text.append(fit(first, title_cells) + " ")
    text.append(fit(second, title_cells) + " ", style="dim")
    text.append(note)
    return text


def state_note(session: Session, checklist: Checklist, item: Item, status: Status) -> str:
    """The row's last column: a gate's approvals, a skip's reason, who decided and when, or the
    item's kind."""
    state = checklist.state(item.id)
    if isinstance(item, GateItem) and status in {Status.PENDING, Status.AWAITING}:
        have = len(state.valid_approvers(checklist.plan.sha256))
        preparer = actor_name(checklist.release.created_by)
        return session.t(
            "list.gate", have=have, need=item.approvals, role=item.role, preparer=preparer
        )
    if status is Status.SKIPPED:
        return f'skip: "{state.reason}"'
    if state.by and state.at:
        return f"{who(session, state)} {session.times.short(state.at)}"
    return session.t("list.kind." + item.kind)


def who(session: Session, state: ItemState) -> str:
    """Who made the item's last decision: ``bob``, or ``bob (claimed)`` when it is not signed
    by a key of bob (cockpit.identity.identity_verified)."""
    name = state.by or ""
    return session.t("who.claimed", name=name) if state.claimed else name


def approve_hint(session: Session, checklist: Checklist, item: Item, why: Why | None) -> str:
    """Who may approve a gate this operator may not (the preparer, someone outside the role),
    and the command they run; in the demo, the whole line for a second terminal with the
    colleague's own key. Empty when the gate is open to this operator or settled."""
    if not isinstance(item, GateItem) or why is None:
        return ""
    if why.key not in {"four_eyes", "role_missing", "approved_twice"}:
        return ""
    from cockpit.demo import colleague_key

    loaded = session.loaded
    preparer = actor_name(checklist.release.created_by)
    mine = {session.operator.name, preparer}
    members = [m for m in loaded.config.roles.get(item.role, []) if m not in mine]
    if not members:
        return ""
    command = f"cockpit item approve {checklist.release.id} {item.id}"
    key = colleague_key(loaded, members[0])
    if key is not None:
        return session.t(
            "gate.demo", name=members[0], config=loaded.path, keyfile=key, command=command
        )
    return session.t("gate.ask", names=", ".join(members), role=item.role, command=command)


def not_now_lines(
    session: Session,
    item: Item,
    state: ItemState,
    why_not: Callable[[Item, str], str | None],
    bound: Mapping[str, list[ActiveBinding]],
) -> list[str]:
    """``enter do: not now - why`` for each of the item's keys refused now (``bound``: the keys
    as bound now, a keymap may have moved them); none once the item is settled."""
    blocked: list[str] = []
    settled = state.status in SETTLED
    for key_id, label, action in ACTION_KEYS:
        why = why_not(item, action)
        relevant = isinstance(item, GateItem) == (action in {"approve", "reject"})
        if why and relevant and not settled and key_id in bound:
            key = key_display(bound[key_id][0].binding.key)
            blocked.append(session.t("list.not_now", keyname=key, action=session.t(label), why=why))
    return blocked


def detail_text(
    session: Session,
    checklist: Checklist,
    item: Item,
    titles: tuple[str, str],
    run: StepRun | None,
    blocked: list[str],
    live: list[str],
    message: str,
    hint: str = "",
) -> Text:
    """The detail pane of ``item``: titles and kind, the first line of its help, what it runs
    (``run``: the step's run in force), who decided, void approvals, the first two ``blocked``
    lines, the ``hint`` (who may approve a gate instead, :func:`approve_hint`), the last
    ``live`` output lines and the screen's ``message``."""
    state = checklist.state(item.id)
    first, second = titles
    text = Text(f" {first}  ", style="bold")
    text.append(f"{second}  ", style="dim")
    text.append(session.t("list.kind." + item.kind))
    help_text = item.help_ja if session.lang == "ja" else item.help_en
    if help_text:
        text.append("\n " + help_text.strip().splitlines()[0], style="italic")
    runs = describe_run(item, run)
    if runs:
        text.append("\n " + session.t("list.runs", what=runs))
    if state.by:
        text.append(
            "\n "
            + session.t(
                "list.by",
                status=session.t("status." + state.status.value),
                who=who(session, state),
                when=session.times.short(state.at),
            )
        )
    if state.reason:
        text.append("  " + session.t("list.reason", reason=state.reason))
    if state.seen and state.status is Status.FAILED:
        seen, expected = state.seen
        text.append("\n " + session.t("list.seen", seen=seen), style="red")
        text.append("\n " + session.t("list.expected", expected=expected), style="dim")
    if isinstance(item, GateItem):
        void = state.void_approvers(checklist.plan.sha256)
        if void:
            text.append("\n " + session.t("list.void", names=", ".join(void)), style="yellow")
        for why in state.uncounted[-2:]:
            text.append("\n " + why.text(session.lang), style="yellow")
    for line in blocked[:2]:
        text.append("\n " + line, style="dim")
    if hint:
        text.append("\n " + hint, style="cyan")
    if live:
        text.append("\n " + "\n ".join(live[-3:]), style="italic")
    if message:
        text.append("\n " + message, style="green")
    return text
