"""One metrics panel: name, value with unit, state in words, a sparkline, baseline and source.

The widget only draws what it is given (a :class:`PanelView`); it never samples or decides.
Missing numbers are never drawn as zero: a gap in the sparkline is a blank cell, and a panel
without a fresh value says ``STALE 45s`` or ``NO DATA`` in words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Static

BARS = "▁▂▃▄▅▆▇█"
ASCII_BARS = "_.-=+*#@"
STYLES = {
    "ok": "green",
    "warn": "bold yellow",
    "crit": "bold red",
    "stale": "dim",
    "no_data": "bold magenta",
}


@dataclass(frozen=True)
class PanelView:
    """What one panel shows (made by the screen from the engine's state)."""

    title: str
    level: str  # ok / warn / crit / stale / no_data
    label: str  # ok, WARN, CRIT, STALE 45s, NO DATA
    text: str  # "12.5 %" or "NO DATA"
    history: Sequence[float | None]
    baseline: str = ""  # "base 180 ms"
    source: str = ""


def sparkline(values: Sequence[float | None], width: int, ascii: bool = False) -> str:
    """The last ``width`` values as bar characters scaled between their own min and max; a gap
    (``None``) is a space, never the lowest bar."""
    bars = ASCII_BARS if ascii else BARS
    shown = list(values)[-width:] if width > 0 else []
    numbers = [v for v in shown if v is not None]
    if not numbers:
        return " " * len(shown)
    low, high = min(numbers), max(numbers)
    span = high - low
    out = []
    for value in shown:
        if value is None:
            out.append(" ")
        elif span == 0:
            out.append(bars[len(bars) // 2])
        else:
            out.append(bars[round((value - low) / span * (len(bars) - 1))])
    return "".join(out)


class MetricPanel(Widget):
    """A bordered panel of two lines, each its own widget: the value line (value, state in words,
    baseline) and the sparkline. ``show(view)`` updates only the lines (and the border) whose
    content changed, so a new sample rewrites those rows and not the whole panel, and an
    unchanged panel costs no bytes to the terminal."""

    DEFAULT_CSS = """
    MetricPanel {
        height: 4;
        border: round $foreground 40%;
        padding: 0 1;
    }
    MetricPanel > Static { height: 1; width: 1fr; }
    MetricPanel.-ascii { border: ascii $foreground 40%; }
    MetricPanel.-warn { border: round $warning; }
    MetricPanel.-crit { border: heavy $error; }
    MetricPanel.-no_data { border: round $secondary; }
    """

    def __init__(self, *, ascii: bool = False, id: str | None = None) -> None:
        super().__init__(id=id)
        self.ascii = ascii
        self._value = Static(classes="value")
        self._spark = Static(classes="spark")
        self._shown: dict[str, object] = {}
        if ascii:
            self.add_class("-ascii")

    def compose(self) -> ComposeResult:
        yield self._value
        yield self._spark

    def show(self, view: PanelView) -> None:
        width = max(8, self.size.width - 4) if self.size.width else 20
        spark = sparkline(view.history, width, self.ascii)
        for level in STYLES:
            self.set_class(view.level == level and level != "ok", f"-{level}")
        if self._changed("border", (view.title, view.source)):
            # Setting a border title repaints the whole panel, even to the same text.
            self.border_title = view.title
            self.border_subtitle = view.source
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append(view.text, style="bold" if view.level != "no_data" else STYLES["no_data"])
        if view.label != view.text:
            line.append("  ")
            line.append(view.label, style=STYLES.get(view.level, ""))
        if view.baseline:
            line.append("  " + view.baseline, style="dim")
        bars = Text(no_wrap=True)
        bars.append(spark, style=STYLES.get(view.level, ""))  # a span, as in the value line
        self._put(self._value, "value", line)
        self._put(self._spark, "spark", bars)

    def _changed(self, key: str, value: object) -> bool:
        if self._shown.get(key) == value:
            return False
        self._shown[key] = value
        return True

    def _put(self, line: Static, key: str, text: Text) -> None:
        if self._changed(key, (text.plain, tuple(text.spans))):
            line.update(text, layout=False)  # one row, fixed size: no layout pass
