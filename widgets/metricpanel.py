"""One metrics panel: name, value with unit, state in words, a chart, baseline and source.

The widget only draws what it is given (a :class:`PanelView`); it never samples or decides.
Missing numbers are never drawn as zero: a gap in the chart is a blank column, and a panel
without a fresh value says ``STALE 45s`` or ``NO DATA`` in words.

The chart is on a fixed scale (:func:`fixed_scale`: the metric's natural range, or from zero to
past its threshold), never stretched between the samples' own min and max: a flat 24.4 % disk
draws flat, 3 % memory draws a sliver. It grows with the panel: as many rows as the panel's
height gives, the threshold marked by a glyph on its row (``-`` warning, ``=`` critical, so it
needs no colour), the scale's top and bottom and the thresholds labelled at the right, the time
span under it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Static

from widgets.rows import STYLES

BARS = "▁▂▃▄▅▆▇█"
ASCII_BARS = "_.-=+*#@"
# A multi-row chart's top cell in ASCII, by eighths filled (1..8), a full cell "#": no "-" or
# "=", the threshold marks.
ASCII_PARTS = "..::||##"


@dataclass(frozen=True)
class Mark:
    """A threshold on the chart: its value, the glyph drawn across its row, its label."""

    value: float
    glyph: str  # "-" warning, "=" critical
    label: str  # "warn 70 %"


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
    scale: tuple[float, float] | None = None  # fixed (low, high); None: fixed_scale(history)
    marks: tuple[Mark, ...] = ()
    why: str = ""  # why there is no value now (the source's failure), in the screen's language
    top: str = ""  # the scale's top as text ("100 %")
    bottom: str = ""  # its bottom ("0 %")
    # Columns drawn -> when the first of them was sampled ("2m00s ago"); None: not said.
    span: Callable[[int], str] | None = None
    now: str = ""  # under its last column


def nice_ceiling(value: float) -> float:
    """The smallest round number at or above ``value`` (> 0): 1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8
    times a power of ten (fine steps: a threshold stays near two thirds of the height)."""
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    for step in (1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0):
        if value <= step * power * (1 + 1e-9):
            return step * power
    return 10 * power


def fixed_scale(
    values: Sequence[float | None],
    *,
    natural: tuple[float, float] | None = None,
    thresholds: Sequence[float] = (),
    headroom: float = 1.5,
) -> tuple[float, float]:
    """The chart's (low, high), the same whatever the samples do within it.

    ``natural``: the metric's own range (``(0, 100)`` for a percentage of a resource); widened
    only by a sample outside it. Without one: from zero (or a negative sample) to the largest of
    ``headroom`` times the lowest threshold and the largest sample, rounded up to a round number
    (:func:`nice_ceiling`), so the threshold sits at two thirds of the height."""
    numbers = [v for v in values if v is not None and math.isfinite(v)]
    low = min([0.0, *numbers])
    if natural is not None:
        return min(natural[0], low), max([natural[1], *numbers])
    positive = [t for t in thresholds if t > 0]
    top = max([headroom * min(positive) if positive else 0.0, *numbers])
    return low, nice_ceiling(top - low) + low if top > low else low + 1.0


def sparkline(
    values: Sequence[float | None],
    width: int,
    ascii: bool = False,
    scale: tuple[float, float] | None = None,
) -> str:
    """The last ``width`` values as one row of bar characters on ``scale`` (by default
    :func:`fixed_scale` of the values); a gap (``None``) is a space, never the lowest bar."""
    return chart_rows(values, width, 1, ascii=ascii, scale=scale)[0]


def _eighths(value: float, low: float, high: float, height: int) -> int:
    """How many eighths of a cell a value fills, of ``height`` rows: at least one (a number is
    never drawn as nothing), at most all."""
    fraction = (value - low) / (high - low) if high > low else 0.5
    return max(1, min(height * 8, round(fraction * height * 8)))


def mark_row(value: float, low: float, high: float, height: int) -> int | None:
    """The row (0 the top) a threshold falls in, ``None`` when it is off the scale."""
    if not low <= value <= high or high <= low:
        return None
    from_bottom = min(int((value - low) / (high - low) * height), height - 1)
    return height - 1 - from_bottom


def chart_rows(
    values: Sequence[float | None],
    width: int,
    height: int,
    *,
    ascii: bool = False,
    scale: tuple[float, float] | None = None,
    marks: Sequence[Mark] = (),
) -> list[str]:
    """The last ``width`` values as ``height`` rows of text (top first), one column a sample,
    on ``scale``; an empty cell on a threshold's row shows its glyph (not in a gap: a column
    without a number is blank all the way up)."""
    shown = list(values)[-width:] if width > 0 else []
    low, high = scale if scale is not None else fixed_scale(shown)
    fills = [None if v is None else _eighths(v, low, high, height) for v in shown]
    glyphs: dict[int, str] = {}
    # Critical wins a row shared with warning; one row of bars has no room for marks.
    for mark in sorted(marks, key=lambda m: m.glyph == "=") if height > 1 else ():
        row = mark_row(mark.value, low, high, height)
        if row is not None:
            glyphs[row] = mark.glyph
    rows = []
    for row in range(height):
        below = (height - 1 - row) * 8  # eighths under this row
        cells = []
        for fill in fills:
            part = 0 if fill is None else min(8, max(0, fill - below))
            if part == 0:
                # A threshold's row shows its glyph; a gap stays blank all the way up.
                cells.append(glyphs.get(row, " ") if fill is not None else " ")
            elif height == 1:
                cells.append((ASCII_BARS if ascii else BARS)[part - 1])
            else:
                cells.append((ASCII_PARTS if ascii else BARS)[part - 1])
        # Columns not sampled yet: the threshold's line runs on across them.
        cells.append(glyphs.get(row, " ") * (width - len(fills)) if shown else "")
        rows.append("".join(cells))
    return rows


class MetricPanel(Widget):
    """A bordered panel: the value line (value, state in words, baseline) and the chart, each
    its own widget. ``show(view)`` updates only the lines (and the border) whose content
    changed, so a new sample rewrites those rows and not the whole panel, and an unchanged
    panel costs no bytes to the terminal. The chart has as many rows as the panel's height
    gives (one at the smallest), redrawn when the panel is resized."""

    DEFAULT_CSS = """
    MetricPanel {
        height: 4;
        border: round $foreground 40%;
        padding: 0 1;
    }
    MetricPanel > Static { height: 1; width: 1fr; }
    MetricPanel > Static.spark { height: 1fr; }
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
        self._view: PanelView | None = None
        if ascii:
            self.add_class("-ascii")

    def compose(self) -> ComposeResult:
        yield self._value
        yield self._spark

    def on_resize(self) -> None:
        if self._view is not None:
            self.show(self._view)

    def show(self, view: PanelView) -> None:
        self._view = view
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
        if view.why and view.level != "no_data":  # (no data: said in the chart's place)
            line.append("  " + view.why, style="dim")
        self._put(self._value, "value", line)
        self._put(self._spark, "spark", self.chart(view))

    def chart(self, view: PanelView) -> Text:
        """The chart as text: its rows with the labels at the right, the span row under them
        when there is room (a panel of one chart row has only the bars). No data and a reason:
        the reason, on as many rows as it takes."""
        if view.level == "no_data" and view.why:
            return Text(view.why, style=STYLES["no_data"], overflow="fold")
        inner_w = self.size.width or 20  # the content region: inside border and padding
        inner_h = self.size.height or 2
        rows = max(1, inner_h - 1)  # under the value line
        axis = rows >= 3  # room for the span row under at least two chart rows
        if axis:
            rows -= 1
        labels = self._labels(view, rows) if axis else {}
        label_w = max((cell_len(text) for text in labels.values()), default=0)
        if label_w and inner_w - label_w - 1 < 12:
            labels, label_w = {}, 0  # too narrow for labels: the bars first
        width = max(4, inner_w - (label_w + 1 if label_w else 0))
        scale = view.scale or fixed_scale(view.history)
        lines = chart_rows(
            view.history, width, rows, ascii=self.ascii, scale=scale, marks=view.marks
        )
        style = STYLES.get(view.level, "")
        text = Text(no_wrap=True, overflow="ellipsis")
        for number, bars in enumerate(lines):
            if number:
                text.append("\n")
            text.append(bars.ljust(width), style=style)  # a span, as in the value line
            if number in labels:
                text.append(" " + labels[number], style="dim")
        if axis:  # "2m00s ago ... now" under the columns drawn
            shown = min(len(view.history), width)
            left, right = (view.span(shown) if view.span else ""), view.now
            room = max(shown, cell_len(left) + cell_len(right) + 1)
            gap = " " * (room - cell_len(left) - cell_len(right))
            text.append("\n" + (left + gap + right if shown else ""), style="dim")
        return text

    def _labels(self, view: PanelView, rows: int) -> dict[int, str]:
        """Row -> label at the right of the chart: the top, the bottom, the thresholds."""
        low, high = view.scale or fixed_scale(view.history)
        labels: dict[int, str] = {}
        for mark in view.marks:
            row = mark_row(mark.value, low, high, rows)
            if row is not None:
                labels[row] = mark.label
        if view.top:
            labels.setdefault(0, view.top)
        if view.bottom and rows > 1:
            labels.setdefault(rows - 1, view.bottom)
        return labels

    def _changed(self, key: str, value: object) -> bool:
        if self._shown.get(key) == value:
            return False
        self._shown[key] = value
        return True

    def _put(self, line: Static, key: str, text: Text) -> None:
        if self._changed(key, (text.plain, tuple(text.spans))):
            line.update(text, layout=False)  # fixed size: no layout pass
