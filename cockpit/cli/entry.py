"""The ``cockpit`` entry point: :func:`build_parser` makes the top parser with its global options
and asks each command group module to register its subcommands (in the order ``--help`` lists
them); :func:`main` parses, runs the command and turns every error into one line on stderr and
an exit code.

Exit codes: 0 success; 1 the command ran and found a problem (a broken audit chain, an action
refused); 2 bad input (config, arguments); 70 an internal error; 130 interrupted. Errors are one
line on stderr, never a traceback (``COCKPIT_DEBUG=1`` shows one for an internal error).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn, TextIO

from cockpit.cli.base import Command, add_global_options
from cockpit.errors import CockpitError, Phrase, UsageError
from cockpit.i18n import tr


class Group:
    """A command group: its module in :mod:`cockpit.cli` (imported only when the group is
    registered: a command imports its own group alone) and the command words its
    ``register()`` adds (tests/test_cli_lazy.py checks they are exactly those)."""

    def __init__(self, module: str, *words: str) -> None:
        self.__name__ = f"cockpit.cli.{module}"
        self.WORDS = words

    def register(self, sub: Any) -> None:
        import importlib

        importlib.import_module(self.__name__).register(sub)


# The order of the subcommands in `cockpit --help`.
GROUPS = (
    Group("config_cmds", "init", "config", "db"),
    Group("audit_cmds", "audit"),
    Group("release_cmds", "note", "release"),
    Group("item_cmds", "item", "preview"),
    Group("rollback_cmds", "rollback"),
    Group("lease_cmds", "lease", "follow"),
    Group("notify_cmds", "notify"),
    Group("plan_cmds", "plan"),
    Group("window_cmds", "window"),
    Group("tag_cmds", "tag"),
    Group("app_cmds", "demo", "open", "serve"),
)

# What `--readonly` lets run (like k9s): commands that only read. Any other refuses, one line.
READ_ONLY_COMMANDS = frozenset(
    {
        "open",
        "follow",
        "config check",
        "config schema",
        "db current",
        "audit verify",
        "audit export",
        "audit tail",
        "release list",
        "release show",
        "item attach",
        "preview",
        "plan validate",
        "plan show",
        "rollback plan",
        "rollback report",
        "lease show",
        "notify status",
        "notify draft",
        "release notes",
        "release report",
        "serve",
        "window list",
    }
)


EPILOG = """\
who acts (docs/team.md):
  COCKPIT_SIGNING_KEY=PATH  the SSH key to sign decisions with: a private key file, or a .pub
                            whose key is in the agent ($SSH_AUTH_SOCK; `ssh -A` forwards it);
                            default: [identity] signing_key, else the first agent key the
                            allowed-signers file knows. Its principal there is your name.
  COCKPIT_AS=NAME           rehearsals only: act as a stand-in colleague (recorded as a claim,
                            refused on any event that is not a rehearsal)
"""


class Parser(argparse.ArgumentParser):
    """An argument parser whose mistakes are one line (``cockpit: ...``, exit 2) like every other
    bad input, naming the command and where its help is, instead of the usage block."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix("cockpit").strip()
        where = f"{command}: " if command else ""
        problem = argparse_phrase(message)
        raise UsageError.said("err.usage", where=where, problem=problem, prog=self.prog)


# argparse's own sentences (and the ones our argument types give it), each as catalog words:
# argparse says them in English, so they are read back here and said in the language.
_ARGPARSE = (
    (r"the following arguments are required: (?P<args>.+)", "arg.required"),
    (r"unrecognized arguments: (?P<args>.+)", "arg.unknown"),
    (r"ambiguous option: (?P<option>\S+) could match (?P<matches>.+)", "arg.ambiguous"),
    (
        r"argument (?P<arg>[^:]+): invalid choice: (?P<value>.+) \(choose from (?P<choices>.+)\)",
        "arg.choice",
    ),
    (r"argument (?P<arg>[^:]+): expected one argument", "arg.one"),
    (r"argument (?P<arg>[^:]+): (?P<value>.+) is not a whole number", "arg.whole"),
    (
        r"argument (?P<arg>[^:]+): (?P<value>\S+) is out of range: give 0 to (?P<most>\d+)",
        "arg.range",
    ),
)


def argparse_phrase(message: str) -> Phrase | str:
    """argparse's ``message`` as catalog words; one it has no words for stays as it is."""
    import re

    for pattern, key in _ARGPARSE:
        if found := re.fullmatch(pattern, message):
            return Phrase(key, found.groupdict())
    if found := re.fullmatch(
        r"argument (?P<arg>[^:]+): (?P<value>.+): give seconds, 1 to 3600", message
    ):
        return Phrase(
            "arg.other",
            {"arg": found["arg"], "problem": Phrase("err.ttl", {"value": found["value"]})},
        )
    return message


