"""The cockpit app driven by keys (Textual's Pilot), checked by what it records and shows.

Each test presses what an operator would press and asserts on the result twice: in the event log
(the only state there is) and on the screen.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import OptionList, Static

from cockpit.events import Event
from screens.app import CockpitApp
from screens.audit import AuditScreen
from screens.checklist import ChecklistScreen
from screens.dashboard import DashboardScreen
from screens.decision import ConfirmScreen, DecisionScreen
from screens.help import HelpScreen
from screens.runbook import RunbookScreen
from tests.appfixture import BOB, RELEASE_ID, RecordingApp, make_app, screen_text, settle
from widgets.auditview import AuditView
from widgets.keybar import KeyBar
from widgets.statusline import StatusLine
from widgets.timeline import Timeline

SIZE = (80, 24)
SEEDED_EVENTS = 4  # release.created and the three T-14 decisions


@pytest.fixture
def build(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Callable[..., CockpitApp]]:
    made: list[CockpitApp] = []

    def build(lang: str = "en", **options: bool) -> CockpitApp:
        app = make_app(monkeypatch, tmp_path, lang, **options)
        made.append(app)
        return app

    yield build
    for app in made:
        app.session.store.close()


# ---------------------------------------------------------------------------- helpers


def new_events(app: CockpitApp, after: int = SEEDED_EVENTS) -> list[Event]:
    return app.session.store.events(after_seq=after)


def plain(widget: Static) -> str:
    """The text a Static was given (before wrapping to the terminal's width)."""
    content = widget.content
    return str(getattr(content, "plain", content))


def notifications(app: RecordingApp) -> list[str]:
    return list(app.notified)


def checklist(app: CockpitApp) -> ChecklistScreen:
    screen = app.screen
    assert isinstance(screen, ChecklistScreen), type(screen).__name__
    return screen


def selected_id(app: CockpitApp) -> str:
    item = checklist(app).selected()
    assert item is not None
    return item.id


def detail(app: CockpitApp) -> str:
    return plain(app.screen.query_one("#detail", Static))


def row(app: CockpitApp, item_id: str) -> str:
    """The checklist row of an item, as shown."""
    options = app.screen.query_one("#items", OptionList)
    return str(options.get_option(item_id).prompt)


async def open_phase(pilot: Pilot[None], phase_id: str) -> ChecklistScreen:
    """From the dashboard: enter (the phase of the next item), then ``]`` to ``phase_id``."""
    await pilot.press("enter")
    await settle(pilot)
    for _ in range(5):
        if checklist(pilot.app).phase_id == phase_id:
            break
        await pilot.press("right_square_bracket")
        await settle(pilot)
    screen = checklist(pilot.app)
    assert screen.phase_id == phase_id
    return screen


async def type_text(pilot: Pilot[None], text: str) -> None:
    await pilot.press(*text)


# ---------------------------------------------------------------------------- dashboard


async def test_dashboard_shows_release_phases_and_opens_the_next_item(build) -> None:
    app = build()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        text = screen_text(app)
        header = text.splitlines()[0]
        assert "1.4.0 release  staging REHEARSAL  T-0 12-16 01:00 JST" in header
        timeline = text.splitlines()[2:7]
        expected = [
            ("T-14", "[####--]", "3/4", "due 12-02"),
            ("T-7", "[------]", "0/7", "due 12-09"),
            ("T-3", "[------]", "0/6", "due 12-13"),
            ("T-1", "[------]", "0/7", "due 12-15"),
            ("T-0", "[------]", "0/13", "due 12-16 01:00"),
        ]
        for line, parts in zip(timeline, expected, strict=True):
            for part in parts:
                assert part in line, (part, line)
        assert ">T-14" in timeline[0]  # the current phase
        assert "Next    T-14 Configuration changes checked (設定変更の確認)" in text
        assert "Audit   #4 chain ok" in text  # the verify worker finished, one column with Next
        assert "Window  next Wed 12-16 01:00-05:00 JST (in 22d 6h)" in text

        await pilot.press("enter")
        await settle(pilot)
        screen = checklist(app)
        assert screen.phase_id == "t-14"
        assert selected_id(app) == "t14.config_changes"
        assert "T-14 Release content fixed  " in screen_text(app)

        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
    assert new_events(app) == []


# ---------------------------------------------------------------------------- decisions


def test_cut_text_ends_with_an_ellipsis_in_every_list() -> None:
    from rich.cells import cell_len

    from widgets.cells import fit

    assert fit("Release content fixed", 10) == "Release c\u2026"
    assert fit("T-0", 5) == "T-0  "
    cut = fit("要件の充足確認", 6)
    assert cell_len(cut) == 6 and cut.endswith("\u2026")


async def test_the_timeline_cuts_long_phase_names_with_an_ellipsis(build) -> None:
    app = build()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        timeline = plain(app.screen.query_one(Timeline)).splitlines()
        assert any("\u2026 [" in line for line in timeline), timeline


async def test_enter_and_space_mark_manual_items_done_and_move_on(build) -> None:
    app = build()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_phase(pilot, "t-7")
        assert selected_id(app) == "t7.test_results"

        await pilot.press("enter")
        await settle(pilot)
        (event,) = new_events(app)
        assert (event.action, event.subject, event.actor) == (
            "item.done",
            "t7.test_results",
            "alice@bastion-1",
        )
        assert event.release_id == RELEASE_ID and event.rehearsal and event.reason is None
        assert selected_id(app) == "t7.code_review"  # the cursor moved to the next open item
        assert row(app, "t7.test_results").startswith(" [x] Test results reviewed")
        assert "alice (claimed) 11-20 10:00" in row(app, "t7.test_results")  # not signed
        assert f"recorded #{event.seq} item.done" in detail(app)  # said in the detail pane

        await pilot.press("space")
        await settle(pilot)
        events = new_events(app)
        assert [(e.action, e.subject) for e in events] == [
            ("item.done", "t7.test_results"),
            ("item.done", "t7.code_review"),
        ]
        assert selected_id(app) == "t7.security_scan"
        assert "  2/7  " in plain(app.screen.query_one("#phase", StatusLine))


async def test_u_reopens_a_mis_ticked_item_with_a_reason(build) -> None:
    app = build()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_phase(pilot, "t-14")
        for _ in range(3):
            await pilot.press("k")
            await settle(pilot)
        assert selected_id(app) == "t14.requirements"
        await pilot.press("u")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, DecisionScreen)
        assert dialog.title_text == "Reopen Requirements are met" and dialog.required
        await type_text(pilot, "ticked by mistake")
        await pilot.press("enter")
        await settle(pilot)
        (event,) = new_events(app)
        assert (event.action, event.subject, event.reason) == (
            "item.reopened",
            "t14.requirements",
            "ticked by mistake",
        )
        assert row(app, "t14.requirements").startswith(" [ ] ")


