"""Snapshots of every screen at 80x24, 120x40 and 200x60, in Japanese and English, and one in
ASCII.

The SVGs are committed under ``tests/__snapshots__/test_snapshots/``; after a deliberate change
to a screen, look at the new pictures and update them with
``pytest tests/test_snapshots.py --snapshot-update``.

The keys are pressed inside ``run_before`` rather than with ``press=``: ``snap_compare`` runs
``run_before`` first and presses afterwards, and the screens start thread workers (the chain
verification on the dashboard and in the audit log) and inputs with a blinking cursor that must
be settled after the last key, before the picture is taken.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot

from screens.app import CockpitApp
from tests.appfixture import make_app, settle, steady_inputs

# The keys that bring each screen up, from the dashboard.
SCREENS = {
    "dashboard": (),
    "checklist": ("enter",),
    "decision": ("enter", "s"),
    "audit": ("l", "v"),
    "help": ("enter", "question_mark"),
}
SIZES = {"80x24": (80, 24), "120x40": (120, 40), "200x60": (200, 60)}


@pytest.fixture
def build(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Callable[..., CockpitApp]]:
    made: list[CockpitApp] = []

    def build(lang: str, **options: bool) -> CockpitApp:
        app = make_app(monkeypatch, tmp_path, lang, **options)
        made.append(app)
        return app

    yield build
    for app in made:
        app.session.store.close()


def keys_then_settle(keys: tuple[str, ...]) -> Callable[[Pilot[None]], Awaitable[None]]:
    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)  # the dashboard's chain verification
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
        steady_inputs(pilot.app)

    return run_before


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("lang", ["ja", "en"])
@pytest.mark.parametrize("screen", SCREENS)
def test_screen(snap_compare, build, screen: str, lang: str, size: str) -> None:
    app = build(lang)
    run_before = keys_then_settle(SCREENS[screen])
    assert snap_compare(app, terminal_size=SIZES[size], run_before=run_before)


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_decision_dialog_ascii(snap_compare, build, lang: str) -> None:
    """``--ascii``: borders a CJK terminal cannot turn double-wide."""
    app = build(lang, ascii=True)
    run_before = keys_then_settle(SCREENS["decision"])
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
