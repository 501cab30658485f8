"""What the dashboard shows, as data: the timeline's rows, the next item, the items still open,
the recent decisions, the window and rehearsal lines, all of one draw in a :class:`DashView`;
and what its worker reads for it (:func:`read_dashboard`). The view is a pure function of what
was read; the reads run off the UI thread.

No Textual here (a contract in pyproject.toml): ``cockpit open`` builds the first view in a
process forked as it starts (:func:`first_view`, :mod:`cockpit.readahead`), on the other core
while this one imports Textual, and the dashboard draws it as it comes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import PurePath
from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.text import Text

from screens.text import event_verb, release_header, window_text
from widgets.cells import fit
from widgets.rows import PhaseRow

if TYPE_CHECKING:
    from cockpit.checklist import Checklist
    from cockpit.events import Event
    from cockpit.plan import Phase
    from cockpit.release import Release
    from cockpit.session import Session

    # A release's checklist, its latest events with who made each, its rehearsal line (None:
    # not read yet; the first load leaves it to a worker after the data is drawn).
    Loaded = tuple[Checklist, list[tuple[Event, str]], str | None]
    # What a dashboard load reads: the open releases, the one shown, the log's head, and the
    # notice channels whose last attempt failed.
    Read = tuple[list[Release], Loaded | None, int, list[str]]


# The releases list's width (dashboard.tcss), and from 120 columns; from 100 the bars are wider.
LEFT, LEFT_WIDE = 28, 44
# The open items are listed from this terminal height, in half the rows beyond it.
OPEN_FROM_HEIGHT = 30


def recent_rows(height: int) -> int:
    """How many recent decisions a load reads for a terminal ``height`` rows high (about the
    rows their list gets: a load comes before the layout)."""
    return max(height - 14, 3)


def load_release(session: Session, release_id: str, rows: int, *, rehearsal: bool = True) -> Loaded:
    """A release's checklist, its latest ``rows`` decisions, each with who made it (claimed
    unless signed: the signature is checked here, off the UI thread), and its rehearsal line
    (not read without ``rehearsal``)."""
    from cockpit.checklist import load_checklist
    from cockpit.identity import shown_actor

    store = session.store
    checklist = load_checklist(store, release_id)
    events = store.events(release_id=release_id, last=rows)
    recent = [(ev, shown_actor(ev, store.signers, session.lang, short=True)) for ev in events]
    return checklist, recent, rehearsal_line(session, checklist) if rehearsal else None


def read_dashboard(session: Session, preferred: str | None, rows: int) -> Read:
    """The open releases, the one to show (``preferred`` when it is open, else the one this
    operator drove last, else the first) read with what the first frame with data needs (no
    rehearsal line: a worker follows with it), the head read, and the failing notice
    channels. Off the UI thread."""
    store = session.store
    head = store.head()[0]
    releases = [r for r in store.releases() if r.status == "open"]
    ids = [r.id for r in releases]
    chosen = preferred if preferred in ids else None
    if chosen is None and len(ids) > 1:  # (first opened: the one this operator drove last)
        from cockpit.release import last_driven

        chosen = last_driven(store, session.operator.name, ids)
    chosen = chosen or (ids[0] if ids else None)
    loaded = load_release(session, chosen, rows, rehearsal=False) if chosen else None
    failing: list[str] = []
    if session.loaded.config.notify.channels:
        from cockpit.notify import failing_channels

        failing = failing_channels(store)
    return releases, loaded, head, failing


@dataclass(frozen=True)
class DashView:
    """One draw of the dashboard at a terminal size, as the widgets take it."""

    width: int
    height: int
    # The releases list, (label, release id) each; None before the first read (left empty).
    releases: list[tuple[str, str]] | None
    shown: str | None  # the release whose checklist is shown
    header: Text  # after the title (release_header)
    rehearsal: bool
    rows: list[PhaseRow]
    title_cells: int
    bar: int
    next: str  # after the label: the next item, or that all is settled
    open: tuple[str, Text] | None  # the items still open (heading, lines), from 30 rows
    recent: tuple[str, Text] | None  # the latest decisions (heading, lines)
    window: Text  # after the label: the change window, the rehearsal line
    failing: tuple[str, ...]  # notice channels whose last attempt failed


def release_options(
    session: Session, releases: list[Release], *, wide: bool
) -> list[tuple[str, str]]:
    """The releases list's rows, one line each (a plan of one's own by its file's name, each
    field cut to its column); from 120 columns each with its T-0 (the list is wider)."""
    rows = []
    for r in releases:
        plan = PurePath(r.plan).stem if r.plan.endswith((".yaml", ".yml")) else r.plan
        label = f"{fit(r.version, 8)} {fit(plan, 9)} {fit(r.environment, 11)}"
        if wide:
            label += f" T-0 {session.times.show(r.t0_at(), 'day')}"
        rows.append((label, r.id))
    return rows


def window_line(session: Session, checklist: Checklist | None, rehearsed: str | None) -> Text:
    """The Window line after its label: the change window (once the config is read), that a
    rehearsal's dates are advisory, and the rehearsal line."""
    text = Text()
    plan = checklist.plan.plan.name if checklist is not None else ""
    if session.loaded_yet is not None:  # the first frame comes before a worker reads it
        text.append(window_text(session, plan))
    if checklist is not None and checklist.release.rehearsal:
        text.append("  (" + session.t("list.timing") + ")", style="dim")
    if rehearsed:
        text.append("  " + rehearsed)
    return text


