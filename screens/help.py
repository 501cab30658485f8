"""Help: the keys of the screen underneath, in the operator's language."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from cockpit.i18n import CATALOG
from screens.common import cockpit_app

KEY_NAMES = {
    "question_mark": "?",
    "slash": "/",
    "colon": ":",
    "escape": "esc",
    "left_square_bracket": "[",
    "right_square_bracket": "]",
}


class HelpScreen(ModalScreen[None]):
    CSS_PATH = "decision.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "close"),
        Binding("question_mark", "close", "close"),
    ]

    def __init__(self, under: Screen[Any]) -> None:
        super().__init__()
        self.under = under

    def compose(self) -> ComposeResult:
        app = cockpit_app(self)
        session = app.session
        text = Text(session.t("help.title") + "\n\n", style="bold")
        bindings = [b for b in getattr(self.under, "BINDINGS", []) if isinstance(b, Binding)]
        focused = self.under.focused
        # Keys of our own focused widget too (the log view's scrolling); Textual's built-in
        # widgets' keys are the usual arrows and would only crowd the list.
        if focused is not None and type(focused).__module__.startswith("widgets."):
            bindings += [
                b if isinstance(b, Binding) else Binding(*b)
                for b in getattr(focused, "BINDINGS", [])
                if isinstance(b, (Binding, tuple))
            ]
        bindings += [Binding(":", "command_palette", "commands"), Binding("q", "quit", "quit")]
        rows: dict[str, list[str]] = {}  # description -> keys, in order
        for binding in bindings:
            keys = rows.setdefault(binding.description, [])
            keys += [KEY_NAMES.get(k, k) for k in binding.key.split(",") if k not in keys]
        for description, keys in rows.items():
            label = CATALOG.get("key." + description, {}).get(session.lang, description)
            text.append(f"  {' '.join(keys):<11}", style="bold")
            text.append(f" {label}\n")
        text.append("\n" + session.t("help.close"), style="dim")
        with Vertical(id="dialog", classes="ascii" if app.ascii else ""):
            yield Static(text)

    def action_close(self) -> None:
        self.dismiss(None)
