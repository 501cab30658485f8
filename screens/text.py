"""What screens say, as text: pure functions of the session and of what a worker read. No
Textual here: the process that reads the dashboard ahead (:mod:`cockpit.readahead`) builds its
first view with them, without importing what draws it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.text import Text

if TYPE_CHECKING:
    from cockpit.checklist import Checklist
    from cockpit.session import Session


def line_label(t: Callable[..., str], key: str, keys: Sequence[str]) -> Text:
    """`` Window  ``: a status line's label, padded to the widest of ``keys`` (in cells), so
    the lines' text starts in one column in either language."""
    width = max(cell_len(t(k)) for k in keys) + 2
    return Text(" " + t(key) + " " * (width - cell_len(t(key))), style="bold")


def release_header(session: Session, checklist: Checklist | None) -> Text:
    """The header after its title: ``1.4.0 release  staging REHEARSAL  T-0 12-16 01:00 JST
    alice@vm`` (the release shown, and who is at the keyboard)."""
    text = Text()
    if checklist is not None:
        release = checklist.release
        text.append(f"{release.version} {checklist.plan.plan.name}  {release.environment} ")
        if release.rehearsal:
            text.append("REHEARSAL", style="reverse")
            text.append(" ")
        text.append(" T-0 " + session.times.short(release.t0, session.now()) + "  ")
    # Who is at the keyboard once a worker has worked it out (the UI thread never asks the
    # agent): nothing until then, so the first frame claims no one.
    operator = session.known_operator
    if operator is not None:
        text.append(operator.actor)
    return text


def window_text(session: Session, plan: str = "") -> str:
    """``open, 3h12m left`` or ``next Wed 12-16 01:00 JST (in 22d 6h)``, in the UI language;
    on ``plan``'s calendar (its own windows, extra windows, blackouts) when one is named."""
    from cockpit.schedule import calendar_state
    from cockpit.window import Window, format_remaining, window_state

    config = session.loaded.config
    try:
        state = (
            calendar_state(config, plan, session.now())
            if plan
            else window_state(config.change_window, session.now())
        )
    except ValueError:  # every window ahead blacked out
        return "-"
    lang = session.lang
    if state.open:
        return session.t("window.open", left=format_remaining(state.closes_in, lang))
    shown, times = state.window, session.times
    if times.utc:  # Z: the window in UTC too (in its own zone otherwise, named)
        shown = Window(times.at(shown.start), times.at(shown.end))
    start = shown.start
    year = start.year != session.now().astimezone(start.tzinfo).year  # "Wed 2027-01-20 01:00-..."
    when = shown.label(lang, year=year)
    return session.t("window.next", when=when, left=format_remaining(state.opens_in, lang))


def event_verb(session: Session, action: str, width: int = 0) -> str:
    """What an event did, in one word of the UI language (``item.done``: ``done``, ``完了``),
    padded to ``width`` cells when shorter (never cut)."""
    from rich.cells import cell_len

    from cockpit.i18n import CATALOG

    word = action.split(".")[-1]
    said = session.t("verb." + word) if "verb." + word in CATALOG else word
    return said + " " * max(0, width - cell_len(said))
