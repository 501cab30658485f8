"""What every ``cockpit`` command runs with: :class:`Command` (its arguments, where it prints, and
the session made on first use) and :func:`add`, which registers a subcommand beside its function.
The command group modules build on these; nothing here imports the engine until a command runs,
so building the parser for ``cockpit --help`` stays instant.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any, TextIO


class Command:
    """One invocation of a command: its arguments, where it prints, and the session (config,
    store, operator, clock, language), each made on first use so `cockpit --help` stays
    instant."""

    def __init__(self, args: argparse.Namespace, out: TextIO) -> None:
        from cockpit.i18n import default_lang
        from cockpit.session import Session

        self.args = args
        self.out = out
        self.session = Session(
            config_path=getattr(args, "config", None),
            lang=getattr(args, "lang", None) or default_lang(),
        )

    def print(self, text: str = "") -> None:
        print(text, file=self.out)

    def print_line(self, text: str) -> None:
        """One record per line: cut to the terminal's width on a terminal (80 columns on a
        bastion), whole when piped to a file or another program."""
        if self.out.isatty():
            import shutil

            width = shutil.get_terminal_size().columns
            if len(text) > width:
                text = text[: max(width - 3, 1)] + "..."
        print(text, file=self.out)

    def local_time(self, iso: str) -> str:
        """An ISO 8601 moment as ``2026-12-16 01:00 JST`` in the change window's time zone."""
        from datetime import datetime
        from zoneinfo import ZoneInfo

        zone = ZoneInfo(self.session.loaded.config.change_window.timezone)
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(zone)
        return moment.strftime("%Y-%m-%d %H:%M %Z")


def add(
    parent: Any, name: str, func: Callable[[Command], int], help_text: str
) -> argparse.ArgumentParser:
    """Add the subcommand ``name`` to ``parent`` (a subparsers action), run by ``func``, with
    ``help_text`` as both its help line and its description."""
    p: argparse.ArgumentParser = parent.add_parser(name, help=help_text, description=help_text)
    p.set_defaults(func=func)
    return p
