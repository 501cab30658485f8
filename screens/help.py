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
from screens.keys import BY_ID, RANK, bindings, key_display

# Our own widgets' keys (the log view's scrolling) come after the screen's, before the app's.
WIDGET_RANK = RANK["app.commands"] - 0.5


class HelpScreen(ModalScreen[None]):
    CSS_PATH = "decision.tcss"
    BINDINGS: ClassVar[list[BindingType]] = bindings("help")

    def __init__(self, under: Screen[Any]) -> None:
        super().__init__()
        self.under = under

    def rows(self, lang: str) -> dict[str, list[str]]:
        """Label -> keys, in the order of the key table: the bindings active on the screen
        underneath (as a keymap bound them; not the ones that do not apply there)."""
        found: list[tuple[float, str, str]] = []  # (rank, label, key)
        for key, active in self.under.active_bindings.items():
            binding = active.binding
            if binding.id in BY_ID:
                rank: float = RANK[binding.id]
                label_key = BY_ID[binding.id].label
            elif type(active.node).__module__.startswith("widgets.") and binding.key in {
                b.key for b in Binding.make_bindings(type(active.node).BINDINGS)
            }:
                # Keys of our own focused widget too (its own, not the scrolling it inherits:
                # Textual's keys are the usual arrows and would only crowd the list).
                rank, label_key = WIDGET_RANK, "key." + binding.description
            else:
                continue
            label = CATALOG.get(label_key, {}).get(lang, binding.description)
            found.append((rank, label, key))
        rows: dict[str, list[str]] = {}
        for _rank, label, key in sorted(found, key=lambda row: row[0]):
            keys = rows.setdefault(label, [])
            if key_display(key) not in keys:
                keys.append(key_display(key))
        return rows

    def compose(self) -> ComposeResult:
        app = cockpit_app(self)
        session = app.session
        text = Text(session.t("help.title") + "\n\n", style="bold")
        for label, keys in self.rows(session.lang).items():
            text.append(f"  {' '.join(keys):<11}", style="bold")
            text.append(f" {label}\n")
        text.append("\n" + session.t("help.close"), style="dim")
        with Vertical(id="dialog", classes="ascii" if app.ascii else ""):
            yield Static(text)

    def action_close(self) -> None:
        self.dismiss(None)
