"""The T-0 runbook screen: Pilot tests (run a step with its confirmation, rollback on one key,
resume an interrupted step) and snapshots at 80x24 and 120x40 in both languages."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from textual.widgets import Input, Log

from cockpit.events import NewEvent
from screens.app import CockpitApp
from screens.decision import DecisionScreen
from screens.runbook import RunbookScreen
from tests.appfixture import ALICE, RELEASE_ID, make_app, screen_text, settle, steady_inputs

SIZE = (80, 24)


@pytest.fixture
def build(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Callable[..., CockpitApp]]:
    made: list[CockpitApp] = []

    def build(lang: str = "en") -> CockpitApp:
        app = make_app(monkeypatch, tmp_path, lang, t0_ready=True)
        made.append(app)
        return app

    yield build
    for app in made:
        app.session.store.close()


def actions(app: CockpitApp, item: str | None = None) -> list[str]:
    return [
        ev.action
        for ev in app.session.store.events(release_id=RELEASE_ID)
        if item is None or ev.subject == item
    ]


def log_lines(app: CockpitApp) -> list[str]:
    return [str(line) for line in app.screen.query_one("#log", Log).lines]


async def open_runbook(pilot) -> RunbookScreen:  # type: ignore[no-untyped-def]
    await settle(pilot)
    await pilot.press("d")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, RunbookScreen)
    await settle(pilot)
    return screen


async def run_selected(pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(pilot.app.screen, DecisionScreen)
    await asyncio.sleep(0.35)  # past the dialog's settling time
    await pilot.press("enter")  # no reason needed: confirm
    await settle(pilot)


async def test_run_a_step_after_seeing_exactly_what_it_runs(build) -> None:
    app = build()
    async with app.run_test(size=SIZE) as pilot:
        await open_runbook(pilot)
        text = screen_text(app)
        assert "T-0 Release  0/13" in text
        assert "[ ]  1 Take a backup" in text
        assert "run sh -c 'echo backup {version}: ok'" not in text  # rendered, not the template
        assert "run sh -c 'echo backup 1.4.0: ok'" in text
        await pilot.press("enter")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, DecisionScreen)
        assert dialog.title_text == "Run Take a backup?"
        assert "echo backup 1.4.0: ok" in dialog.preview
        await asyncio.sleep(0.35)  # past the dialog's settling time
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, RunbookScreen)
        assert actions(app, "t0.backup") == ["step.started", "step.succeeded"]
        assert "backup 1.4.0: ok" in log_lines(app)
        assert not app.busy()  # quitting does not ask: nothing runs now
        text = screen_text(app)
        assert "[x]  1 Take a backup" in text and "recorded #" in text


async def test_the_runbook_warns_before_a_step_while_a_trigger_is_unsettled(build) -> None:
    from cockpit.checklist import load_checklist
    from cockpit.metrics import Fired, record_trigger

    app = build()
    release = load_checklist(app.session.store, RELEASE_ID).release
    fired = Fired("error_rate", "error rate >= 10 %", "prometheus", "q", "%", None, 10.0, (), 0.0)
    event = record_trigger(app.session.store, ALICE, fired, release=release)
    async with app.run_test(size=SIZE) as pilot:
        await open_runbook(pilot)
        await pilot.press("enter")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, DecisionScreen)
        assert dialog.preview.splitlines()[0] == (
            f"WARNING: rollback trigger #{event.seq} (error rate >= 10 %) is not settled"
            " (s on the metrics screen)"
        )
        assert "echo backup 1.4.0: ok" in dialog.preview


async def test_a_step_asks_to_run_and_a_manual_item_to_be_marked_done(build) -> None:
    app = build()
    async with app.run_test(size=SIZE) as pilot:
        await open_runbook(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert "enter run  esc cancel" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        for _ in range(8):  # to t0.verify_logs, a manual item
            await pilot.press("j")
        await pilot.press("enter")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, DecisionScreen)
        assert dialog.title_text == "Mark Check the logs done"  # not "Run Check the logs?"
        assert "enter record  esc cancel" in screen_text(app)


async def test_production_asks_to_type_its_name_and_ignores_a_held_enter(build) -> None:
    import msgspec

    app = build()
    environments = app.session.loaded.config.environments
    environments["staging"] = msgspec.structs.replace(environments["staging"], production=True)
    _rehearsed_before(app, 60.0)  # production runs only what a rehearsal passed (issue 17)
    async with app.run_test(size=SIZE) as pilot:
        await open_runbook(pilot)
        await pilot.press("enter", "enter", "enter")  # a held enter
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, DecisionScreen)
        assert "production: type staging to confirm" in screen_text(app)
        await asyncio.sleep(0.35)
        await pilot.press("enter")  # the name not typed: nothing runs
        await settle(pilot)
        assert app.screen is dialog and actions(app, "t0.backup") == []
        await pilot.press(*"staging", "enter")
        await settle(pilot)
        assert actions(app, "t0.backup") == ["step.started", "step.succeeded"]


async def test_long_output_wraps_and_a_failed_run_shows_again_after_reopening(build) -> None:
    import msgspec

    app = build()
    steps = app.session.loaded.config.environments["staging"].steps
    long = "Running upgrade " + "0123456789" * 12 + " -> done"
    steps["t0.backup"] = msgspec.structs.replace(
        steps["t0.backup"], argv=["sh", "-c", f"echo '{long}'; echo 'disk full' >&2; exit 3"]
    )
    async with app.run_test(size=SIZE) as pilot:
        await open_runbook(pilot)
        await run_selected(pilot)
        assert actions(app, "t0.backup") == ["step.started", "step.failed"]
        shown = log_lines(app)
        width = app.screen.query_one("#log", Log).scrollable_content_region.width
        assert all(len(line) < width for line in shown), shown  # wrapped, not cut at the edge
        assert long in "".join(shown)
        await pilot.press("escape")
        await settle(pilot)
        await open_runbook(pilot)
        assert log_lines(app) == []
        await pilot.press("o")  # opened after the run: its output and its error
        await settle(pilot)
        again = log_lines(app)
        assert long in "".join(again) and "disk full" in "".join(again)
        assert any(line.startswith("! ") and "exit" in line for line in again), again


async def test_redo_of_a_done_step_asks_why_and_runs_it_again(build) -> None:
    app = build()
    async with app.run_test(size=SIZE) as pilot:
        await open_runbook(pilot)
        await run_selected(pilot)
        assert app.screen.selected().id == "t0.backup"  # type: ignore[attr-defined]
        await pilot.press("e")  # redo the step just done
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, DecisionScreen) and dialog.required
        await asyncio.sleep(0.35)
        await pilot.press("enter")  # no reason: nothing runs
        await settle(pilot)
        assert app.screen is dialog
        await pilot.press(*"check again after the rollback", "enter")
        await settle(pilot)
        started = [
            e for e in app.session.store.events(release_id=RELEASE_ID) if e.action == "step.started"
        ]
        assert [e.reason for e in started] == [None, "check again after the rollback"]
        assert actions(app, "t0.backup")[-1] == "step.succeeded"


async def test_escape_in_the_confirmation_runs_nothing(build) -> None:
    app = build()
    async with app.run_test(size=SIZE) as pilot:
        await open_runbook(pilot)
        before = actions(app)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert actions(app) == before


async def test_rollback_on_one_key_shows_what_will_be_undone_and_records_it(build) -> None:
    app = build()
    async with app.run_test(size=SIZE) as pilot:
        await open_runbook(pilot)
        for _ in range(3):  # backup, maintenance, deploy
            await run_selected(pilot)
            await pilot.press("j")
        await pilot.press("R")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, DecisionScreen)
        assert dialog.title_text == "Roll back t0.deploy of 1.4.0 in staging?"
        assert "t0.deploy: run sh -c 'echo deploy undone'" in dialog.preview
        assert "t0.backup: no undo" in dialog.preview
        await asyncio.sleep(0.35)  # past the dialog's settling time
        await pilot.press("enter")  # a rollback needs a reason
        await settle(pilot)
        assert isinstance(app.screen, DecisionScreen)
        dialog.query_one("#reason", Input).value = "error rate 12% after deploy"
        await asyncio.sleep(0.35)  # past the dialog's settling time
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, RunbookScreen)
        assert actions(app)[-4:] == [
            "rollback.started",
            "step.undo_started",
            "step.undone",
            "rollback.finished",
        ]
        assert "deploy undone" in log_lines(app)
        text = screen_text(app)
        assert "[<]  3 Deploy the code" in text and "rolled back: t0.deploy" in text


async def test_an_interrupted_step_is_rechecked_and_resumed(build) -> None:
    app = build()
    gone = subprocess.Popen(["true"])
    gone.wait()
    app.session.store.append(
        NewEvent(
            action="step.started",
            release_id=RELEASE_ID,
            subject="t0.backup",
            rehearsal=True,
            details={"kind": "shell", "host": "elsewhere", "pid": gone.pid, "timeout": 0},
        ),
        ALICE,
    )
    async with app.run_test(size=SIZE) as pilot:
        await open_runbook(pilot)
        text = screen_text(app)
        assert "[#]  1 Take a backup" in text
        assert "interrupted: r re-checks the real state" in text
        await pilot.press("enter")  # refused: resume or redo, not run as new
        await settle(pilot)
        assert isinstance(app.screen, RunbookScreen)
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, DecisionScreen)
        await asyncio.sleep(0.35)  # past the dialog's settling time
        await pilot.press("enter")
        await settle(pilot)
        assert actions(app, "t0.backup") == [
            "step.started",  # the interrupted run
            "step.rechecked",
            "step.started",
            "step.succeeded",
        ]
        assert "not done: no check_argv" in " ".join(log_lines(app))
        assert "[x]  1 Take a backup" in screen_text(app)


@pytest.mark.parametrize(
    "size", [(80, 24), (120, 40), (200, 60)], ids=["80x24", "120x40", "200x60"]
)
@pytest.mark.parametrize("lang", ["ja", "en"])
def test_runbook_snapshot(snap_compare, build, lang: str, size: tuple[int, int]) -> None:
    app = build(lang)

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await open_runbook(pilot)
        await run_selected(pilot)
        await pilot.press("j")
        await settle(pilot)
        steady_inputs(pilot.app)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


async def _wait(predicate: Callable[[], bool], seconds: float = 20) -> None:
    import asyncio
    import time

    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.1)


@pytest.mark.parametrize("choice", ["stay", "detach", "cancel"])
async def test_quitting_while_a_step_runs_asks_detach_cancel_or_stay(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, build, choice: str
) -> None:
    import asyncio

    import tests.appfixture
    from cockpit.checklist import Status, load_checklist
    from screens.decision import QuitScreen

    marker = tmp_path / "runs.log"
    slow = f"echo run >> {marker}; sleep 3; echo backup done"
    monkeypatch.setattr(
        tests.appfixture,
        "T0_STEPS",
        tests.appfixture.T0_STEPS.replace("echo backup {version}: ok", slow),
    )
    app = build()
    store = app.session.store

    def status() -> Status:
        return load_checklist(store, RELEASE_ID).state("t0.backup").status

    async with app.run_test(size=SIZE) as pilot:
        await open_runbook(pilot)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DecisionScreen)
        await asyncio.sleep(0.35)  # past the dialog's settling time
        await pilot.press("enter")
        await _wait(marker.exists)
        assert status() is Status.RUNNING
        await pilot.press("q")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, QuitScreen)
        assert "t0.backup is running" in dialog.question and "detach" in dialog.question
        await pilot.press("d")  # pressed at once (a held key): ignored
        await pilot.pause()
        assert app.screen is dialog
        await asyncio.sleep(0.35)
        await pilot.press({"stay": "escape", "detach": "d", "cancel": "c"}[choice])
        await pilot.pause()
        if choice == "stay":
            assert isinstance(app.screen, RunbookScreen)
            await _wait(lambda: status() is Status.DONE)
            await settle(pilot)
            assert "--- t0.backup step.succeeded" in log_lines(app)
        else:
            await _wait(lambda: not app.is_running)
    # Whatever was chosen, the step ran once and its supervisor recorded how it ended.
    want = Status.CANCELLED if choice == "cancel" else Status.DONE
    await _wait(lambda: status() is want)
    assert marker.read_text().splitlines() == ["run"]
    assert "step.failed" not in actions(app, "t0.backup")


async def test_a_step_started_elsewhere_is_followed_live_in_the_runbook(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, build
) -> None:
    import tests.appfixture
    from cockpit.actions import decide
    from cockpit.checklist import Status, load_checklist

    slow = "echo started; sleep 2; echo halfway; sleep 1; echo backup done"
    monkeypatch.setattr(
        tests.appfixture,
        "T0_STEPS",
        tests.appfixture.T0_STEPS.replace("echo backup {version}: ok", slow),
    )
    app = build()
    store = app.session.store
    # Another terminal started it and went away (cockpit item done --detach).
    decide(app.session, RELEASE_ID, "t0.backup", "done", detach=True)
    async with app.run_test(size=SIZE) as pilot:
        await open_runbook(pilot)
        await _wait(lambda: "halfway" in log_lines(app))
        assert "following the running step" in "".join(log_lines(app))  # (wrapped)
        await _wait(
            lambda: load_checklist(store, RELEASE_ID).state("t0.backup").status is Status.DONE
        )
        await _wait(lambda: "--- t0.backup done" in log_lines(app))
        assert "backup done" in log_lines(app)


def _rehearsed_before(app: CockpitApp, rollback_s: float) -> str:
    """An earlier rehearsal of the same plan in the log: its T-0 steps ran with this release's
    fingerprint and its rollback took ``rollback_s`` (fixed, so the picture is)."""
    from cockpit.checklist import load_checklist
    from cockpit.deploy import fingerprint, t0_runs

    store, loaded = app.session.store, app.session.loaded
    checklist = load_checklist(store, RELEASE_ID)
    created = store.events(release_id=RELEASE_ID)[0]
    earlier = "r-0e0e0e0e"
    base = {"release_id": earlier, "rehearsal": True}
    details = created.details_obj | {"version": "1.3.0"}
    store.append(NewEvent(action="release.created", subject="1.3.0 release staging",
                          details=details, **base), ALICE)  # fmt: skip
    printed = fingerprint(loaded, checklist)
    for item, run in t0_runs(loaded, checklist).items():
        details = {"fingerprint": printed, "run": run, "plan_sha256": checklist.plan.sha256}
        intent = store.append(NewEvent(action="step.started", subject=item, details=details,
                                       **base), ALICE)  # fmt: skip
        store.append(NewEvent(action="step.succeeded", subject=item, outcome="ok",
                              details={"intent_seq": intent.seq}, **base), ALICE)  # fmt: skip
    store.append(NewEvent(action="rollback.finished", outcome="ok",
                          details={"elapsed_s": rollback_s}, **base), ALICE)  # fmt: skip
    return earlier


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
@pytest.mark.parametrize("lang", ["ja", "en"])
def test_point_of_no_return_snapshot(snap_compare, build, lang: str, size: tuple[int, int]) -> None:
    """03:40 JST on T-0 day; the rehearsal's rollback took 40 min, plus 20 %: 48 min before the
    window closes at 05:00, the point of no return is 04:12 JST."""
    from datetime import UTC, datetime

    app = build(lang)
    _rehearsed_before(app, 2400.0)
    app.session.now = lambda: datetime(2026, 12, 15, 18, 40, tzinfo=UTC)

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await open_runbook(pilot)
        steady_inputs(pilot.app)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


def test_after_the_point_of_no_return_a_forward_step_needs_a_reason(build) -> None:
    from datetime import UTC, datetime

    from cockpit.actions import decide
    from cockpit.checklist import Refused, load_checklist
    from cockpit.rehearsal import no_return

    app = build()
    earlier = _rehearsed_before(app, 2400.0)
    session = app.session
    checklist = load_checklist(session.store, RELEASE_ID)
    jst = [datetime(2026, 12, 15, 18, 40, tzinfo=UTC), datetime(2026, 12, 15, 19, 0, tzinfo=UTC)]
    found = no_return(session.store, session.loaded, checklist, jst[0])
    assert found.at is not None and found.at.strftime("%H:%M %Z") == "04:12 JST"
    assert (found.rehearsal, found.rollback_s) == (earlier, 2400.0)
    assert [found.status(now) for now in jst] == ["ok", "warn"]
    past = datetime(2026, 12, 15, 19, 12, tzinfo=UTC)  # 04:12 JST
    assert found.status(past) == "past"
    with pytest.raises(Refused, match=r"past the point of no return \(04:12 JST\); override"):
        decide(session, RELEASE_ID, "t0.backup", "done", now=past)
    step = decide(session, RELEASE_ID, "t0.backup", "done", now=past, override="3 min job")
    assert step.action == "step.succeeded"
    override = next(
        e for e in session.store.events(release_id=RELEASE_ID) if e.action == "override"
    )
    assert override.reason == "3 min job" and override.details_obj["rule"] == "point_of_no_return"
    assert override.details_obj["rehearsal"] == earlier


async def _seen(app: CockpitApp, predicate: Callable[[], bool]) -> None:
    """:func:`_wait`, showing the screen when it times out."""
    try:
        await _wait(predicate)
    except AssertionError:
        raise AssertionError("timed out; the screen:\n" + screen_text(app)) from None


async def test_past_the_point_of_no_return_the_confirmations_reason_overrides(build) -> None:
    from datetime import UTC, datetime

    app = build()
    _rehearsed_before(app, 2400.0)
    app.session.now = lambda: datetime(2026, 12, 15, 19, 20, tzinfo=UTC)  # 04:20 JST
    async with app.run_test(size=SIZE) as pilot:
        await open_runbook(pilot)
        assert "past the point of no return 04:12 JST" in screen_text(app)
        await run_selected(pilot)  # confirmed without a reason: refused
        await _seen(app, lambda: "override with a reason" in screen_text(app))
        assert actions(app, "t0.backup") == []
        await pilot.press("p")  # from the log back to the preview, read again
        await _seen(app, lambda: "$ sh -c" in screen_text(app))
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DecisionScreen)
        await pilot.press(*"rollback3min")
        await pilot.press("enter")
        await settle(pilot)
        await _seen(app, lambda: actions(app, "t0.backup")[-1:] == ["step.succeeded"])
    override = [
        e for e in app.session.store.events(release_id=RELEASE_ID) if e.action == "override"
    ]
    assert [(e.reason, e.details_obj["rule"]) for e in override] == [
        ("rollback3min", "point_of_no_return")
    ]
