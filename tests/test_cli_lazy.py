"""The parser is built for the argv it parses: only the group owning the command is registered
(issue 16, start-up time), and whatever argv is, the answer is the whole tree's: the same
namespace, the same help, the same one-line error in either language."""

from __future__ import annotations

import argparse
import contextlib
import io
from collections.abc import Iterator, Sequence

import pytest

from cockpit.cli.entry import GROUPS, build_parser, main
from cockpit.errors import UsageError


def bare() -> tuple[argparse.ArgumentParser, argparse._SubParsersAction]:  # type: ignore[type-arg]
    parser = argparse.ArgumentParser(prog="cockpit")
    return parser, parser.add_subparsers(dest="command")


def choices(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """The subcommands of ``parser`` by name, in registration order."""
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def command_paths() -> Iterator[list[str]]:
    """Every command of the whole tree as typed: ``open``, ``release list``, ..."""
    for word, parser in choices(build_parser()).items():
        inner = choices(parser) if parser._subparsers else {}
        yield from ([word, subword] for subword in inner) if inner else [[word]]


def test_each_group_registers_exactly_the_words_it_declares() -> None:
    union: list[str] = []
    for group in GROUPS:
        _, sub = bare()
        group.register(sub)
        assert list(sub.choices) == list(group.WORDS), group.__name__
        union += group.WORDS
    assert list(choices(build_parser())) == union  # the whole tree, in --help's order
    assert len(set(union)) == len(union)


@pytest.mark.parametrize("path", list(command_paths()), ids=" ".join)
def test_a_command_alone_parses_and_helps_as_the_whole_tree(path: list[str]) -> None:
    argv = ["--lang", "en", *path]
    lazy, full = build_parser(argv), build_parser()
    assert list(choices(lazy)) == next(list(g.WORDS) for g in GROUPS if path[0] in g.WORDS)
    lazy_cmd, full_cmd = choices(lazy)[path[0]], choices(full)[path[0]]
    if len(path) == 2:
        lazy_cmd, full_cmd = choices(lazy_cmd)[path[1]], choices(full_cmd)[path[1]]
    assert lazy_cmd.format_help() == full_cmd.format_help()
    assert said([*argv, "--help"], lazy) == said([*argv, "--help"], full)


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        ([], []),
        (["--ascii", "--readonly"], []),
        (["--lang=ja", "--config", "x.toml", "--readonly", "tag", "--help"], ["tag"]),
        (["--config=", "follow", "R1"], ["lease", "follow"]),
        (["note", "--", "-h"], ["note", "release"]),
        (["release", "--lang", "xx"], ["note", "release"]),
    ],
)
def test_the_owner_of_the_command_or_none(argv: list[str], words: list[str]) -> None:
    assert list(choices(build_parser(argv))) == words


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["-h", "open"],
        ["--lang", "en", "--help", "release"],
        ["relase", "list"],
        [""],
        ["-"],
        ["--", "open"],
        ["--lan", "en", "open"],  # argparse takes abbreviations: only the whole parser knows
        ["--lang", "xx", "open"],
        ["--lang"],
        ["--config", "--lang", "en", "open"],
        ["--config", "-5", "open"],
        ["--ascii=1", "open"],
        ["-x", "open"],
    ],
)
def test_help_unknown_words_and_odd_options_build_the_whole_tree(argv: list[str]) -> None:
    assert list(choices(build_parser(argv))) == list(choices(build_parser()))


def said(argv: Sequence[str], parser: argparse.ArgumentParser) -> tuple[object, str, str]:
    """What parsing ``argv`` gives: the namespace (or exit code), stdout, the error in both
    languages."""
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            result: object = vars(parser.parse_args(argv))
    except UsageError as exc:
        return exc.exit_code, out.getvalue(), f"{exc.text('en')} / {exc.text('ja')}"
    except SystemExit as exc:
        result = exc.code
    return result, out.getvalue(), ""


@pytest.mark.parametrize(
    "argv",
    [
        ["--lang", "ja", "open", "--release", "R1", "--ascii"],
        ["--readonly", "follow"],
        ["release"],
        ["release", "lst"],
        ["release", "list", "--js"],
        ["release", "new", "--env", "staging"],
        ["--lang", "ja", "item", "bogus", "R1", "t0.x"],
        ["item", "done", "R1"],
        ["window", "list", "-n", "x"],
        ["window", "list", "-n", "2000000"],
        ["lease", "take", "R1", "--ttl", "0"],
        ["audit", "export", "--format", "xml"],
        ["tag", "--dry-run", "--bump", "huge"],
        ["open", "--re", "R1"],
        ["db", "grant"],
        ["config", "check", "extra"],
        ["--lang", "en", "--config", "c.toml", "note", "--release", "R1", "a", "b"],
        ["--config", "c.toml", "--lang", "ja", "serve", "--port", "x"],
        ["note"],
        ["--ascii", "--readonly"],
        [],
    ],
)
def test_what_argv_gives_is_the_whole_trees(argv: list[str]) -> None:
    assert len(choices(build_parser(argv))) <= 3
    assert said(argv, build_parser(argv)) == said(argv, build_parser())


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_no_command_off_a_terminal_prints_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["--lang", "en"], capsys)
    assert code == 0
    assert out == build_parser().format_help()
    assert all(f"    {word} " in out for group in GROUPS for word in group.WORDS)


def test_readonly_refuses_what_writes(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["--readonly", "--lang", "en", "release", "close", "R1"], capsys)
    assert (code, err) == (
        2,
        "cockpit: --readonly: `release close` can change a release or the log; "
        "run it without --readonly\n",
    )
    code, _, err = run(["--lang", "ja", "--readonly", "item", "done", "R1", "t0.x"], capsys)
    assert code == 2
    assert "item done" in err and "--readonly" in err


def test_a_command_imports_its_own_group_alone() -> None:
    import subprocess
    import sys

    code = (
        "import sys\nfrom cockpit.cli.entry import build_parser\n"
        "build_parser(['--lang', 'en', 'open']).parse_args(['--lang', 'en', 'open'])\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('cockpit.cli.'))))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert loaded == ["cockpit.cli.app_cmds", "cockpit.cli.base", "cockpit.cli.entry"]
