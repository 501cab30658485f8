"""The tagging screen: Pilot tests of tagging a release from the plan, and its snapshots.

A real repository (fixed dates, so fixed SHAs) with a bare remote; every item before the T-1
tag step is settled, so the dashboard's ``enter`` opens T-1 on the tag step.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from screens.app import CockpitApp
from screens.checklist import ChecklistScreen
from screens.dashboard import DashboardScreen
from screens.decision import ConfirmScreen
from screens.tagging import TaggingScreen
from tests.appfixture import RELEASE_ID, git, make_app, screen_text, settle, steady_inputs

SIZE = (80, 24)


@pytest.fixture
def build(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Callable[..., CockpitApp]]:
    made: list[CockpitApp] = []

    def build(lang: str = "en") -> CockpitApp:
        app = make_app(monkeypatch, tmp_path, lang, tag_ready=True)
        made.append(app)
        return app

    yield build
    for app in made:
        app.session.store.close()


def remote_tags(tmp_path: Path) -> str:
    return git("ls-remote", "--tags", str(tmp_path / "remote.git"), cwd=tmp_path)


async def open_tagging(pilot) -> TaggingScreen:  # type: ignore[no-untyped-def]
    await settle(pilot)
    await pilot.press("enter")  # the dashboard opens T-1, on its next open item: the tag step
    await settle(pilot)
    assert isinstance(pilot.app.screen, ChecklistScreen)
    await pilot.press("enter")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, TaggingScreen)
    return screen


async def test_tag_the_release_from_the_plan(build, tmp_path: Path) -> None:
    app = build()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_tagging(pilot)
        text = screen_text(app)
        assert "Version    1.4.0  v1.4.0  the release's version" in text
        assert "minor: 1 of 2 commit(s) since v1.3.2 ask for it" in text
        assert "[x] tag free   v1.4.0 is free locally and on origin" in text
        assert "[!]" not in text
        assert remote_tags(tmp_path).count("refs/tags/") == 3 * 2  # three tags, each peeled

        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert "Create tag v1.4.0 on" in screen_text(app)
        assert "push it with main to origin?" in screen_text(app)
        assert "y yes  enter / n / esc no (the default)" in screen_text(app)  # its keys
        await asyncio.sleep(0.35)  # past the dialog's settling time
        await pilot.press("y")
        await settle(pilot)
        assert app.screen is screen
        text = screen_text(app)
        assert "recorded #" in text and "step.succeeded" in text
        assert "Tag the release  done" in text
        # The preflight after publishing: the plan's refusal is not a pass, and v1.4.0 exists.
        assert "[-] plan       t1.tag: already done" in text
        assert "[x] plan" not in text and "greater than every version tag" not in text
        assert "[x] version    v1.4.0 is this release's, above every other version tag" in text

        actions = [ev.action for ev in app.session.store.events(release_id=RELEASE_ID)]
        tail = actions[actions.index("step.started") :]
        assert tail == ["step.started", "tag.created", "tag.published", "step.succeeded"]
        created = app.session.store.events(actions=("tag.created",))[0].details_obj
        assert created["tag"] == "v1.4.0"
        assert all(run["exit"] == 0 for run in created["git"])
        assert "refs/tags/v1.4.0" in remote_tags(tmp_path)
        message = git("tag", "-l", "--format=%(contents)", "v1.4.0", cwd=tmp_path / "app")
        seq, digest = created["checkpoint"]["seq"], created["checkpoint"]["hash"]
        assert f"Audit-Checkpoint: seq={seq} sha256={digest}" in message
        assert app.session.store.events(last=1)[0].action == "step.succeeded"

        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ChecklistScreen)
        assert "[x] Tag the release" in screen_text(app)


async def test_a_bump_key_changes_the_version_and_the_choice_is_recorded(build) -> None:
    app = build()
    async with app.run_test(size=SIZE) as pilot:
        await open_tagging(pilot)
        await pilot.press("M")
        await settle(pilot)
        assert "Version    2.0.0  v2.0.0  major after 1.3.2" in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        await asyncio.sleep(0.35)
        await pilot.press("y")
        await settle(pilot)
        chosen = app.session.store.events(actions=("version.chosen",))
        assert len(chosen) == 1
        assert chosen[0].details_obj["version"] == "2.0.0"
        assert chosen[0].details_obj["planned"] == "1.4.0"
        assert chosen[0].details_obj["suggested"] == "1.4.0"
        # The release now carries the version it was tagged with.
        assert "2.0.0 release" in screen_text(app).splitlines()[0]


async def test_no_answer_changes_nothing_and_a_failed_preflight_refuses(
    build, tmp_path: Path
) -> None:
    app = build()
    async with app.run_test(size=SIZE) as pilot:
        await open_tagging(pilot)
        before = app.session.store.head()
        await pilot.press("enter")
        await settle(pilot)
        await asyncio.sleep(0.35)
        await pilot.press("enter")  # the confirmation's default: no
        await settle(pilot)
        assert isinstance(app.screen, TaggingScreen)
        assert app.session.store.head() == before
        # Someone else pushes to main: the preflight sees the remote ahead and says so.
        other = tmp_path / "other"
        git("clone", "-q", str(tmp_path / "remote.git"), str(other), cwd=tmp_path)
        (other / "x.txt").write_text("x\n")
        git("add", "x.txt", cwd=other)
        git("commit", "-q", "-m", "fix: elsewhere", cwd=other, when=9)
        git("push", "-q", "origin", "main", cwd=other)
        await pilot.press("0")  # look again
        await settle(pilot)
        text = screen_text(app)
        assert "[!] up to date origin/main is at" in text
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TaggingScreen)  # no question asked
        assert app.session.store.head() == before
        assert "v1.4.0" not in remote_tags(tmp_path)


async def test_dashboard_t_opens_the_tagging_screen(build) -> None:
    app = build("ja")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        assert "t タグ作成" in screen_text(app)
        await pilot.press("t")
        await settle(pilot)
        assert isinstance(app.screen, TaggingScreen)
        text = screen_text(app)
        assert "バージョン" in text and "事前確認 (preflight)" in text
        assert "リリースタグ作成" in text.splitlines()[1]


@pytest.mark.parametrize(
    "size", [(80, 24), (120, 40), (200, 60)], ids=["80x24", "120x40", "200x60"]
)
@pytest.mark.parametrize("lang", ["ja", "en"])
def test_tagging_snapshot(snap_compare, build, lang: str, size: tuple[int, int]) -> None:
    app = build(lang)

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await open_tagging(pilot)
        steady_inputs(pilot.app)

    assert snap_compare(app, terminal_size=size, run_before=run_before)
