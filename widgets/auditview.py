"""A log view that renders only the visible lines, so 100,000 events scroll like 10.

It follows the tail while the view is at the bottom (as ``tail -f`` does) and caches rendered
lines (the Toolong approach).
"""

from __future__ import annotations

from functools import lru_cache
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import BindingType
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip


class AuditView(ScrollView, can_focus=True):
    DEFAULT_CSS = """
    AuditView {
        height: 1fr;
        width: 1fr;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        ("j", "scroll_down", "down"),
        ("k", "scroll_up", "up"),
        ("g", "scroll_home", "top"),
        ("G", "scroll_end", "end"),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._lines: list[str] = []
        self._width = 0

    @property
    def line_count(self) -> int:
        return len(self._lines)

    def set_lines(self, lines: list[str]) -> None:
        """Replace the content; keep following the tail if the view was at the bottom."""
        follow = self.is_vertical_scroll_end or not self._lines
        self._lines = lines
        self._width = max((len(line) for line in lines[-2000:]), default=0)
        self._render_cached.cache_clear()
        self.virtual_size = Size(self._width, len(lines))
        if follow:
            self.scroll_end(animate=False, immediate=True)
        self.refresh()

    @lru_cache(maxsize=1024)  # noqa: B019 - one view per screen; cleared on new content
    def _render_cached(self, index: int, width: int, scroll_x: int) -> Strip:
        text = Text(self._lines[index], no_wrap=True, overflow="ellipsis")
        segments = [Segment(s.text, s.style) for s in text.render(self.app.console)]
        return Strip(segments).crop(scroll_x, scroll_x + width).extend_cell_length(width, Style())

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.size.width
        if index >= len(self._lines):
            return Strip.blank(width)
        return self._render_cached(index, width, scroll_x)
