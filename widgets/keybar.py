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


class KeyBar(Static):
    """``? help  enter open  q quit``: enabled keys bold, disabled ones dimmed."""

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

    def show_keys(self, hints: list[KeyHint]) -> None:
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
