"""What the runbook screen shows, as text: the phase's title line, one row per step, the kind a
step runs, and the selected step's preview pane (its state, why it may not run now, and what a
preview read found). Pure functions of what the screen already holds: the preview itself is read
by the screen's worker, never here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text

from cockpit.checklist import MARKERS, Status
from cockpit.plan import Item, StepItem
from screens.text import window_text

if TYPE_CHECKING:
    from cockpit.checklist import ItemState
    from cockpit.config import LoadedConfig
    from cockpit.plan import Phase
    from cockpit.rehearsal import NoReturn
    from cockpit.release import Release
    from cockpit.session import Session
    from cockpit.steps.base import Preview


def run_label(item: Item, kind: str) -> str:
    """The short column after the title: ``rds_snapshot``, ``kubernetes set_image``."""
    if not isinstance(item, StepItem):
        return item.kind
    return kind


def step_kind(loaded: LoadedConfig, release: Release, item: StepItem) -> str:
    """What ``item`` runs in the release's environment, ``kubernetes set_image``; marked
    ``(cockpit.toml)`` when the environment's config replaces the plan's run."""
    from cockpit.deploy import effective_run

    run, source = effective_run(loaded, release, item)
    action = getattr(run, "action", "")
    return " ".join(filter(None, [run.kind, action])) + (
        " (cockpit.toml)" if source == "config" else ""
    )


def phase_title(
    session: Session,
    phase: Phase,
    first: str,
    done: int,
    total: int,
    no_return: NoReturn | None = None,
    phase_plan: str = "",
) -> Text:
    """`` T0 Release day  3/9  point of no return 04:17 JST, 1h05m left  open, 3h12m left``
    (the point of no return first: at 80 columns the window's line is the one cut)"""
    title = Text(f" {phase.id.upper()} {first}", style="bold")
    title.append(f"  {done}/{total}  ")
    if no_return is not None:
        title.append(*no_return_text(session, no_return))
        title.append("  ")
    title.append(window_text(session, phase_plan))
    return title


def no_return_text(session: Session, no_return: NoReturn) -> tuple[str, str]:
    """The point of no return as text and style: a warning 15 minutes before, past it bold."""
    from cockpit.window import format_remaining

    now = session.now()
    status = no_return.status(now)
    if no_return.at is None:
        return session.t("ponr.none"), "dim"
    when = session.times.show(no_return.at, "clock")
    left = format_remaining(no_return.at - now, session.lang)
    style = {"ok": "", "warn": "bold yellow", "past": "bold red"}[status]
    return session.t("ponr." + status, when=when, left=left), style


def step_row(number: int, name: str, status: Status) -> Text:
    """One row of the step list: the state's marker, the number, the title."""
    row = Text(f"{MARKERS[status]} {number:>2} ", no_wrap=True, overflow="ellipsis")
    row.append(name, style="bold" if status is Status.RUNNING else "")
    return row


def preview_text(
    session: Session,
    item: Item,
    state: ItemState,
    titles: tuple[str, str],
    kind: str,
    why: str,
    shown: Preview | str | None,
) -> Text:
    """The side pane for ``item``: its titles, kind and state, ``why`` it may not be done now,
    then the item's help (not a step) or the step's preview: ``shown`` is the one read (a
    string: why it could not be read; ``None``: not read yet)."""
    first, second = titles
    text = Text()
    text.append(f"{first}", style="bold")
    text.append(f"  {second}\n", style="dim")
    text.append(run_label(item, kind) + "  ", style="dim")
    text.append(session.t("status." + state.status.value))
    if state.by:
        when = session.times.short(state.at)
        text.append(f"  {state.by} {when}", style="dim")
    text.append("\n")
    if state.status is Status.INTERRUPTED:
        text.append(session.t("run.interrupted") + "\n", style="bold")
    elif why and state.status not in {Status.DONE, Status.SKIPPED}:
        text.append(session.t("msg.refused", why=why) + "\n", style="dim")
    if not isinstance(item, StepItem):
        help_text = item.help_ja if session.lang == "ja" else item.help_en
        if help_text:
            text.append(help_text + "\n", style="dim")
        return text
    if shown is None:
        text.append(session.t("run.looking") + "\n", style="dim")
    elif isinstance(shown, str):
        text.append(session.t("run.no_preview", why=shown) + "\n", style="bold red")
    else:
        text.append(shown.summary + "\n", style="bold")
        for call in shown.calls[:6]:
            if call not in shown.summary:
                text.append("$ " + call + "\n", style="dim")
        for line in shown.said(session.lang):
            style = "green" if line.startswith("+") else "red" if line.startswith("-") else ""
            text.append(line + "\n", style=style)
    return text
