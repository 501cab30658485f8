"""Where a key is set in ``cockpit.toml``'s text: the line a one-line error points to. The TOML
reader gives values, not positions, so the lines are found again in the text, well enough for
files people write by hand.
"""

from __future__ import annotations

import re

_HEADER_RE = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY_RE = re.compile(r"^\s*([A-Za-z0-9_.\"' -]+?)\s*=")


def _split_key(key: str) -> tuple[str, ...]:
    return tuple(part.strip().strip("\"'") for part in key.split("."))


def locate(text: str, path: tuple[str, ...]) -> int | None:
    """The line (1-based) where ``path`` is set in TOML ``text``: the key's own line, else the
    line of the nearest enclosing table. Good enough for config files people write by hand."""
    if not path:
        return None
    best: tuple[int, int] | None = None  # (depth matched, line)
    table: tuple[str, ...] = ()
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER_RE.match(line)
        if header:
            table = _split_key(header.group(1))
            full = table
        else:
            key = _KEY_RE.match(line)
            if not key:
                continue
            full = table + _split_key(key.group(1))
        depth = 0
        for mine, theirs in zip(full, path, strict=False):
            if mine != theirs:
                break
            depth += 1
        if depth == len(full) and (best is None or depth > best[0]):
            best = (depth, number)
            if depth == len(path):
                return number
    return best[1] if best else None


def where(source: str, text: str, path: tuple[str, ...]) -> str:
    """``SOURCE:LINE`` for ``path`` in ``text``; ``SOURCE`` when it is not found."""
    line = locate(text, path)
    return f"{source}:{line}" if line else source