async def test_skip_needs_a_reason_and_records_it(build) -> None:
    app = build()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_phase(pilot, "t-14")
        assert selected_id(app) == "t14.config_changes"

        await pilot.press("s")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, DecisionScreen)
        text = screen_text(app)
        assert "Skip Configuration changes checked" in text
        assert "Reason (required)" in text

        await pilot.press("enter")  # no reason
        await settle(pilot)
        assert app.screen is dialog
        assert plain(dialog.query_one("#error", Static)) == "a reason is required"
        assert "a reason is required" in screen_text(app)
        assert new_events(app) == []

        await type_text(pilot, "in 1.4.1")
        await pilot.press("enter")
        await settle(pilot)
        (event,) = new_events(app)
        assert (event.action, event.subject, event.reason) == (
            "item.skipped",
            "t14.config_changes",
            "in 1.4.1",
        )
        assert event.actor == "alice@bastion-1"
        checklist(app)  # the dialog closed
        assert row(app, "t14.config_changes").startswith(" [-] Configuration")
        assert 'skip: "in 1.4.1"' in row(app, "t14.config_changes")
        assert "  4/4  " in plain(app.screen.query_one("#phase", StatusLine))


async def test_escape_backs_out_of_a_decision(build) -> None:
    app = build()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_phase(pilot, "t-14")
        await pilot.press("s")
        await settle(pilot)
        await type_text(pilot, "never mind")
        await pilot.press("escape")
        await settle(pilot)
        checklist(app)
        assert new_events(app) == []
        assert row(app, "t14.config_changes").startswith(" [ ] ")


