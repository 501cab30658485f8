"""Keys as data: the binding table (ids, labels, footers), the ``[keys]`` keymap, and keys that
are refused now (greyed in the footer, and they say why when pressed)."""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from rich.text import Text
from textual.binding import Binding
from textual.dom import DOMNode
from textual.pilot import Pilot
from textual.widgets import OptionList

from cockpit.i18n import CATALOG, LANGS
from screens.app import CockpitApp
from screens.checklist import ChecklistScreen
from screens.help import HelpScreen
from screens.keys import (
    BY_ID,
    FOOTERS,
    SCREENS,
    TABLE,
    key_display,
    keymap_problems,
    unknown_binding_ids,
)
from tests.appfixture import RecordingApp, make_app, screen_text, settle
from widgets.keybar import KeyBar, KeyHint

REPO = Path(__file__).resolve().parent.parent
SIZE = (80, 24)


def screen_classes() -> Iterator[type[DOMNode]]:
    """Every screen, dialog and app class defined in screens/."""
    for path in sorted((REPO / "screens").glob("*.py")):
        module = importlib.import_module(f"screens.{path.stem}")
        for _name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, DOMNode) and cls.__module__ == module.__name__:
                yield cls


# ---------------------------------------------------------------------------- the table


def test_every_binding_in_screens_has_an_id_from_the_table() -> None:
    seen = 0
    for cls in screen_classes():
        own = cls.__dict__.get("BINDINGS", [])
        for binding in Binding.make_bindings(own):
            assert binding.id in BY_ID, (cls.__name__, binding)
            key = BY_ID[binding.id]
            assert (binding.action, binding.show) == (key.action, bool(key.short))
            assert binding.key in key.keys.split(",")
            seen += 1
    assert seen >= len(BY_ID)
    # ... and no screen writes a Binding by hand: they all come from screens/keys.py.
    for path in (REPO / "screens").glob("*.py"):
        if path.name != "keys.py":
            assert not re.search(r"\bBinding\(", path.read_text()), path.name


def test_binding_ids_are_unique() -> None:
    ids = [key.id for scope in TABLE.values() for key in scope]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("key_id", sorted(BY_ID))
def test_every_binding_has_words_in_each_language(key_id: str) -> None:
    key = BY_ID[key_id]
    for catalog_key in filter(None, (key.label, key.short)):
        assert catalog_key in CATALOG, catalog_key
        assert all(CATALOG[catalog_key][lang].strip() for lang in LANGS)


@pytest.mark.parametrize("screen", SCREENS)
def test_every_footer_shows_bindings_of_its_screen(screen: str) -> None:
    reachable = {key.id for scope in ("nav", screen, "screen", "app") for key in TABLE[scope]}
    for hint in FOOTERS[screen]:
        for key_id in hint.ids:
            assert key_id in reachable, (screen, key_id)
            assert BY_ID[key_id].short, f"{key_id} is not shown (no short label)"


def test_keys_are_written_as_the_operator_types_them() -> None:
    assert [key_display(k) for k in ("question_mark", "escape", "left_square_bracket")] == [
        "?",
        "esc",
        "[",
    ]
    assert [key_display(k) for k in ("enter", "space", "R", "ctrl+r", "full_stop")] == [
        "enter",
        "space",
        "R",
        "ctrl+r",
        ".",
    ]


# ---------------------------------------------------------------------------- the keymap


def test_the_default_keys_have_no_problems() -> None:
    assert keymap_problems({}) == []
    assert keymap_problems({"nav.down": "z", "app.help": "?,f1", "checklist.do": "ctrl+d"}) == []


def test_unknown_binding_ids_are_named() -> None:
    assert unknown_binding_ids({"nav.down": "z", "nav.dwn": "n", "deploy": "d"}) == [
        "nav.dwn",
        "deploy",
    ]
    (line,) = keymap_problems({"nav.dwn": "z"})
    assert line == '[keys] "nav.dwn": no binding has this id (did you mean "nav.down"?)'


