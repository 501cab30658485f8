"""A log view that renders only the visible lines, so 100,000 events scroll like 10.

A cursor marks one line (reverse video: it reads without colour); moving it posts
:class:`AuditView.CursorMoved` so the screen can show that event in full. It follows the tail
while the cursor is on the last line (as ``tail -f`` does) and caches rendered lines (the Toolong
approach).
"""

from __future__ import annotations

from functools import lru_cache
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

CURSOR = Style(reverse=True)


class AuditView(ScrollView, can_focus=True):
    DEFAULT_CSS = """
    AuditView {
        height: 1fr;
        width: 1fr;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        ("j,down", "cursor(1)", "down"),
        ("k,up", "cursor(-1)", "up"),
        ("pagedown", "page(1)", "page down"),
        ("pageup", "page(-1)", "page up"),
        ("g,home", "cursor_to(0)", "top"),
        ("G,end", "cursor_to(-1)", "end"),
    ]

    class CursorMoved(Message):
        """The cursor is on line ``index`` of the lines shown (-1: there are none)."""

        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._lines: list[str] = []
        self._width = 0
        self.cursor = -1

    @property
    def line_count(self) -> int:
        return len(self._lines)

    def set_lines(self, lines: list[str], cursor: int | None = None) -> None:
        """Replace the content with the cursor on line ``cursor``; ``None``: on the last line
        when it was there (following the tail), else where it was."""
        follow = not self._lines or self.cursor >= len(self._lines) - 1
        self._lines = lines
        self._width = max((len(line) for line in lines[-2000:]), default=0)
        self._render_cached.cache_clear()
        self.virtual_size = Size(self._width, len(lines))
        if cursor is None:
            cursor = len(lines) - 1 if follow else self.cursor
        self._move_to(cursor, always=True)
        self.refresh()

    # ------------------------------------------------------------------ the cursor

    def action_cursor(self, step: int) -> None:
        self._move_to(self.cursor + step)

    def action_page(self, step: int) -> None:
        self._move_to(self.cursor + step * max(self.size.height - 1, 1))

    def action_cursor_to(self, index: int) -> None:
        self._move_to(index if index >= 0 else len(self._lines) - 1)

    def _move_to(self, index: int, *, always: bool = False) -> None:
        index = min(max(index, 0), len(self._lines) - 1) if self._lines else -1
        if index == self.cursor and not always:
            return
        self.cursor = index
        self._keep_in_view()
        self.refresh()
        self.post_message(self.CursorMoved(index))

    def _keep_in_view(self) -> None:
        height = self.size.height or 1
        top = self.scroll_offset.y
        if self.cursor < 0:
            return
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, immediate=True)

    def on_resize(self) -> None:
        self._keep_in_view()

    # ------------------------------------------------------------------ drawing

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
        strip = self._render_cached(index, width, scroll_x)
        return strip.apply_style(CURSOR) if index == self.cursor else strip
