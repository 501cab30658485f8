"""Dialogs: the decision (with its reason), a notify item's notice to edit, a yes/no confirmation,
and the operator's note."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static, TextArea

from screens.common import cockpit_app
from screens.keys import bindings

if TYPE_CHECKING:
    from cockpit.release import Release
    from cockpit.session import Session
    from screens.common import CockpitScreen


def _session(screen: ModalScreen[Any]) -> Session:
    return cockpit_app(screen).session


def _say_error(screen: ModalScreen[Any], text: str) -> None:
    """Show the dialog's error line (hidden while there is none: no blank row)."""
    error = screen.query_one("#error", Static)
    error.update(text)
    error.add_class("-shown")


class Settling:
    """Keys that cannot slip (UX.md): a dialog ignores keys for ``SETTLE_S`` after it opens,
    and for as long as a key keeps repeating (a held enter), so it never answers a key pressed
    before it was shown."""

    SETTLE_S = 0.3
    REPEAT_S = 0.15  # a key that comes again within this is a key held down

    def start_settling(self) -> None:
        self.quiet_until = time.monotonic() + self.SETTLE_S

    def settled(self) -> bool:
        """Whether a key may answer now; a key too early extends the quiet time."""
        now = time.monotonic()
        if now < getattr(self, "quiet_until", 0.0):
            self.quiet_until = max(self.quiet_until, now + self.REPEAT_S)
            return False
        return True


class DecisionScreen(Settling, ModalScreen[str | None]):
    """Ask once, showing what will happen; return the reason ("" when none was needed), or
    ``None`` when the operator backed out.

    ``label``: the input's label (catalog key; a reason by default); ``hint``: the keys line
    (catalog key: what enter does). ``irreversible``: keys that cannot slip (:class:`Settling`),
    and ``type_name`` (a production environment's name) must be typed before enter confirms."""

    CSS_PATH = "decision.tcss"
    BINDINGS: ClassVar[list[BindingType]] = bindings("decision")

    def __init__(
        self,
        title: str,
        required: bool,
        preview: str = "",
        *,
        label: str | None = None,
        hint: str = "dlg.confirm",
        irreversible: bool = False,
        type_name: str | None = None,
    ) -> None:
        super().__init__()
        self.title_text = title
        self.required = required
        self.preview = preview
        self.label = label or ("dlg.reason" if required else "dlg.reason_optional")
        self.hint = hint
        self.irreversible = irreversible or type_name is not None
        self.type_name = type_name

    def compose(self) -> ComposeResult:
        t = _session(self).t
        with Vertical(id="dialog", classes="ascii" if cockpit_app(self).ascii else ""):
            yield Static(self.title_text, id="title")
            if self.preview:
                yield Static(self.preview, id="preview")
            yield Static(t(self.label), id="label")
            yield Input(id="reason")
            if self.type_name is not None:
                yield Static(t("dlg.type_name", name=self.type_name), id="name-label")
                yield Input(id="name")
            yield Static("", id="error")
            yield Static(t(self.hint), id="hint")

    def on_mount(self) -> None:
        self.query_one("#reason", Input).focus()
        if self.irreversible:
            self.start_settling()

    @on(Input.Submitted)
    def submit(self, event: Input.Submitted) -> None:
        if self.irreversible and not self.settled():
            return  # an enter held from the screen beneath: not an answer
        t = _session(self).t
        reason = self.query_one("#reason", Input).value.strip()
        if self.required and not reason:
            _say_error(self, t("dlg.need_reason"))
            return
        if self.type_name is not None:
            name = self.query_one("#name", Input)
            if name.value.strip() != self.type_name:
                _say_error(self, t("dlg.type_name", name=self.type_name))
                name.focus()
                return
        self.dismiss(reason)

    def action_cancel(self) -> None:
        self.dismiss(None)


