"""The ``/`` filter of a list: a one-line box above the footer and the count it leaves
(``12/300``). Hidden until opened; the screen filters and tells it the count."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Input, Static


class FilterBar(Horizontal):
    """A dumb widget: the box is the ``#filter`` :class:`Input` (its ``Changed`` and
    ``Submitted`` messages are the screen's), the count a label beside it."""

    DEFAULT_CSS = """
    FilterBar {
        dock: bottom;
        height: 1;
        margin-bottom: 1;
        display: none;
    }
    FilterBar.-open {
        display: block;
    }
    FilterBar #filter, FilterBar #filter:focus {
        width: 1fr;
        height: 1;
        border: none;
        padding: 0 1;
    }
    FilterBar #filter-count {
        width: auto;
        padding: 0 1;
        text-style: bold;
    }
    """

    def __init__(self, placeholder: str, *, id: str = "filter-bar") -> None:
        super().__init__(id=id)
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        yield Input(id="filter", placeholder=self.placeholder)
        yield Static(id="filter-count")

    @property
    def box(self) -> Input:
        return self.query_one("#filter", Input)

    @property
    def value(self) -> str:
        return self.box.value.strip()

    @property
    def is_open(self) -> bool:
        return self.has_class("-open")

    def open(self) -> None:
        self.add_class("-open")
        self.box.focus()

    def close(self) -> None:
        """Hidden and empty (its ``Changed`` message tells the screen the filter is gone)."""
        self.remove_class("-open")
        self.box.value = ""

    def set_count(self, shown: int, total: int) -> None:
        self.query_one("#filter-count", Static).update(f"{shown}/{total}")
