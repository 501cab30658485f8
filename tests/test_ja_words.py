"""Every word in Japanese: every screen at 80x24 and every command-line error, in ja, shows no
English sentence outside plan data and identifiers.

**An English sentence** is a run of consecutive *words* on one line, where a word is a
whitespace-separated token made of ASCII letters only (``[A-Za-z]+``, after stripping the
punctuation around it: brackets, quotes, ``,.:;!?…``; ``commit(s)`` is one), with at least three
words in it that are
longer than one letter (a key, a marker such as ``[x]``) and not in :func:`identifiers` (command
and option names and choices, config keys, environment, role and operator names, units, key
names, product words such as ``Release Cockpit``). Any other token ends a run: Japanese text,
numbers, ids with dots or dashes (``t14.requirements``, ``r-1a2b3c4d``), paths and URLs.

A stretch of two or more words of a run is plan data, and taken out of the run, when it occurs
inside a string of a shipped plan, the test's config, or the reasons and commit messages the
test typed (:func:`plan_and_typed_text`), compared word by word. Text inside full-width
parentheses ``（…）`` is a quoted foreign message, the words of a library or of the operating
system (``（Connection refused）``), which the catalog wraps that way. Weekdays and durations in
English (``Wed``, ``9d 16h``) are English too, whatever their length.

The reverse (no Japanese in ``en``) is not checked: English output may quote Japanese plan data.
"""

from __future__ import annotations

import argparse
import asyncio
import re
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path

import pytest
import yaml

from cockpit.cli import build_parser
from tests import test_bad_inputs
from tests.appfixture import (
    APP_HISTORY,
    RELEASE_ID,
    SEEDED,
    make_app,
    screen_text,
    settle,
)
from tests.appfixture import (
    CONFIG as APP_CONFIG,
)
from tests.test_bad_inputs import CASES, DB_URLS, VERIFY_EXPECTED, assert_refused, run_main
from tests.test_cli import CONFIG as CLI_CONFIG

REPO = Path(__file__).resolve().parent.parent
WORD = re.compile(r"[A-Za-z]+")
STRIP = "()[]{}<>'\"`,.:;!?…"
FOREIGN = re.compile(r"（[^（）]*）")
# Weekdays and durations in English (``Wed``, ``9d 16h``, ``3h12m``, ``4m05s``): the catalog
# says them in Japanese (``(水)``, ``9日16時間``).
ENGLISH_TIME = re.compile(r"\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)\b|\b\d+[dhms](?:\s?\d+[hms])?\b")

# Words that are names, not sentences: units, keys, product and status words the screens show
# as they are in both languages.
NAMES = {
    "release",
    "cockpit",
    "rehearsal",
    "ok",
    "jst",
    "utc",
    "ssh",
    "toml",
    "yaml",
    "json",
    "jsonl",
    "csv",
    "md",
    "url",
    "sqlite",
    "postgresql",
    "git",
    "http",
    "https",
    "ms",
    "s",
    "min",
    "h",
    "d",
    "esc",
    "enter",
    "space",
    "tab",
    "ctrl",
    "shift",
    "crit",
    "warn",
    "id",
    "sha",
    "ci",
    "alice",
    "bob",
    "carol",
    "dev",
    "main",
    "origin",
    "head",
}


def _parser_words(parser: argparse.ArgumentParser) -> Iterator[str]:
    # Options are written with their dashes (``--for``), which make them no word: only
    # metavars, choices and subcommand names are words of the command line.
    for action in parser._actions:  # argparse keeps no public list of its options
        if action.metavar:
            yield str(action.metavar)
        for choice in action.choices or ():
            yield str(choice)
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _parser_words(sub)


@cache
def identifiers() -> frozenset[str]:
    """Command, subcommand and option names, their choices and metavars, config keys, the
    words of the test's configs (environment, role and operator names), units and key names:
    lower-cased, each a whole word (``dry-run`` or ``change_window`` is none)."""
    from cockpit.config.schema import json_schema

    words = set(NAMES)
    names = [*_parser_words(build_parser()), *_keys(json_schema())]
    words |= {name.lower() for name in names if WORD.fullmatch(name)}  # (``dry-run`` is no word)
    for text in (APP_CONFIG, CLI_CONFIG):
        words |= {w.lower() for w in re.findall(r"\b[A-Za-z]+\b", text)}
    return frozenset(words)


def _keys(node: object) -> Iterator[str]:
    """The property names of a JSON Schema (cockpit.toml's keys), at every depth."""
    if isinstance(node, dict):
        yield from node.get("properties", {})
        for value in node.values():
            yield from _keys(value)
    elif isinstance(node, list):
        for value in node:
            yield from _keys(value)


def _strings(node: object) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