async def test_the_preparer_cannot_approve_the_gate(build) -> None:
    app = build(t3_ready=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_phase(pilot, "t-3")
        assert selected_id(app) == "t3.approval"
        assert "a approve: not now - four-eyes: alice prepared this release" in detail(app)

        seq = app.session.store.head()[0]
        for key in ("a", "enter"):
            await pilot.press(key)
            await settle(pilot)
            checklist(app)  # no dialog opened
            assert new_events(app, seq) == []
        message = "refused: four-eyes: alice prepared this release and may not approve it"
        assert notifications(app) == [message, message]
        assert "gate 0/1 (role approver, anyone but alice)" in row(app, "t3.approval")


async def test_an_approval_from_another_terminal_moves_the_cursor_on(build) -> None:
    """The preparer waits on the gate; a colleague approves elsewhere; the next reload settles
    the gate and moves the cursor to the next open item, where enter works again."""
    from cockpit.actions import decide
    from cockpit.session import Session

    app = build(t3_ready=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_phase(pilot, "t-3")
        assert selected_id(app) == "t3.approval"
        colleague = Session(loaded=app.session.loaded, store=app.session.store, operator=BOB)
        decide(colleague, RELEASE_ID, "t3.approval", "approve")
        checklist(app).reload()
        await settle(pilot)
        assert row(app, "t3.approval").startswith(" [x] Release approved")
        assert selected_id(app) == "t3.stakeholders"
        assert "not now" not in detail(app).split("\n")[0]


async def test_a_second_approver_approves_the_gate(build) -> None:
    app = build(t3_ready=True)
    app.session.operator = BOB  # a rehearsal: the stand-in colleague of COCKPIT_AS
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_phase(pilot, "t-3")
        assert selected_id(app) == "t3.approval"
        seq = app.session.store.head()[0]

        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, DecisionScreen)
        text = screen_text(app)
        assert "Approve Release approved" in text
        assert "Reason (optional)" in text
        await pilot.press("enter")
        await settle(pilot)

        (event,) = new_events(app, seq)
        assert (event.action, event.subject, event.actor) == (
            "gate.approved",
            "t3.approval",
            "bob@bastion-2",
        )
        assert event.details_obj["plan_sha256"] == checklist(app).checklist.plan.sha256
        assert row(app, "t3.approval").startswith(" [x] Release approved")
        assert "bob (claimed) 11-20 10:00" in row(app, "t3.approval")  # not signed
        assert selected_id(app) == "t3.stakeholders"
        assert "  5/6  " in plain(app.screen.query_one("#phase", StatusLine))


async def test_reject_needs_a_reason_and_records_it(build) -> None:
    app = build(t3_ready=True)
    app.session.operator = BOB
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_phase(pilot, "t-3")
        seq = app.session.store.head()[0]

        await pilot.press("x")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, DecisionScreen)
        assert "Reject Release approved" in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is dialog
        assert plain(dialog.query_one("#error", Static)) == "a reason is required"
        assert new_events(app, seq) == []

        await type_text(pilot, "QA: no sign-off")
        await pilot.press("enter")
        await settle(pilot)
        (event,) = new_events(app, seq)
        assert (event.action, event.subject, event.reason, event.actor) == (
            "gate.rejected",
            "t3.approval",
            "QA: no sign-off",
            "bob@bastion-2",
        )
        assert row(app, "t3.approval").startswith(" [!] Release approved")
        assert "rejected: bob" in detail(app)
        assert "reason: QA: no sign-off" in detail(app)


async def test_a_disabled_action_says_why(build) -> None:
    """A T-0 item before the T-3 gate is approved: greyed in the footer, the reason in words."""
    app = build()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_phase(pilot, "t-0")
        assert selected_id(app) == "t0.backup"
        why = "gate t3.approval (Release approved) is not approved yet"
        assert f"enter do: not now - {why}" in detail(app)
        assert f"s skip: not now - {why}" in detail(app)
        # The whole reason is on screen, not cut off at the pane's edge.
        shown = " ".join(line.strip() for line in screen_text(app).splitlines())
        assert f"enter do: not now - {why}" in shown
        hints = app.screen.query_one("#keys", KeyBar)
        assert "enter do" in plain(hints)

        await pilot.press("enter")
        await settle(pilot)
        assert new_events(app) == []
        assert notifications(app) == [f"refused: {why}"]


async def test_a_disabled_action_says_why_in_japanese(build) -> None:
    app = build("ja")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_phase(pilot, "t-0")
        why = "ゲート t3.approval (Release approved) が未承認です"
        assert f"enter 実施: 不可 - {why}" in detail(app)
        assert "ヘルプ" in plain(app.screen.query_one("#keys", KeyBar))


# ---------------------------------------------------------------------------- notes, phases


