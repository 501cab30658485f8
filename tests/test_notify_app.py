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

CONFIG = """
[environments.staging]
rehearsal = true
[notify.channels.slack]
kind = "slack"
url_env = "COCKPIT_TEST_SLACK_URL"
langs = ["en"]
"""


@pytest.fixture
def http() -> Iterator[HttpReceiver]:
    receiver = HttpReceiver()
    yield receiver
    receiver.stop()


async def test_enter_shows_the_draft_to_edit_and_ctrl_s_sends_the_edited_text(
    tmp_path: Path, http: HttpReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COCKPIT_TEST_SLACK_URL", f"{http.url}/services/T/B/x")
    monkeypatch.chdir(tmp_path)  # git finds no repository here: the draft says no changes
    (tmp_path / "noticeplan.yaml").write_text(PLAN)
    loaded = LoadedConfig(parse_config_text(CONFIG), tmp_path / "cockpit.toml")
    store = Store(f"sqlite:///{tmp_path / 'cockpit.db'}").open()
    session = Session(store=store, loaded=loaded, operator=Operator.fixed("alice"))
    rid = create_release(
        session,
        plan=str(tmp_path / "noticeplan.yaml"),
        environment="staging",
        version="1.4.0",
        t0="2026-12-16T01:00",
    ).id
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
