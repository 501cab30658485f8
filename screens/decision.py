"""Dialogs: the decision (with its reason), a yes/no confirmation, and the operator's note."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from screens.common import cockpit_app
from screens.keys import bindings

if TYPE_CHECKING:
    from cockpit.release import Release
    from cockpit.session import Session
    from screens.common import CockpitScreen


def _session(screen: ModalScreen[Any]) -> Session:
    return cockpit_app(screen).session


class DecisionScreen(ModalScreen[str | None]):
    """Ask once, showing what will happen; return the reason ("" when none was needed), or
    ``None`` when the operator backed out."""

    CSS_PATH = "decision.tcss"
    BINDINGS: ClassVar[list[BindingType]] = bindings("decision")

    def __init__(self, title: str, required: bool, preview: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.required = required
        self.preview = preview

    def compose(self) -> ComposeResult:
        session = _session(self)
        with Vertical(id="dialog", classes="ascii" if cockpit_app(self).ascii else ""):
            yield Static(self.title_text, id="title")
            if self.preview:
                yield Static(self.preview, id="preview")
            label = "dlg.reason" if self.required else "dlg.reason_optional"
            yield Static(session.t(label), id="label")
            yield Input(id="reason")
            yield Static("", id="error")
            yield Static(session.t("dlg.confirm"), id="hint")

    def on_mount(self) -> None:
        self.query_one("#reason", Input).focus()

    @on(Input.Submitted)
    def submit(self, event: Input.Submitted) -> None:
        reason = event.value.strip()
        if self.required and not reason:
            self.query_one("#error", Static).update(_session(self).t("dlg.need_reason"))
            return
        self.dismiss(reason)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmScreen(ModalScreen[bool]):
    CSS_PATH = "decision.tcss"
    BINDINGS: ClassVar[list[BindingType]] = bindings("confirm")

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="ascii" if cockpit_app(self).ascii else ""):
            yield Static(self.question, id="title")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class QuitScreen(ModalScreen[str]):
    """Quitting while a step runs: detach (it goes on), cancel the step, or stay (the default,
    also for a key held down when the dialog opened: keys are ignored for 0.3 s)."""

    CSS_PATH = "decision.tcss"
    BINDINGS: ClassVar[list[BindingType]] = bindings("quit")
    SETTLE_S = 0.3

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question
        self.opened = time.monotonic()

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="ascii" if cockpit_app(self).ascii else ""):
            yield Static(self.question, id="title")

    def action_answer(self, choice: str) -> None:
        if time.monotonic() - self.opened < self.SETTLE_S:
            return  # a held enter or q must not choose
        self.dismiss(choice)


def note_dialog(screen: CockpitScreen, release: Release | None) -> None:
    """Ask for a note and append it to the audit log (of the release when there is one)."""
    session = screen.session

    def chosen(text: str | None) -> None:
        if text:
            _record_note(screen, release, text)

    screen.app.push_screen(DecisionScreen(session.t("dlg.title.note"), required=True), chosen)


def _record_note(screen: CockpitScreen, release: Release | None, text: str) -> None:
    """Append the note in a worker (the UI thread never touches the database), then say so."""
    from cockpit.errors import CockpitError
    from cockpit.release import record_note

    session = screen.session
    call = screen.app.call_from_thread

    def record() -> None:
        try:
            event = record_note(session.store, session.operator, text, release)
        except CockpitError as exc:
            call(screen.notify, session.t("msg.failed", why=str(exc)), severity="error")
            return
        said = session.t("msg.recorded", seq=event.seq, action=event.action)
        if isinstance(getattr(screen, "message", None), str):
            screen.message = said  # type: ignore[attr-defined]  # its status line: not stale
        call(screen.notify, said)
        call(screen.reload)

    screen.run_worker(record, thread=True, group="decide", exit_on_error=False)


def takeover_dialog(screen: CockpitScreen) -> None:
    """Ask why, then take the release over from its driver (recorded; in production it needs an
    expired lease or a second operator's approval, and the refusal says how to get one)."""
    app, session = screen.cockpit, screen.session
    driver = app.driver
    if driver is None:
        return
    note = session.t("dlg.takeover_note", holder=driver.holder)

    def chosen(reason: str | None) -> None:
        if reason:
            app.take_over(driver.release_id, reason)

    title = session.t("dlg.title.takeover", holder=driver.holder)
    app.push_screen(DecisionScreen(title, True, f"{app.driver_text}\n{note}"), chosen)