async def test_note_is_recorded(build) -> None:
    app = build()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, DecisionScreen)
        assert "Add a note to the audit log" in screen_text(app)
        assert "Reason" not in screen_text(app) and " Note" in screen_text(app)
        await pilot.press("enter")  # an empty note is not recorded
        await settle(pilot)
        assert app.screen is dialog
        await type_text(pilot, "go/no-go 18:00")
        await pilot.press("enter")
        await settle(pilot)

        (event,) = new_events(app)
        assert (event.action, event.release_id, event.reason, event.actor) == (
            "note",
            RELEASE_ID,
            "go/no-go 18:00",
            "alice@bastion-1",
        )
        assert event.rehearsal
        assert isinstance(app.screen, DashboardScreen)
        assert "recorded #5 note" in notifications(app)
        # The newest line of the dashboard's recent decisions is the note.
        recent = plain(app.screen.query_one("#recent", Static)).splitlines()
        assert "note" in recent[-1]
        assert '"go/no-go 18:00"' in recent[-1]


async def test_the_palette_offers_every_action_and_navigation_of_the_screen(build) -> None:
    app = build()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("colon")  # the palette is a screen of its own, over the dashboard
        await settle(pilot)
        labels = [label for label, _key, _call in app.palette_commands()]
        assert labels == [
            "open", "tag (asks first)", "deploy", "metrics", "add a note", "audit log", "help",
            "quit", "times in UTC / the window's zone",
        ]  # fmt: skip
        await type_text(pilot, "note")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DecisionScreen)
        assert "Add a note to the audit log" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("enter")  # the checklist: its palette has its own keys
        await settle(pilot)
        await pilot.press("colon")
        await settle(pilot)
        labels = [label for label, _key, _call in app.palette_commands()]
        assert "skip (reason required)" in labels and "next phase" in labels
        assert "back" in labels and "open" not in labels
        # Every navigation: the screens its keys do not open, for this release.
        assert labels[-3:] == ["open the runbook", "open the metrics", "open tagging"]
        await type_text(pilot, "open the runbook")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, RunbookScreen)
        assert app.screen.release_id == RELEASE_ID


async def test_note_from_the_checklist(build) -> None:
    app = build()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_phase(pilot, "t-7")
        await pilot.press("n")
        await settle(pilot)
        await type_text(pilot, "waiting for QA")
        await pilot.press("enter")
        await settle(pilot)
        (event,) = new_events(app)
        assert (event.action, event.reason) == ("note", "waiting for QA")
        assert checklist(app).phase_id == "t-7"
        await pilot.press("enter")  # an item ticked: recorded #6, then a note: #7
        await settle(pilot)
        assert "recorded #6 item.done" in detail(app)
        await pilot.press("n")
        await settle(pilot)
        await type_text(pilot, "QA done")
        await pilot.press("enter")
        await settle(pilot)
        assert "recorded #7 note" in detail(app) and "#6" not in detail(app)


async def test_brackets_move_between_phases(build) -> None:
    app = build()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        seen = [checklist(app).phase_id]
        for _ in range(5):  # one more than there is: it stays on the last phase
            await pilot.press("right_square_bracket")
            await settle(pilot)
            seen.append(checklist(app).phase_id)
        assert seen == ["t-14", "t-7", "t-3", "t-1", "t-0", "t-0"]
        assert "T-0 Release  0/13" in screen_text(app)
        assert row(app, "t0.watch").startswith(" [ ] Post-release watch")

        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert checklist(app).phase_id == "t-1"
        assert selected_id(app) == "t1.dependent_services"
        text = screen_text(app)
        assert "T-1 Final check  0/7" in text
        assert "0/7" in text
        for _ in range(5):
            await pilot.press("left_square_bracket")
            await settle(pilot)
        assert checklist(app).phase_id == "t-14"
    assert new_events(app) == []


# ---------------------------------------------------------------------------- audit log


async def test_audit_log_lists_filters_and_verifies(build) -> None:
    app = build()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_phase(pilot, "t-7")
        await pilot.press("enter")  # one more event, recorded from the app
        await settle(pilot)
        events = app.session.store.events()
        assert len(events) == 5

        await pilot.press("l")
        await settle(pilot)
        assert isinstance(app.screen, AuditScreen)
        log = app.screen.query_one("#log", AuditView)
        assert log.line_count == 5
        text = screen_text(app)
        assert "Audit log  REHEARSAL  5/5 events" in text
        for ev in events:
            assert f"#{ev.seq:<4} {ev.recorded_at[5:10]} " in text
            assert ev.action in text

        await pilot.press("slash")
        await type_text(pilot, "item.done")
        await settle(pilot)
        assert log.line_count == 3
        assert "3/5 events  /item.done" in screen_text(app)
        await type_text(pilot, "x")  # "item.donex": nothing matches
        await pilot.press("enter")  # the filter stays; the keys scroll the log again
        await settle(pilot)
        assert log.line_count == 0
        assert app.focused is log
        await pilot.press("slash", "escape")  # back in the box: esc clears the filter
        await settle(pilot)
        assert log.line_count == 5
        assert "5/5 events" in screen_text(app)
        assert isinstance(app.screen, AuditScreen)

        await pilot.press("v")
        await settle(pilot)
        header = plain(app.screen.query_one("#header", StatusLine))
        assert "verify ok: 5 events, head #5" in header
        assert "verify ok: 5 events, head #5" in screen_text(app)

        await pilot.press("escape")
        await settle(pilot)
        assert checklist(app).phase_id == "t-7"
    assert len(app.session.store.events()) == 5  # looking records nothing


