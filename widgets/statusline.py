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

    def set_text(self, text: str | Text) -> None:
        self.update(text)
