"""One line of text: the header and the status lines of every screen."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class StatusLine(Static):
    """A single line; the screen sets its text. Long text is cut, never wrapped."""

    DEFAULT_CSS = """
    StatusLine {
        height: 1;
        width: 1fr;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    StatusLine.header {
        background: $primary-background;
        color: $text;
        text-style: bold;
    }
    StatusLine.rehearsal {
        background: $warning 40%;
    }
    """

    _shown: object = None

    def set_text(self, text: str | Text) -> None:
        """Drawn again only when it changed (screens set every line on each draw), and without
        a layout of the screen: a line is one row whatever it says."""
        shown = looks(text)
        if shown == self._shown:
            return
        self._shown = shown
        self.update(text, layout=False)


def looks(text: str | Text) -> object:
    """What a text looks like drawn: its characters and their styles (a rich ``Text`` equals
    another with the same spans even when its own style differs)."""
    if isinstance(text, str):
        return text
    return (text.plain, str(text.style), tuple(text.spans), text.justify, text.overflow)