async def test_audit_filter_by_actor(build) -> None:
    app = build(t3_ready=True)
    app.session.operator = BOB
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_phase(pilot, "t-3")
        await pilot.press("a", "enter")
        await settle(pilot)
        await pilot.press("l")
        await settle(pilot)
        log = app.screen.query_one("#log", AuditView)
        assert log.line_count == 9
        await pilot.press("slash", *"bob@")
        await settle(pilot)
        assert log.line_count == 1
        assert "gate.approved" in screen_text(app)


# ---------------------------------------------------------------------------- help, quit


async def test_help_lists_the_keys_of_the_screen(build) -> None:
    app = build()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_phase(pilot, "t-14")
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        # The dialog's rows, between its borders (the checklist shows around it).
        lines = [line.split("│")[1] for line in screen_text(app).splitlines() if "│" in line]
        assert lines[0].strip() == "Keys"
        for keys, label in [
            ("enter space", "do (runs a check or step)"),
            ("s", "skip (reason required)"),
            ("a", "approve"),
            ("x", "reject (reason required)"),
            ("n", "add a note"),
            ("[", "previous phase"),
            ("]", "next phase"),
            ("l", "audit log"),
            ("esc", "back"),
            ("?", "help"),
            (":", "command palette"),
            ("q", "quit"),
        ]:
            assert any(line.split() == [*keys.split(), *label.split()] for line in lines), keys
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ChecklistScreen)

        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("question_mark")  # ? closes it too
        await settle(pilot)
        assert isinstance(app.screen, ChecklistScreen)
    assert new_events(app) == []


async def test_q_quits(build) -> None:
    app = build()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.return_code is None
        await pilot.press("q")
        await pilot.pause()
        assert app.return_code == 0
    assert not app.is_running
    assert new_events(app) == []  # quitting records nothing


async def test_quitting_while_something_runs_asks_first(build) -> None:
    app = build()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        finish = threading.Event()  # a step that runs until the test lets it finish
        app.run_worker(lambda: finish.wait(30), thread=True, group="run")
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert "Something is running. Quit anyway?" in screen_text(app)
        assert "y yes  enter / n / esc no (the default)" in screen_text(app)
        await pilot.press("y")  # at once (a held key): ignored
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await asyncio.sleep(0.35)
        await pilot.press("enter")  # the default: no
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen)
        assert app.return_code is None

        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        finish.set()
        await asyncio.sleep(0.35)
        await pilot.press("y")
        await pilot.pause()
        assert app.return_code == 0
    assert new_events(app) == []


# ---------------------------------------------------------------------------- language


@pytest.mark.parametrize(
    ("lang", "footer", "titles", "phase_line"),
    [
        (
            "ja",
            ["? ヘルプ", "enter 開く", "d デプロイ", "m 監視", "n メモ", "l 監査ログ", "q 終了"],
            ["リリース内容確定", "テスト完了", "リリース承認", "最終確認", "リリース実施"],
            "T-14 リリース内容確定  3/4",
        ),
        (
            "en",
            ["? help", "enter open", "d deploy", "m metrics", "n note", "l audit log", "q quit"],
            ["Release content", "Testing complete", "Release approval", "Final check", "Release"],
            "T-14 Release content fixed  3/4",
        ),
    ],
)
async def test_language(build, lang, footer, titles, phase_line) -> None:
    app = build(lang)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        lines = screen_text(app).splitlines()
        for hint in footer:
            assert hint in lines[-1]
        rows = plain(app.screen.query_one("#timeline", Timeline)).splitlines()
        for line, title in zip(rows, titles, strict=True):
            # At 80 columns a title has 14 cells: long ones are cut, never wrapped.
            assert title[:6] in line, (title, line)
            assert title[:6] in lines[rows.index(line) + 2]
        other = "help" if lang == "ja" else "ヘルプ"
        assert other not in lines[-1]
        await pilot.press("enter")
        await settle(pilot)
        assert phase_line in screen_text(app)
