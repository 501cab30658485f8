"""Text cut to a number of terminal cells the one way every list does it: padded when it is
shorter, ended with ``…`` when it is cut (``--ascii`` draws that as ``~``)."""

from __future__ import annotations

from rich.cells import cell_len, set_cell_size


def fit(text: str, cells: int) -> str:
    """``text`` exactly ``cells`` cells wide: padded, or cut with ``…`` as its last cell."""
    if cell_len(text) <= cells:
        return set_cell_size(text, cells)
    if cells <= 0:
        return ""
    return set_cell_size(text, cells - 1) + "\u2026"
