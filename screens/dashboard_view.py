"""What the dashboard shows, as text: the timeline's rows, the next item, the items still open,
the recent decisions and the rehearsal line. Pure functions of what the screen already holds
(the checklist and events its worker read), except :func:`rehearsal_line`, which reads the log
and is called by that worker."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.text import Text

from cockpit.window import due_status, phase_due
from screens.common import event_verb
from widgets.cells import fit
from widgets.timeline import PhaseRow

if TYPE_CHECKING:
    from cockpit.checklist import Checklist
    from cockpit.events import Event
    from cockpit.plan import Phase
    from cockpit.session import Session


def _titles(session: Session, thing: object) -> tuple[str, str]:
    """(first, second) titles: the screen language's first."""
    ja, en = getattr(thing, "title_ja"), getattr(thing, "title_en")  # noqa: B009
    return (ja, en) if session.lang == "ja" else (en, ja)


def phase_rows(session: Session, checklist: Checklist) -> list[PhaseRow]:
    """One timeline row per phase: progress, due date (overdue only outside rehearsals), and
    ``>`` on the phase of the next open item."""
    t0 = checklist.release.t0_at()
    upcoming = checklist.next_item()
    now = session.now()
    rows = []
    for phase in checklist.plan.plan.phases:
        done, total = checklist.progress(phase)
        due = phase_due(t0, -phase.offset_days)
        # In a rehearsal the dates are advisory: nothing is ever "overdue".
        overdue = (
            due_status(due, now) == "overdue" and done < total and not checklist.release.rehearsal
        )
        when = session.times.show(due, "row" if phase.offset_days == 0 else "day")  # header: zone
        label = session.t("dash.overdue" if overdue else "dash.due", when=when)
        rows.append(
            PhaseRow(
                phase.id.upper(),
                _titles(session, phase)[0],
                done,
                total,
                label,
                current=upcoming is not None and upcoming[0].id == phase.id,
                overdue=overdue,
            )
        )
    return rows


def next_item_text(session: Session, checklist: Checklist) -> str:
    """``T-14 依存関係の確認 (dependencies checked)``, or that everything is settled."""
    upcoming = checklist.next_item()
    if upcoming is None:
        return session.t("dash.all_done")
    phase, item = upcoming
    first, second = _titles(session, item)
    return f"{phase.id.upper()} {first} ({second})"


def open_items(
    session: Session, checklist: Checklist, current: Phase, rows: int
) -> tuple[str, Text]:
    """The heading and up to ``rows`` lines of the items not settled yet from ``current`` on,
    in plan order: marker, phase, both titles, kind; ``N more`` after the last shown."""
    from cockpit.checklist import MARKERS, SETTLED

    phases = checklist.plan.plan.phases
    start = [p.id for p in phases].index(current.id)
    items = [
        (phase, item)
        for phase in phases[start:]
        for item in phase.items
        if checklist.state(item.id).status not in SETTLED
    ]
    heading = session.t("dash.open_items", phase=current.id.upper(), n=len(items))
    lines = []
    for phase, item in items[:rows]:
        first, second = _titles(session, item)
        marker = MARKERS[checklist.state(item.id).status]
        lines.append(f" {marker} {phase.id.upper():<5}{first}  ({second})  {item.kind}")
    if len(items) > rows:
        lines.append("     " + session.t("dash.more", n=len(items) - rows))
    return heading, Text("\n".join(lines), no_wrap=True, overflow="ellipsis")


def recent_text(
    session: Session,
    checklist: Checklist,
    shown: list[tuple[Event, str]],
    *,
    titles: bool,
    zone: str | None = None,
) -> Text:
    """The latest decisions: when, who (claimed unless signed), what, on which item (and its
    title with ``titles``), and why. ``zone``: the heading names the zone, the rows do not."""
    items = {item.id: item for _, item in checklist.plan.plan.items()} if titles else {}
    # One column for who, as wide as its widest entry ("bob (claimed)"): actions line up.
    width = max([8, *(cell_len(name) for _, name in shown)])
    lines = []
    for ev, who in shown:
        when = session.times.show(ev.recorded_at, "row" if zone else "short")
        line = f" {when} {fit(who, width)}"
        line += f" {event_verb(session, ev.action, 9)} {ev.subject or ''}"
        if ev.subject in items:
            line += f" ({_titles(session, items[ev.subject])[0]})"
        if ev.reason:
            line += f' "{ev.reason}"'
        lines.append(line)
    return Text("\n".join(lines), no_wrap=True, overflow="ellipsis")


def rehearsal_line(session: Session, checklist: Checklist | None) -> str:
    """``rehearsed 12-09 in staging: deploy 4m12s, rollback 2m40s``, or why production's T-0 is
    not covered (:mod:`cockpit.rehearsal`); a rehearsal release shows it only once passed.
    Reads the log: call it off the UI thread."""
    if checklist is None:
        return ""
    from cockpit.rehearsal import verdict
    from cockpit.window import format_remaining

    found = verdict(session.store, session.loaded, checklist)
    passed = found.passed
    if passed is None:
        if checklist.release.rehearsal:
            return ""
        return session.t("dash.not_rehearsed", why=found.problem())
    return session.t(
        "dash.rehearsed",
        day=session.times.show(passed.done_at, "day") or "-",
        env=passed.environment,
        deploy=format_remaining(timedelta(seconds=passed.deploy_s), session.lang),
        rollback=format_remaining(timedelta(seconds=passed.rollback_s or 0), session.lang),
    )
