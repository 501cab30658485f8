"""What this terminal can draw: ``--ascii`` and ``NO_COLOR`` as Textual line filters.

Applied to every line the app draws (borders, the palette, scrollbars, truncation marks and our
own text alike), so no widget can forget them. ``--ascii``: box drawing, block elements, arrows,
the middle dot and the ellipsis (ambiguous-width on CJK terminals) become one ASCII character
each, so every line keeps its width. ``NO_COLOR``: colours are removed, not turned grey (Textual
greys a theme that is not ANSI); bold, reverse and underline stay, so marks still carry meaning.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from rich.segment import Segment
from textual.color import Color
from textual.filter import LineFilter, Monochrome, NoColor

# Single characters beyond box drawing and blocks (those are mapped by their names below).
_OTHERS = {
    "\u2026": "~",  # … (a cut text)
    "\u00b7": ".",  # ·
    "\u2022": "*",  # •
    "\u2013": "-",  # –
    "\u2014": "-",  # —
    "\u2018": "'",
    "\u2019": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u2190": "<",
    "\u2192": ">",
    "\u2191": "^",
    "\u2193": "v",
    "\u25b2": "^",
    "\u25bc": "v",
    "\u25b6": ">",
    "\u25c0": "<",
    "\u25b8": ">",
    "\u25c2": "<",
    "\u25cf": "*",
    "\u25cb": "o",
    "\u2713": "x",
    "\u2714": "x",
    "\u2717": "x",
    "\u00a0": " ",
}


def _box(char: str) -> str:
    """A box-drawing character as ASCII, by its Unicode name: ``-``, ``|`` or ``+``."""
    name = unicodedata.name(char, "")
    horizontal, vertical = "HORIZONTAL" in name, "VERTICAL" in name
    if horizontal and not vertical:
        return "-"
    if vertical and not horizontal:
        return "|"
    if name.endswith(("LEFT", "RIGHT")) and " AND " not in name:
        return "-"  # a half line (╴ ╶)
    if name.endswith(("UP", "DOWN")) and " AND " not in name:
        return "|"  # ╵ ╷
    return "+"


def _block(char: str) -> str:
    """A block element: a space when it is (nearly) empty, ``#`` otherwise."""
    name = unicodedata.name(char, "")
    return "_" if "LOWER ONE EIGHTH" in name else " " if "UPPER ONE EIGHTH" in name else "#"


ASCII_TABLE: dict[int, str] = {
    **{code: _box(chr(code)) for code in range(0x2500, 0x2580)},
    **{code: _block(chr(code)) for code in range(0x2580, 0x25A0)},
    **{ord(char): ascii for char, ascii in _OTHERS.items()},
}


class AsciiOnly(LineFilter):
    """Every character of :data:`ASCII_TABLE` replaced by its ASCII stand-in."""

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        return [
            Segment(text.translate(ASCII_TABLE), style, control)
            for text, style, control in segments
        ]


ASCII_ONLY = AsciiOnly()
NO_COLOR = NoColor()


def line_filters(filters: Sequence[LineFilter], *, ascii: bool) -> list[LineFilter]:
    """Textual's filters with NO_COLOR's grey (:class:`Monochrome`) made colourless, and
    :data:`ASCII_ONLY` last when ``ascii``."""
    shown = [NO_COLOR if isinstance(f, Monochrome) else f for f in filters]
    return [*shown, ASCII_ONLY] if ascii else shown