@cache
def plan_and_typed_text() -> tuple[str, ...]:
    """Every string of the shipped plans, and what the test itself typed (reasons, configs)."""
    texts: list[str] = [APP_CONFIG, CLI_CONFIG]
    for path in sorted((REPO / "checklists").glob("*.yaml")):
        texts += _strings(yaml.safe_load(path.read_text(encoding="utf-8")))
    texts += [reason for _, _, reason in SEEDED if reason]
    texts += ["tagged by the CI pipeline", "checked by the CI pipeline", "seen in the CI pipeline"]
    texts += ["hello, not a plan, a config or a database"]
    texts += [message for message, _ in APP_HISTORY]
    return tuple(texts)


def words_of(text: str) -> list[list[str]]:
    """The runs of words of ``text``: one list per stretch between tokens that are not words."""
    runs: list[list[str]] = [[]]
    # A character past ASCII (Japanese, a box-drawing border) ends a word as a space does.
    for token in re.sub(r"[^\x00-\x7f]", " \0 ", text).split():
        bare = token.strip(STRIP).removesuffix("(s")  # "commit(s)" is a word
        if WORD.fullmatch(bare):
            runs[-1].append(bare)
        elif runs[-1]:
            runs.append([])
    return [run for run in runs if run]


@cache
def _data() -> tuple[str, ...]:
    return tuple(" " + " ".join(run) + " " for t in plan_and_typed_text() for run in words_of(t))


def _not_data(run: list[str]) -> Iterator[list[str]]:
    """The stretches of ``run`` left when every stretch of two or more words found in plan data
    or typed text is taken out (the last word may be cut short: ``no migrations i``)."""
    data, rest, i = _data(), [], 0
    while i < len(run):
        for j in range(len(run), i + 1, -1):
            if any(" " + " ".join(run[i:j]) in piece for piece in data):
                if rest:
                    yield rest
                rest, i = [], j
                break
        else:
            rest.append(run[i])
            i += 1
    if rest:
        yield rest


def english_sentences(text: str) -> list[str]:
    """The English sentences in ``text`` (see the module's docstring), each as its words."""
    found: list[str] = []
    allowed = identifiers()
    for line in FOREIGN.sub(" \0 ", text).splitlines():
        for run in words_of(line):
            for stretch in _not_data(run):
                strange = [w for w in stretch if len(w) > 1 and w.lower() not in allowed]
                if len(strange) >= 3:
                    found.append(" ".join(stretch))
    found += [m[0] for m in ENGLISH_TIME.finditer(text)]
    return found


def test_an_english_sentence_is_found_and_names_are_not() -> None:
    assert english_sentences("cockpit: release 'NOPE': no such release (see `x`)") == [
        "cockpit release NOPE no such release see x"
    ]
    assert english_sentences("go blocked: the watch has not started") == [
        "go blocked the watch has not started"
    ]
    assert english_sentences("Wed 12-16 01:00 JST (in 9d 16h)") == ["Wed", "9d 16h"]
    assert english_sentences("12-16(水) 01:00 JST (あと 9日16時間)") == []
    assert english_sentences("リリース r-1a2b3c4d は存在しません (cockpit release list)") == []
    assert english_sentences("t14.requirements  Requirements are met") == []  # plan data
    assert english_sentences("データベース不可（Connection refused by the peer）") == []
    assert english_sentences("7 stale cache(s) remain") == ["stale cache remain"]


# ---------------------------------------------------------------------------------------------
# The command line: every bad input of tests/test_bad_inputs.py, in Japanese.


# The workspace of tests/test_bad_inputs.py (a copy of one made once per module), its fixtures.
template = test_bad_inputs.template
workspace = test_bad_inputs.workspace


# Every bad input of tests/test_bad_inputs.py, and each bad database URL for a command that
# writes and for `audit verify` (which only reads).
BAD_INPUTS = [pytest.param(argv, code, None, id=name) for name, argv, code in CASES] + [
    pytest.param(
        command,
        VERIFY_EXPECTED.get(url, code) if command[1] == "verify" else code,
        url,
        id=f"{name} {' '.join(command)}",
    )
    for name, url, code in DB_URLS
    for command in (["release", "list"], ["audit", "verify"])
]