def lang_of(argv: Sequence[str]) -> str:
    """The language ``argv`` asks for (``--lang ja``, ``--lang=ja``; the last wins), else the
    locale's: what a mistake in ``argv`` itself is said in."""
    from cockpit.i18n import LANGS, default_lang

    lang = default_lang()
    for i, arg in enumerate(argv):
        value = arg.removeprefix("--lang=") if arg.startswith("--lang=") else None
        if arg == "--lang" and i + 1 < len(argv):
            value = argv[i + 1]
        if value in LANGS:
            lang = value
    return lang


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser; given the ``argv`` it is for, with only what parsing that needs (the group
    owning its command, see :func:`groups_for`), else with every command."""
    parser = Parser(
        prog="cockpit",
        description="Release Cockpit: drive a release from one terminal, with an audit log.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_global_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for group in GROUPS if argv is None else groups_for(argv, parser):
        group.register(sub)
    return parser


def owner_of(word: str) -> Group | None:
    """The group that registers the command ``word``."""
    return next((group for group in GROUPS if word in group.WORDS), None)


def groups_for(argv: Sequence[str], top: argparse.ArgumentParser) -> tuple[Group, ...]:
    """The groups parsing ``argv`` needs: the one owning its command (its first word after the
    global options of ``top``), none without a command (``cockpit`` opens the cockpit). Every
    group when only the whole tree can answer: help asked before the command, an unknown
    command (its error lists them all), ``--``, an abbreviated or misspelt option, a global
    option without its value. (The whole tree is some 45 parsers: ~10 ms of every start.)"""
    options = top._option_string_actions
    i = 0
    while i < len(argv):
        arg = argv[i]
        if not arg.startswith("-"):
            owner = owner_of(arg)
            return (owner,) if owner else GROUPS
        name, eq, value = arg.partition("=")
        action = options.get(name)
        if action is None or isinstance(action, argparse._HelpAction):
            return GROUPS
        if action.nargs == 0 and not eq:  # a flag: --ascii, --readonly
            i += 1
            continue
        if action.nargs is not None or (not eq and i + 1 == len(argv)):
            return GROUPS
        if not eq:
            i += 1
            value = argv[i]
        if value.startswith("-") or value not in (action.choices or (value,)):
            return GROUPS
        i += 1
    return ()


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv)
    lang = lang_of(argv)
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:
        print(f"cockpit: {exc.text(lang)}", file=sys.stderr)
        return exc.exit_code
    if not getattr(args, "func", None):
        if sys.stdout.isatty() and sys.stdin.isatty():
            from cockpit.cli.app_cmds import cmd_open

            args.func = cmd_open
        else:
            build_parser().print_help()  # (every command: this parser has none)
            return 0
    lang = args.lang or lang
    if args.readonly and command_path(args) not in READ_ONLY_COMMANDS:
        print(f"cockpit: {tr('err.readonly', lang, command=command_path(args))}", file=sys.stderr)
        return 2
    cmd = Command(args, out or sys.stdout)
    import logging

    logger = logging.getLogger("cockpit")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("cockpit: warning: %(message)s"))
        logger.addHandler(handler)
        logger.propagate = False
    try:
        return int(args.func(cmd))
    except CockpitError as exc:
        print(f"cockpit: {exc.text(lang)}", file=sys.stderr)  # (the session may be what failed)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"cockpit: {tr('err.interrupted', lang)}", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:
        if os.environ.get("COCKPIT_DEBUG"):
            raise
        if _from_database(exc):
            # The database said no where the store did not expect it (a file that is not a
            # database, a URL its driver cannot parse): the operator's to fix, not a bug.
            from cockpit.dbsetup import first_line

            print(f"cockpit: {tr('err.database', lang, cause=first_line(exc))}", file=sys.stderr)
            return 1
        first = (str(exc).splitlines() or [""])[0]
        kind = type(exc).__name__
        print(f"cockpit: {tr('err.internal', lang, kind=kind, first=first)}", file=sys.stderr)
        return 70


def command_path(args: argparse.Namespace) -> str:
    """``item done``, ``lease show``, ``open``: the command as typed, without its arguments."""
    parts = [args.command or "open", getattr(args, "subcommand", None)]
    if args.command == "item":
        parts.append(args.decision)
    return " ".join(part for part in parts if part)


def _from_database(exc: BaseException) -> bool:
    """The error is SQLAlchemy's or its driver's: raised from inside their code."""
    from cockpit.dbsetup import from_driver

    if from_driver(exc):
        return True
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and f"{os.sep}sqlalchemy{os.sep}" in tb.tb_frame.f_code.co_filename
