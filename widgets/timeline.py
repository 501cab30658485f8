"""Phases of a release with ASCII progress bars, as the seeds' checklists would write them."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from widgets.cells import fit
from widgets.rows import PhaseRow
from widgets.statusline import looks


def progress_bar(done: int, total: int, width: int = 10) -> str:
    """``[########--]``: ASCII so it is one cell wide on every terminal (CJK included)."""
    filled = 0 if total == 0 else round(width * done / total)
    return "[" + "#" * filled + "-" * (width - filled) + "]"


class Timeline(Static):
    """One line per phase: ``T-14 リリース内容確定   [########--]  8/10  due 12-02``."""

    DEFAULT_CSS = """
    Timeline {
        height: auto;
        width: 1fr;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    _shown: object = None

    def show_rows(self, rows: list[PhaseRow], title_cells: int = 20, bar: int = 10) -> None:
        text = Text()
        for index, row in enumerate(rows):
            if index:
                text.append("\n")
            style = "bold" if row.current else ""
            text.append(f"{'>' if row.current else ' '}{row.label:<5}", style=style)
            text.append(fit(row.title, title_cells) + " ", style=style)
            text.append(progress_bar(row.done, row.total, bar))
            text.append(f"{row.done:>3}/{row.total:<3}")
            text.append(row.due, style="bold red" if row.overdue else "dim")
        shown = looks(text)
        if shown != self._shown:  # the same rows: no repaint, no layout
            self._shown = shown
            self.update(text)