@pytest.mark.parametrize(("argv", "expected", "url"), BAD_INPUTS)
def test_every_bad_input_is_said_in_japanese(
    workspace: tuple[Path, str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    expected: int,
    url: str | None,
) -> None:
    _, rid = workspace
    if url is not None:
        monkeypatch.setenv("COCKPIT_DATABASE_URL", url)
    code, _, err = run_main("--lang", "ja", *(a.replace("{rid}", rid) for a in argv))
    assert_refused(code, err, expected)
    assert english_sentences(err) == [], err


# Refusals and what the commands say, in a workspace with one open release (``{rid}``): the
# commands run in order, the last one's exit code is the one expected; every line they print is
# scanned (standard output too).
REFUSALS: list[tuple[str, list[list[str]], int]] = [
    ("approve before its items", [["item", "approve", "{rid}", "t3.approval"]], 1),
    ("a step before its gate", [["item", "done", "{rid}", "t0.deploy"]], 1),
    ("skip without a reason", [["item", "skip", "{rid}", "t14.requirements"]], 1),
    ("an empty note", [["note", " "]], 2),
    ("nothing to roll back", [["rollback", "run", "{rid}", "--reason", "x", "--yes"]], 1),
    ("nothing ran yet", [["rollback", "plan", "{rid}"]], 0),
    ("cancel what does not run", [["item", "cancel", "{rid}", "t0.deploy", "--reason", "x"]], 1),
    (
        "T-0 in the past",
        [[*test_bad_inputs.START[:4], "--version", "1.5.0", "--t0", "2020-01-01T01:00"]],
        1,
    ),
    (
        "T-0 outside every window",
        [
            [
                "release",
                "new",
                "--env",
                "production",
                "--version",
                "1.5.0",
                "--t0",
                "2026-12-17T01:00",
            ]
        ],
        1,
    ),
    ("--readonly writes", [["--readonly", "note", "x"]], 2),
    ("preview a manual item", [["preview", "{rid}", "t14.requirements"]], 1),
    ("tag outside a repository", [["tag", "--env", "staging", "--dry-run"]], 2),
    ("cancel without a reason", [["release", "cancel", "{rid}"]], 2),
    ("nobody drives", [["lease", "show", "{rid}"]], 0),
    ("the calendar", [["window", "list", "--plan", "migration"]], 0),
    ("the chain verified", [["audit", "verify"]], 0),
    ("close twice", [["release", "close", "{rid}"], ["release", "close", "{rid}"]], 2),
]


@pytest.mark.parametrize(
    ("commands", "expected"), [pytest.param(c, e, id=name) for name, c, e in REFUSALS]
)
def test_every_refusal_is_said_in_japanese(
    workspace: tuple[Path, str], commands: list[list[str]], expected: int
) -> None:
    _, rid = workspace
    said = ""
    for argv in commands:
        code, out, err = run_main("--lang", "ja", *(a.replace("{rid}", rid) for a in argv))
        said += out + err
    assert code == expected, said
    assert said.strip(), "it says something"
    assert english_sentences(said) == [], said


def test_the_locale_picks_japanese_in_a_real_process(workspace: tuple[Path, str]) -> None:
    """No ``--lang``: ``LANG=ja_JP.UTF-8`` alone makes the error Japanese."""
    root, _ = workspace
    locale = {"LANG": "ja_JP.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""}  # (empty: not set)
    done = test_bad_inputs.run_process(root, "release", "show", "NOPE", **locale)
    assert_refused(done.returncode, done.stderr, 2)
    assert english_sentences(done.stderr) == [], done.stderr
    assert "NOPE" in done.stderr


# ---------------------------------------------------------------------------------------------
# Every screen and dialog at 80x24, in Japanese.

# The keys that bring each screen up, from the dashboard, and what the app is built with.
SCREENS: dict[str, tuple[tuple[str, ...], dict[str, bool]]] = {
    "dashboard": ((), {}),
    "checklist": (("enter",), {}),
    "decision": (("enter", "s"), {}),
    "note": (("enter", "n"), {}),
    "audit": (("l", "v"), {}),
    "help": (("enter", "question_mark"), {}),
    "gate": (("enter", "right_square_bracket"), {"t3_ready": True}),
    "runbook": (("d",), {"t0_ready": True}),
    "runbook preview": (("d", "p"), {"t0_ready": True}),
    "run dialog": (("d", "enter"), {"t0_ready": True}),
    "runbook help": (("d", "question_mark"), {"t0_ready": True}),
    "tagging": (("enter", "enter"), {"tag_ready": True}),
    "tag confirm": (("enter", "enter", "enter"), {"tag_ready": True}),
    "palette": (("enter", "colon"), {}),
    "quit": (("q",), {}),
    "rollback dialog": (("d", "R"), {"t0_ready": True}),
    "dashboard note": (("n",), {}),
}


def _frames_say_no_english(frames: Iterable[tuple[str, str]]) -> None:
    bad = {where: english_sentences(text) for where, text in frames}
    bad = {where: found for where, found in bad.items() if found}
    assert not bad, "\n".join(f"{where}: {found}" for where, found in bad.items())


@pytest.mark.parametrize("screen", SCREENS)
async def test_every_screen_is_said_in_japanese(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, screen: str
) -> None:
    keys, options = SCREENS[screen]
    app = make_app(monkeypatch, tmp_path, "ja", **options)
    frames: list[tuple[str, str]] = []
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            for key in keys:
                await asyncio.sleep(0.35)  # past a dialog's settling time
                await pilot.press(key)
                await settle(pilot)
            frames.append((screen, screen_text(app)))
            frames += [(f"{screen} notice", text) for text in app.notified]
    finally:
        app.session.store.close()
    _frames_say_no_english(frames)


async def test_the_metrics_screen_is_said_in_japanese(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from screens.metrics import MetricsScreen
    from tests.test_metrics_app import fixed_sampler

    app = make_app(monkeypatch, tmp_path, "ja")
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            app.push_screen(MetricsScreen(RELEASE_ID, fixed_sampler(app)))
            await settle(pilot)
            _frames_say_no_english([("metrics", screen_text(app))])
    finally:
        app.session.store.close()
