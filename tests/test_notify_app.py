"""A notify item in the cockpit: enter drafts the notice in a worker and shows it for editing;
ctrl+s sends what the operator left there, and the sent text is in the log."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import TextArea

from cockpit.config import LoadedConfig, parse_config_text
from cockpit.operator import Operator
from cockpit.release import create_release
from cockpit.session import Session
from cockpit.store import Store
from screens.app import CockpitApp
from screens.decision import NoticeScreen
from tests.appfixture import settle
from tests.receivers import HttpReceiver
from tests.test_notify import fire_trigger

PLAN = """\
schema_version: 1
name: noticeplan
title_ja: 通知計画
title_en: Notice plan
phases:
  - id: t-0
    offset_days: 0
    title_ja: リリース実施
    title_en: Release
    items:
      - id: t0.users
        kind: notify
        title_ja: ユーザーへの通知
        title_en: Users notified
        channels: [slack]
"""

ALICE = Operator.fixed("alice")

CONFIG = """
[environments.staging]
rehearsal = true
[notify.channels.slack]
kind = "slack"
url_env = "COCKPIT_TEST_SLACK_URL"
langs = ["en"]
"""


def workspace(
    root: Path, http: HttpReceiver, monkeypatch: pytest.MonkeyPatch, config: str
) -> tuple[Session, str]:
    """A store in ``root`` with a release of :data:`PLAN`; Slack goes to ``http``."""
    monkeypatch.setenv("COCKPIT_TEST_SLACK_URL", f"{http.url}/services/T/B/x")
    (root / "noticeplan.yaml").write_text(PLAN)
    loaded = LoadedConfig(parse_config_text(config), root / "cockpit.toml")
    store = Store(f"sqlite:///{root / 'cockpit.db'}").open()
    session = Session(store=store, loaded=loaded, operator=ALICE)
    rid = create_release(
        session,
        plan=str(root / "noticeplan.yaml"),
        environment="staging",
        version="1.4.0",
        t0="2026-12-16T01:00",
    ).id
    return session, rid


@pytest.fixture
def http() -> Iterator[HttpReceiver]:
    receiver = HttpReceiver()
    yield receiver
    receiver.stop()


async def test_enter_shows_the_draft_to_edit_and_ctrl_s_sends_the_edited_text(
    tmp_path: Path, http: HttpReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # git finds no repository here: the draft says no changes
    session, rid = workspace(tmp_path, http, monkeypatch, CONFIG)
    store = session.store
    app = CockpitApp(session, release_id=rid, refresh_seconds=3600, drive=False)
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        app.open_screen("checklist", rid, "t-0")
        await settle(pilot)
        await pilot.press("enter")
        for _ in range(100):
            await settle(pilot)
            if isinstance(app.screen, NoticeScreen):
                break
            await asyncio.sleep(0.05)
        assert isinstance(app.screen, NoticeScreen)
        area = app.screen.query_one("#notice", TextArea)
        assert area.text.startswith("To everyone concerned,\n\nwe are releasing 1.4.0.")
        assert "(no changes recorded)" in area.text
        area.text = area.text.replace("To everyone concerned,", "Dear users,")
        await pilot.press("ctrl+s")
        for _ in range(100):
            await settle(pilot)
            if store.events(release_id=rid, actions=("item.done",)):
                break
            await asyncio.sleep(0.05)
    (done,) = store.events(release_id=rid, actions=("item.done",))
    assert done.details_obj["text"].startswith("Dear users,\n\nwe are releasing 1.4.0.")
    assert done.details_obj["delivered"] == {"slack": "sent"}
    (_path, _headers, body) = http.accepted[-1]
    assert body["blocks"][1]["text"]["text"] == done.details_obj["text"]
    store.close()


async def test_the_driving_cockpit_sends_notices_and_the_dashboard_names_a_failing_channel(
    tmp_path: Path, http: HttpReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cockpit.notify import Outbox
    from tests.appfixture import screen_text

    monkeypatch.chdir(tmp_path)
    config = CONFIG + (
        '[notify.channels.hook]\nkind = "webhook"\nurl = "http://127.0.0.1:9/down"\n'
        'timeout_seconds = 2\n[[notify.routes]]\nseverities = ["critical"]\nchannels = ["slack"]\n'
    )
    session, rid = workspace(tmp_path, http, monkeypatch, config)
    store, loaded, alice = session.store, session.loaded, session.operator
    assert Outbox(store, loaded, alice).test("hook").gave_up is not None  # the hook is down
    app = CockpitApp(session, release_id=rid, refresh_seconds=3600, drive=True)
    async with app.run_test(size=(120, 32)) as pilot:
        await settle(pilot)
        assert "notice channel failing: hook" in screen_text(app)
        app.open_screen("checklist", rid, "t-0")  # drives the release: its sender starts
        for _ in range(100):
            await settle(pilot)
            if app._sender is not None and app._sender.passes:
                break
            await asyncio.sleep(0.05)
        assert app._sender is not None
        fire_trigger(store, rid)
        for _ in range(200):
            if http.accepted:
                break
            await asyncio.sleep(0.05)
        await pilot.press("escape")
        await settle(pilot)
    (_path, _headers, body) = http.accepted[-1]
    assert body["text"].startswith("[CRITICAL] 1.4.0 staging (REHEARSAL): a rollback trigger fired")
    store.close()