def audit_text(session: Session, chain: str, failing: Sequence[str]) -> Text:
    """The Audit line after its label: the chain as verified last (``...`` before), and the
    notice channels whose last attempt failed."""
    text = Text(chain or "...")
    if failing:
        names = ", ".join(failing)
        text.append("  " + session.t("dash.notify_failing", names=names), style="bold red")
    return text


def dashboard_view(
    session: Session,
    releases: list[Release] | None,
    loaded: Loaded | None,
    failing: list[str],
    *,
    width: int,
    height: int,
    recent_height: int = 0,
) -> DashView:
    """What the dashboard draws at ``width`` x ``height`` from what its load read; its recent
    list ``recent_height`` rows high once laid out (0: not yet)."""
    checklist, recent, rehearsed = loaded if loaded is not None else (None, [], "")
    bar = 10 if width >= 100 else 6
    # The phases' titles get what the right column has beyond the bar, counts and due date.
    # (The right column is what the releases list leaves: dashboard.tcss's #left widths.
    # Not #right's size: a draw may come before the layout that a resize brings.)
    right = width - (LEFT_WIDE if width >= 120 else LEFT)
    wide = width >= 120
    listed = None if releases is None else release_options(session, releases, wide=wide)
    shown_recent = None
    if checklist is not None:
        # As many as the list has rows for now: the newest always in sight.
        shown = recent[-(recent_height or recent_rows(height)) :]
        # The heading names the zone once (``Recent decisions (JST)``): the rows keep their room.
        zone = session.times.common_zone([ev.recorded_at for ev, _who in shown])
        heading = session.t("dash.recent") + (f" ({zone})" if zone else "")
        # From 120 columns an item's title follows its id: what was done, in words.
        lines = recent_text(session, checklist, shown, titles=wide, zone=zone)
        shown_recent = heading, lines
    return DashView(
        width=width,
        height=height,
        releases=listed,
        shown=checklist.release.id if checklist is not None else None,
        header=release_header(session, checklist),
        rehearsal=bool(checklist and checklist.release.rehearsal),
        rows=phase_rows(session, checklist) if checklist is not None else [],
        title_cells=max(14, min(48, right - bar - 33)),
        bar=bar,
        next=next_item_text(session, checklist) if checklist is not None else "",
        open=_open_part(session, checklist, height),
        recent=shown_recent,
        window=window_line(session, checklist, rehearsed),
        failing=tuple(failing),
    )


def _open_part(
    session: Session, checklist: Checklist | None, height: int
) -> tuple[str, Text] | None:
    """From 30 rows: the items not settled yet from the current phase on, in plan order
    (marker, phase, title, the other language's title, kind), as many as half the rows the
    terminal has beyond the fixed lines: the next few are in sight, not only the next."""
    upcoming = checklist.next_item() if checklist is not None else None
    if checklist is None or upcoming is None or height < OPEN_FROM_HEIGHT:
        return None
    rows = max(3, (height - 22 - len(checklist.plan.plan.phases)) // 2)
    return open_items(session, checklist, upcoming[0], rows)


def first_view(session: Session, preferred: str | None, width: int, height: int) -> DashView:
    """The dashboard's first view with data, built in the process :mod:`cockpit.readahead`
    forks as ``cockpit open`` starts (the store opened read-only there: nothing is written
    from it). The app draws it unless its own first load is drawn first; that load follows
    and is drawn over it."""
    session.read_only_store()
    _ = session.operator  # who is at the keyboard: the header says it
    releases, loaded, _head, failing = read_dashboard(session, preferred, recent_rows(height))
    return dashboard_view(session, releases, loaded, failing, width=width, height=height)


def _titles(session: Session, thing: object) -> tuple[str, str]:
    """(first, second) titles: the screen language's first."""
    ja, en = getattr(thing, "title_ja"), getattr(thing, "title_en")  # noqa: B009
    return (ja, en) if session.lang == "ja" else (en, ja)


def phase_rows(session: Session, checklist: Checklist) -> list[PhaseRow]:
    """One timeline row per phase: progress, due date (overdue only outside rehearsals), and
    ``>`` on the phase of the next open item."""
    from cockpit.window import due_status, phase_due

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
