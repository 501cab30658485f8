"""The footer: the keys that work on this screen now; keys not allowed now are shown dimmed."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.widgets import Static


@dataclass(frozen=True)
class KeyHint:
    key: str
    label: str
    enabled: bool = True
    reason: str = ""  # why it is not allowed now (the screen says it when the key is pressed)


class KeyBar(Static):
    """``? help  enter open  q quit``: enabled keys bold, disabled ones dimmed. A dumb widget:
    the screen hands it the hints (from its active bindings)."""

    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        width: 1fr;
        background: $panel;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: tuple[tuple[KeyHint, ...], int] | None = None

    @property
    def hints(self) -> tuple[KeyHint, ...]:
        """The hints shown now."""
        return self._shown[0] if self._shown else ()

    def show_keys(self, hints: list[KeyHint]) -> None:
        # Only when something changed: an update repaints, and the terminal gets its bytes again
        # even when they are the same (screens redraw the footer on every refresh).
        shown = (tuple(hints), self.size.width)
        if shown == self._shown:
            return
        self._shown = shown
        text = self._hint_text(hints, "  ")
        if self.size.width and text.cell_len > self.size.width:
            text = self._hint_text(hints, " ")  # tighter before anything is cut (CJK labels)
        self.update(text)

    @staticmethod
    def _hint_text(hints: list[KeyHint], gap: str) -> Text:
        text = Text(" ")
        for hint in hints:
            style = "bold" if hint.enabled else "dim"
            text.append(hint.key, style=style)
            text.append(" " + hint.label + gap, style="" if hint.enabled else "dim")
        return text