@pytest.mark.parametrize(
    ("keys", "problem"),
    [
        ("ctl+n", 'unknown modifier "ctl"'),
        ("enterr", 'unknown key "enterr"'),
        ("", "an empty key"),
        ("z,", "an empty key"),
    ],
)
def test_a_key_textual_does_not_know_is_one_line(keys: str, problem: str) -> None:
    (line,) = keymap_problems({"nav.down": keys})
    assert line.startswith(f'[keys] "nav.down" = "{keys}": {problem}')


def test_two_bindings_of_one_screen_on_one_key_are_refused() -> None:
    problems = keymap_problems({"nav.down": "k"})
    assert '[keys] "nav.down" and "nav.up" both use "k" on the dashboard screen' in problems
    # Moving the other one away as well is fine.
    assert keymap_problems({"nav.down": "k", "nav.up": "i"}) == []


def test_the_app_refuses_a_bad_keymap_before_drawing_anything(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match=r'\[keys\] "nav.dwn": no binding has this id'):
        make_app(monkeypatch, tmp_path, keymap={"nav.dwn": "z"})


# ---------------------------------------------------------------------------- Pilot


@pytest.fixture
def build(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Callable[..., RecordingApp]]:
    made: list[CockpitApp] = []

    def build(lang: str = "en", **options: object) -> RecordingApp:
        app = make_app(monkeypatch, tmp_path, lang, **options)  # type: ignore[arg-type]
        made.append(app)
        return app

    yield build
    for app in made:
        app.session.store.close()


async def open_phase(pilot: Pilot[None], phase_id: str) -> ChecklistScreen:
    await pilot.press("enter")
    await settle(pilot)
    for _ in range(5):
        screen = pilot.app.screen
        assert isinstance(screen, ChecklistScreen)
        if screen.phase_id == phase_id:
            return screen
        await pilot.press("right_square_bracket")
        await settle(pilot)
    raise AssertionError(f"no phase {phase_id}")


def footer(app: CockpitApp) -> dict[str, KeyHint]:
    return {hint.key: hint for hint in app.screen.query_one(KeyBar).hints}


async def test_a_remapped_key_works_and_the_screen_says_so(build) -> None:
    app = build(keymap={"nav.down": "z"})
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_phase(pilot, "t-14")
        items = screen.query_one("#items", OptionList)
        start = items.highlighted
        assert start  # not the first item: k can move up

        await pilot.press("k")
        await settle(pilot)
        assert items.highlighted == start - 1
        await pilot.press("j")  # not bound any more
        await settle(pilot)
        assert items.highlighted == start - 1
        await pilot.press("z")
        await settle(pilot)
        assert items.highlighted == start

        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        rows = [line.split("│")[1].split() for line in screen_text(app).splitlines() if "│" in line]
        assert ["z", "down"] in rows
        assert ["k", "up"] in rows
    assert app.session.store.events(after_seq=4) == []


async def test_a_refused_action_is_greyed_in_the_footer_and_says_why(build) -> None:
    """alice prepared the release: the T-3 gate is hers to see, not to approve."""
    app = build(t3_ready=True)
    why = "four-eyes: alice prepared this release and may not approve it"
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_phase(pilot, "t-3")
        assert screen.selected() is not None and screen.selected().id == "t3.approval"

        hints = footer(app)
        assert (hints["a"].enabled, hints["a"].reason) == (False, why)
        assert (hints["enter"].enabled, hints["enter"].reason) == (False, why)
        assert hints["n"].enabled and hints["?"].enabled and hints["esc"].enabled
        shown = app.screen.query_one(KeyBar).content
        assert isinstance(shown, Text)
        at = shown.plain.index(" a approve") + 1
        assert any(s.start <= at < s.end and "dim" in str(s.style) for s in shown.spans)

        seq = app.session.store.head()[0]
        await pilot.press("a")
        await settle(pilot)
        assert app.screen is screen  # no dialog opened
        assert app.notified == [f"refused: {why}"]
        assert app.session.store.head()[0] == seq


async def test_the_dashboard_has_no_back_key(build) -> None:
    app = build()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert [hint.key for hint in app.screen.query_one(KeyBar).hints] == [
            "?",
            "enter",
            "t",
            "d",
            "m",
            "n",
            "l",
            "q",
        ]
        await pilot.press("escape")
        await settle(pilot)
        assert len(app.screen_stack) == 1  # the dashboard, the first screen
        assert app.notified == []
