"""The UI thread never touches the database: every read (the dashboard's releases and the one
under the cursor, a checklist, the audit log, verify) runs in a worker and posts its result; j/k
only move the cursor and draw. Checked on a real app (Textual's Pilot) over a real SQLite store,
by the reads the store opens (its own SQLite reader and the connections its engine hands out)
and the thread that asks for each."""

from __future__ import annotations

import contextlib
import threading
import traceback
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import event

from cockpit.release import new_release_event
from cockpit.store import Store
from screens.audit import AuditScreen
from screens.checklist import ChecklistScreen
from screens.dashboard import DashboardScreen
from tests.appfixture import make_app, screen_text, settle


@contextlib.contextmanager
def reads_of(store: Store, record: Callable[..., None]) -> Iterator[None]:
    """``record()`` called in the thread of every read transaction the store opens
    (:meth:`Store.reading`) and every connection its engine hands out (writes)."""
    original = store.reading

    def reading() -> contextlib.AbstractContextManager[object]:
        record()
        return original()

    store.reading = reading  # type: ignore[method-assign]
    event.listen(store.engine, "checkout", record)
    try:
        yield
    finally:
        event.remove(store.engine, "checkout", record)
        del store.reading


async def test_keys_and_reloads_never_read_the_store_on_the_ui_thread(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    app = make_app(monkeypatch, tmp_path)
    store = app.session.store
    # A second release (the fixture's ids are fixed: this one gets its own).
    made = new_release_event(
        app.session.loaded,
        plan="release",
        environment="staging",
        version="1.5.0",
        t0="2026-12-23T01:00",
    )
    second = store.append(replace(made, release_id="r-5e6f7a8b"), app.session.operator)
    on_ui: list[str] = []
    connections: list[str] = []

    def checkout(*_args: object) -> None:
        name = threading.current_thread().name
        connections.append(name)
        if threading.current_thread() is threading.main_thread():
            on_ui.append(name)

    try:
        with reads_of(store, checkout):
            async with app.run_test(size=(100, 30)) as pilot:
                await settle(pilot)
                assert isinstance(app.screen, DashboardScreen)
                assert "1.4.0" in screen_text(app).splitlines()[0]
                await pilot.press("j")
                await settle(pilot)
                assert "1.5.0" in screen_text(app).splitlines()[0]  # read in a worker, then drawn
                assert app.screen.checklist is not None
                assert app.screen.checklist.release.id == second.release_id
                await pilot.press("k", "j", "k")
                await settle(pilot)
                assert "1.4.0" in screen_text(app).splitlines()[0]
                await pilot.press("enter")
                await settle(pilot)
                assert isinstance(app.screen, ChecklistScreen)
                await pilot.press("slash", *"pend", "enter", "escape")  # a filter: drawn, not read
                await settle(pilot)
                await pilot.press("j", "j", "k", "l")
                await settle(pilot)
                assert isinstance(app.screen, AuditScreen) and "REHEARSAL" in screen_text(app)
                app.screen.reload()  # what the watcher does when the log grows
                await settle(pilot)
                # The event in full (read in a worker), the cursor moving beneath it, UTC and back
                # (the lines written again in a worker), a filter.
                await pilot.press("enter", "k", "Z")
                await settle(pilot)
                assert "#4 item.skipped" in str(app.screen.query_one("#detail-text").content)
                await pilot.press("escape", "Z", "slash", *"done", "enter")
                await settle(pilot)
                assert "JST" in screen_text(app)
                await pilot.press("escape", "escape")
                await settle(pilot)
    finally:
        store.close()
    assert connections, "the store was never read: the check above would prove nothing"
    assert on_ui == [], "\n\n".join(on_ui)


@pytest.mark.parametrize(
    ("opened", "key", "moves"),
    [
        ("MetricsScreen", "m", ()),
        ("RunbookScreen", "d", ("j", "j", "k")),
        ("TaggingScreen", "t", ("j", "k")),
    ],
)
async def test_metrics_runbook_and_tagging_read_nothing_on_the_ui_thread(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, opened: str, key: str, moves: tuple[str, ...]
) -> None:
    """Each opens its release in a worker (the metrics screen its sampler and why go is
    blocked, the runbook the point of no return and a rollback running elsewhere)."""
    app = make_app(monkeypatch, tmp_path, t0_ready=opened == "RunbookScreen", tag_ready=True)
    store = app.session.store
    on_ui: list[str] = []

    def checkout(*_args: object) -> None:
        if threading.current_thread() is threading.main_thread():
            on_ui.append("".join(traceback.format_stack(limit=14)))

    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        with reads_of(store, checkout):
            await pilot.press(key)
            await settle(pilot)
            assert type(app.screen).__name__ == opened
            assert getattr(app.screen, "checklist", True) is not None  # read, in a worker
            await pilot.press(*moves, "escape")
            await settle(pilot)
    store.close()
    assert on_ui == [], "\n\n".join(on_ui)
