"""What every ``cockpit`` command runs with: :class:`Command` (its arguments, where it prints, and
the session made on first use) and :func:`add`, which registers a subcommand beside its function.
The command group modules build on these; nothing here imports the engine until a command runs,
so building the parser for ``cockpit --help`` stays instant.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from cockpit.errors import Phrase, UsageError

if TYPE_CHECKING:
    from cockpit.store import Store

# The most lines or events a count option takes: beyond it is a typo, not a wish.
MAX_COUNT = 1_000_000


class Command:
    """One invocation of a command: its arguments, where it prints, and the session (config,
    store, operator, clock, language), each made on first use so `cockpit --help` stays
    instant."""

    def __init__(self, args: argparse.Namespace, out: TextIO) -> None:
        from cockpit.i18n import default_lang
        from cockpit.session import Session

        self.args = args
        self.out = out
        # --readonly (and `cockpit follow`): the store is opened read-only, so nothing this
        # command or its cockpit does can write, whatever the screens allow.
        self.readonly = bool(getattr(args, "readonly", False))
        self.session = Session(
            config_path=getattr(args, "config", None),
            lang=getattr(args, "lang", None) or default_lang(),
            opener=self._read_only_store if self.readonly else None,
        )

    def _read_only_store(self) -> Store:
        from cockpit.store import Store

        session = self.session
        busy = session.loaded.config.database.busy_timeout_ms
        return Store(session.db_url, busy_timeout_ms=busy, read_only=True).open()

    def release_or_the_open_one(self) -> str:
        """The ``RELEASE`` argument, or when it was left out the one open release; with none or
        several open, one line saying which to give."""
        if self.args.release:
            return str(self.args.release)
        from cockpit.release import all_releases

        open_ = [r.id for r in all_releases(self.session.store, summary=True) if r.status == "open"]
        if len(open_) == 1:
            return open_[0]
        which = ", ".join(open_) if open_ else Phrase("err.none_open")
        raise UsageError.said("err.which_release", which=which)

    def print(self, text: str = "") -> None:
        print(text, file=self.out)

    def say(self, key: str, **values: object) -> None:
        """Print the catalog's ``key`` with ``values``, in the command's language."""
        self.print(self.session.t(key, **values))

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
        return self.session.times.show(iso, "minute")


def add_global_options(p: argparse.ArgumentParser, *, after: bool = False) -> None:
    """``--config``, ``--lang``, ``--ascii``, ``--readonly``: before the command, and (``after``)
    after it too (``cockpit open --config X``); given there, they win, and left out they keep
    what was given before the command."""
    from cockpit.i18n import LANGS

    kw: dict[str, Any] = {"default": argparse.SUPPRESS} if after else {}
    p.add_argument("--config", metavar="FILE", help="cockpit.toml to use", **kw)
    p.add_argument("--lang", choices=LANGS, help="screen language (default: locale)", **kw)
    p.add_argument(
        "--ascii",
        action="store_true",
        help="ASCII borders only (CJK terminals such as Tera Term)",
        **kw,
    )
    p.add_argument(
        "--readonly",
        action="store_true",
        help="read only: the cockpit refuses every action, commands that write refuse to run",
        **kw,
    )


def add(
    parent: Any, name: str, func: Callable[[Command], int], help_text: str
) -> argparse.ArgumentParser:
    """Add the subcommand ``name`` to ``parent`` (a subparsers action), run by ``func``, with
    ``help_text`` as both its help line and its description, and the global options."""
    p: argparse.ArgumentParser = parent.add_parser(name, help=help_text, description=help_text)
    p.set_defaults(func=func)
    add_global_options(p, after=True)
    return p


def count(text: str) -> int:
    """An argparse type: a whole number from 0 to :data:`MAX_COUNT`."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value <= MAX_COUNT:  # (cockpit.cli.entry.Parser says both in the language)
        raise argparse.ArgumentTypeError(f"{text} is out of range: give 0 to {MAX_COUNT}")
    return value


def output_path(value: str, option: str) -> Path:
    """The file an ``option`` such as ``--out`` writes, relative to the working directory,
    checked before anything is done: its directory exists and is writable, and it is not a
    directory itself."""
    path = Path(value).expanduser()
    parent = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise UsageError.said("err.out_is_dir", option=option, value=value)
    if not parent.is_dir():
        raise UsageError.said("err.out_no_dir", option=option, value=value, parent=parent)
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise UsageError.said("err.out_locked", option=option, value=value)
    return path


def write_output(path: Path, text: str, option: str) -> None:
    """Write ``text`` to the file of ``option``; a failure is one line, not a traceback."""
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        cause = exc.strerror or exc
        raise UsageError.said("err.cannot_write", option=option, value=path, cause=cause) from None


def require_item(cmd: Command, release_text: str, item_id: str) -> None:
    """Refuse an item id that is not in the release's plan, as ``cockpit item done`` does."""
    from cockpit.checklist import load_checklist
    from cockpit.deploy import require_item as plan_has

    plan_has(load_checklist(cmd.session.store, release_text), item_id)