class NoticeScreen(ModalScreen[str | None]):
    """A notify item's notice as drafted, to edit: return the text to send, or ``None``."""

    CSS_PATH = "decision.tcss"
    BINDINGS: ClassVar[list[BindingType]] = bindings("notice")

    def __init__(self, title: str, draft: str) -> None:
        super().__init__()
        self.title_text = title
        self.draft = draft

    def compose(self) -> ComposeResult:
        session = _session(self)
        with Vertical(id="dialog", classes="ascii" if cockpit_app(self).ascii else ""):
            yield Static(self.title_text, id="title")
            yield TextArea(self.draft, id="notice", soft_wrap=True)
            yield Static("", id="error")
            yield Static(session.t("dlg.notice_hint"), id="hint")

    def on_mount(self) -> None:
        self.query_one("#notice", TextArea).focus()

    def action_send(self) -> None:
        text = self.query_one("#notice", TextArea).text
        if not text.strip():
            _say_error(self, _session(self).t("dlg.notice_empty"))
            return
        self.dismiss(text)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmScreen(Settling, ModalScreen[bool]):
    """A yes/no question about something that cannot be undone: ``y`` answers yes, and enter,
    ``n`` and esc no (the default is to cancel); keys cannot slip (:class:`Settling`); with
    ``type_name`` (production) the environment's name is typed, then enter."""

    CSS_PATH = "decision.tcss"
    BINDINGS: ClassVar[list[BindingType]] = bindings("confirm")

    def __init__(self, question: str, *, type_name: str | None = None) -> None:
        super().__init__()
        self.question = question
        self.type_name = type_name

    def compose(self) -> ComposeResult:
        t = _session(self).t
        with Vertical(id="dialog", classes="ascii" if cockpit_app(self).ascii else ""):
            yield Static(self.question, id="title")
            if self.type_name is not None:
                yield Static(t("dlg.type_name", name=self.type_name), id="name-label")
                yield Input(id="name")
                yield Static("", id="error")
            yield Static(t("dlg.yes_no" if self.type_name is None else "dlg.typed"), id="hint")

    def on_mount(self) -> None:
        if self.type_name is not None:
            self.query_one("#name", Input).focus()
        self.start_settling()

    @on(Input.Submitted)
    def typed(self, event: Input.Submitted) -> None:
        if not self.settled():
            return
        if event.value.strip() == self.type_name:
            self.dismiss(True)
        else:
            error = _session(self).t("dlg.type_name", name=self.type_name)
            _say_error(self, error)

    def action_answer(self, yes: bool) -> None:
        if not self.settled() or (yes and self.type_name is not None):
            return  # a held key; or production, where only the typed name says yes
        self.dismiss(yes)


class QuitScreen(Settling, ModalScreen[str]):
    """Quitting while a step runs: detach (it goes on), cancel the step, or stay (the default,
    also for a key held down when the dialog opened: see :class:`Settling`)."""

    CSS_PATH = "decision.tcss"
    BINDINGS: ClassVar[list[BindingType]] = bindings("quit")

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question
        self.start_settling()

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="ascii" if cockpit_app(self).ascii else ""):
            yield Static(self.question, id="title")

    def action_answer(self, choice: str) -> None:
        if self.settled():  # a held enter or q must not choose
            self.dismiss(choice)


def production_name(session: Session, release: Release) -> str | None:
    """The environment's name when the release is for production (typed to confirm), or None."""
    env = session.loaded.config.environments.get(release.environment)
    return release.environment if env is not None and env.production else None


def note_dialog(screen: CockpitScreen, release: Release | None) -> None:
    """Ask for a note and append it to the audit log (of the release when there is one)."""
    session = screen.session

    def chosen(text: str | None) -> None:
        if text:
            _record_note(screen, release, text)

    dialog = DecisionScreen(session.t("dlg.title.note"), required=True, label="dlg.note")
    screen.app.push_screen(dialog, chosen)


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
            call(screen.notify, session.t("msg.failed", why=exc), severity="error")
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
