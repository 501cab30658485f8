"""``/`` filters the checklist and the runbook as it does the audit log (one shared part,
screens/filtering.py and widgets/filterbar.py); the audit viewer shows the selected event in
full at every size; the command palette offers every binding and every navigation of each
screen, from the key table."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from textual.actions import parse
from textual.widgets import Input, OptionList, Static

from cockpit.i18n import CATALOG
from screens.app import CockpitApp
from screens.audit import AuditScreen
from screens.checklist import ChecklistScreen
from screens.dashboard import DashboardScreen
from screens.keys import NAVIGATION, SCREENS, TABLE
from screens.runbook import RunbookScreen
from tests import test_app
from tests.appfixture import record, screen_text, settle
from widgets.auditview import AuditView
from widgets.filterbar import FilterBar

build = test_app.build  # the app of the Pilot tests (make_app), its store closed after


def rows(app: CockpitApp, list_id: str) -> list[str]:
    options = app.screen.query_one(list_id, OptionList)
    return [str(options.get_option_at_index(i).id) for i in range(options.option_count)]


def count(app: CockpitApp) -> str:
    return str(app.screen.query_one("#filter-count", Static).content)


# ------------------------------------------------------------------------------- filters


async def test_the_checklist_filters_by_id_title_and_state(build) -> None:
    app = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter")  # T-14: three settled, one open
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ChecklistScreen)
        assert len(rows(app, "#items")) == 4
        head = app.session.store.head()[0]

        await pilot.press("slash", *"pending")  # the state, as stored
        await settle(pilot)
        assert rows(app, "#items") == ["t14.config_changes"]
        assert count(app) == "1/4" and "1/4" in screen_text(app)
        await pilot.press("space", "enter")  # typed into the box: nothing is ticked
        await settle(pilot)
        assert app.session.store.head()[0] == head
        assert app.focused is screen.query_one("#items", OptionList)  # enter: back to the list
        assert screen.selected() is not None and screen.selected().id == "t14.config_changes"
        assert "enter do" in screen_text(app).splitlines()[-1]  # the keys are back

        await pilot.press("slash")
        box = screen.query_one("#filter", Input)
        box.value = ""
        await pilot.press(*"依存")  # a Japanese title
        await settle(pilot)
        assert rows(app, "#items") == ["t14.dependencies"]
        await pilot.press("escape")  # clears the filter, stays on the screen
        await settle(pilot)
        assert len(rows(app, "#items")) == 4
        assert not screen.query_one(FilterBar).is_open and app.screen is screen
        await pilot.press("slash", *"t14.req", "enter")  # by id
        await settle(pilot)
        assert rows(app, "#items") == ["t14.requirements"]
        await pilot.press("escape")
        await settle(pilot)
        assert len(rows(app, "#items")) == 4
        await pilot.press("escape")  # a second esc leaves
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        assert app.session.store.head()[0] == head


async def test_the_runbook_filters_its_steps(build) -> None:
    app = build(t0_ready=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RunbookScreen)
        every = rows(app, "#steps")
        assert len(every) == 13
        head = app.session.store.head()[0]
        await pilot.press("slash", *"maintenance", "enter")
        await settle(pilot)
        assert rows(app, "#steps") == ["t0.maintenance", "t0.maintenance_off"]
        assert count(app) == "2/13"
        selected = screen.selected()
        assert selected is not None and selected.id == "t0.maintenance"
        await pilot.press("j")  # moves within what the filter keeps
        await settle(pilot)
        selected = screen.selected()
        assert selected is not None and selected.id == "t0.maintenance_off"
        await pilot.press("escape")
        await settle(pilot)
        assert rows(app, "#steps") == every and app.screen is screen
        assert app.session.store.head()[0] == head  # enter in the box ran nothing


# ---------------------------------------------------------------------- audit detail pane

LONG = "the database team asked for a second look at the migration plan " * 3


async def test_the_audit_detail_at_80_columns_opens_on_enter(build) -> None:
    app = build()
    record(app, "t14.config_changes", "skip", reason=LONG.strip())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("l")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, AuditScreen)
        pane = screen.query_one("#detail")
        assert not pane.display  # no room beside or below the list
        assert LONG.strip() not in screen_text(app).replace("\n", "")  # the line is cut
        await pilot.press("enter")
        await settle(pilot)
        assert pane.display and not screen.query_one("#log", AuditView).display
        shown = str(screen.query_one("#detail-text", Static).content)
        assert f"reason: {LONG.strip()}" in shown
        assert "subject: t14.config_changes" in shown
        assert "signature: none: the actor is claimed" in shown
        assert "login: alice  (claimed, given)" in shown
        assert '"plan": "release"' not in shown and "plan: release" in shown
        await pilot.press("k")  # the cursor moves on beneath: the pane follows it
        await settle(pilot)
        shown = str(screen.query_one("#detail-text", Static).content)
        assert "#4 item.skipped" in shown and "no migrations in 1.4.0" in shown
        await pilot.press("escape")  # back to the list, still on the audit log
        await settle(pilot)
        assert app.screen is screen and screen.query_one("#log", AuditView).display
        assert not pane.display
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)


@pytest.mark.parametrize(("size", "beside"), [((120, 40), False), ((160, 48), True)])
async def test_the_audit_detail_stays_open_when_wide(build, size, beside: bool) -> None:
    app = build()
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press("l")
        await settle(pilot)
        screen = app.screen
        pane, log = screen.query_one("#detail"), screen.query_one("#log", AuditView)
        assert pane.display
        assert (pane.region.x > log.region.x) is beside and (pane.region.y > log.region.y) is (
            not beside
        )
        shown = lambda: str(screen.query_one("#detail-text", Static).content)  # noqa: E731
        assert "#4 item.skipped" in shown()  # the newest: the view follows the tail
        await pilot.press("g")
        await settle(pilot)
        assert "#1 release.created" in shown()
        await pilot.press("enter")  # the pane takes the keys; j/k still move the cursor
        await settle(pilot)
        assert app.focused is pane and pane.display
        await pilot.press("j")
        await settle(pilot)
        assert "#2 item.done" in shown()
        await pilot.press("escape")  # back to the list, still here
        await settle(pilot)
        assert app.focused is log and app.screen is screen
        await pilot.press("slash", *"item.done", "enter")
        await settle(pilot)
        assert log.line_count == 2 and "#2 item.done" in shown()


async def test_the_audit_detail_names_a_verified_signer_and_the_database_stamp(build) -> None:
    """The pane's signature and database lines, from what the engine reads (cockpit.eventdetail):
    a signed event of a listed key is verified, with its principal and key fingerprint."""
    from cockpit.eventdetail import EventDetail, event_detail
    from cockpit.identity import UNKNOWN_SIGNER, VERIFIED
    from screens.audit_view import detail_text

    app = build()
    session = app.session
    found = event_detail(session.store, 2)
    assert found is not None and found.signature == "" and found.principal is None
    assert event_detail(session.store, 99) is None
    signed = EventDetail(
        found.event, VERIFIED, "SHA256:abc", "cockpit_alice", found.event.recorded_at
    )
    text = detail_text(session, signed).plain
    assert "signature: verified: alice (key SHA256:abc)" in text
    assert "database: cockpit_alice at 2026-11-20 10:00:01 JST" in text
    stranger = EventDetail(found.event, UNKNOWN_SIGNER, "SHA256:zzz")
    assert "not list: claimed (key SHA256:zzz)" in detail_text(session, stranger).plain
    # The key and principal the process claimed when it wrote the event are shown proven when
    # the signature verifies as them, and stay claims otherwise.
    claims = {
        "login": {"value": "alice", "verified": True, "source": "uid"},
        "key": {"value": "SHA256:abc", "verified": False, "source": "ssh-agent"},
        "principal": {"value": "alice", "verified": False, "source": "allowed signers"},
    }
    event = replace(found.event, actor_evidence=json.dumps(claims))
    proven = detail_text(session, replace(signed, event=event)).plain
    assert "key: SHA256:abc  (verified, this event's signature)" in proven
    assert "principal: alice  (verified, this event's signature)" in proven
    assert "login: alice  (verified, uid)" in proven
    unproven = detail_text(session, replace(stranger, event=event)).plain
    assert "key: SHA256:abc  (claimed, ssh-agent)" in unproven
    assert "principal: alice  (claimed, allowed signers)" in unproven


# ------------------------------------------------------------------------------- palette

# The keys for each screen from the dashboard, and the bindings that do not apply there.
OPEN = {
    "dashboard": (),
    "checklist": ("enter",),
    "runbook": ("d",),
    "audit": ("l",),
    "tagging": ("t",),
    "metrics": ("m",),
}
NOT_HERE = {"app.takeover"}  # only while another operator drives


@pytest.mark.parametrize("name", SCREENS)
async def test_the_palette_offers_every_binding_and_navigation_of_the_screen(
    build, name: str
) -> None:
    app = build()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        for key in OPEN[name]:
            await pilot.press(key)
            await settle(pilot)
        screen = app.screen
        assert getattr(screen, "KEYS", "") == name
        labels = [label for label, _key, _call in app.palette_commands()]
        lang_label = {key.id: CATALOG[key.label]["en"] for scope in TABLE.values() for key in scope}
        missing = []
        for key in (*TABLE[name], *TABLE["screen"], *TABLE["app"]):
            if key.id == "app.commands" or key.id in NOT_HERE:
                continue
            action = parse(key.action)[1]
            if action in getattr(screen, "HIDDEN", frozenset()):
                continue  # the audit log's "audit log": already here
            if lang_label[key.id] not in labels:
                missing.append(key.id)
        assert missing == []
        # Every navigation, by a key of the screen or by the palette's own entry.
        opened = {key.opens for key in (*TABLE[name], *TABLE["screen"]) if key.opens}
        for target in NAVIGATION:
            if target == name or (name == "audit" and target == "audit"):
                continue
            assert target in opened or CATALOG["nav." + target]["en"] in labels, target
        assert len(labels) == len(set(labels)) or name == "tagging"  # bump keys share a label
