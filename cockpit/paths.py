"""Paths shown to the operator: as they would type them, relative to the working directory when
under it. Used in the one-line errors of cockpit.toml and plans; standard library only."""

from __future__ import annotations

from pathlib import Path


def display_path(path: Path) -> str:
    """A path as the operator typed it: relative when it is under the working directory."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
