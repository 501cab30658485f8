"""Phase checklist: the items of one phase, their state, and the decisions on them.

This module maps the keys to actions and decisions; the text of the phase line, the rows and the
detail pane is built in :mod:`screens.checklist_view`.
"""

from __future__ import annotations

from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from cockpit.actions import decide
from cockpit.checklist import Checklist, Status, Why, load_checklist
from cockpit.errors import CockpitError
from cockpit.plan import GateItem, Item, ManualItem, NotifyItem, StepItem, StepRun, TagRun
from screens.checklist_view import (
    approve_hint,
    describe_run,
    detail_text,
    item_row,
    not_now_lines,
    phase_line,
    state_note,
)
from screens.filtering import FilteringScreen, item_text
from screens.keys import bindings
from widgets.keybar import KeyBar
from widgets.statusline import StatusLine


class ChecklistScreen(FilteringScreen):
    CSS_PATH = "checklist.tcss"
    BINDINGS: ClassVar[list[BindingType]] = bindings("checklist")
    KEYS = "checklist"

    def __init__(self, release_id: str, phase_id: str | None = None) -> None:
        """``phase_id``: the phase shown first; ``None``, that of the next open item."""
        super().__init__()
        self.release_id = release_id
        self.phase_id = phase_id or ""
        self.shown: list[Item] = []  # the phase's items the filter keeps, as listed
        self.checklist: Checklist | None = None
        self._decided: str | None = None  # the item just decided here: move on from it
        self.live: list[str] = []
        self.message = ""

    def compose(self) -> ComposeResult:
        yield StatusLine(id="header", classes="header")
        yield StatusLine(id="phase")
        yield OptionList(id="items")
        yield Static(id="rule")
        yield Static(id="detail")
        yield self.filter_bar()
        yield KeyBar(id="keys")

    def on_mount(self) -> None:
        self.query_one("#items", OptionList).focus()

    # ------------------------------------------------------------------ drawing

    @property
    def phase(self):  # type: ignore[no-untyped-def]
        assert self.checklist is not None
        return self.checklist.plan.plan.phase(self.phase_id)

    def load(self) -> Checklist:
        return load_checklist(self.session.store, self.release_id)

    def show(self, data: Checklist) -> None:
        before = self.selected() if self.checklist is not None else None
        was_open = before is not None and not self._settled(before.id)
        self.checklist = data
        if not self.phase_id:
            upcoming = data.next_item()
            self.phase_id = upcoming[0].id if upcoming else data.plan.plan.phases[-1].id
        self._draw()
        decided, self._decided = self._decided, None
        if decided is not None:
            self._move_on(decided)  # after a decision made here
        elif before is not None and was_open and self._settled(before.id):
            # Settled meanwhile (an approval from another terminal, a step finishing): move on,
            # as after a decision made here.
            self._move_on(before.id)

    def _settled(self, item_id: str) -> bool:
        assert self.checklist is not None
        return self.checklist.state(item_id).status in {
            Status.DONE,
            Status.SKIPPED,
            Status.APPROVED,
        }

    def _draw(self) -> None:
        session, checklist = self.session, self.checklist
        assert checklist is not None
        header = self.query_one("#header", StatusLine)
        header.set_text(self.header_text(checklist))
        header.set_class(checklist.release.rehearsal, "rehearsal")
        phase = self.phase
        line = phase_line(session, checklist, phase, self.titles(phase))
        self.query_one("#phase", StatusLine).set_text(line)

        width = self.size.width or 80
        title_cells = max(14, min(30, (width - 30) // 2))
        options = self.query_one("#items", OptionList)
        highlighted = options.highlighted
        prompts: list[Option] = []
        self.shown = self.kept(phase.items, self._row_text)
        self.show_count(len(self.shown), len(phase.items))
        for item in self.shown:
            status = checklist.state(item.id).status
            note = state_note(session, checklist, item, status)
            text = item_row(status, self.titles(item), title_cells, note)
            prompts.append(Option(text, id=item.id))
        options.clear_options()
        options.add_options(prompts)  # one update for the whole list, not one per item
        if not prompts:
            options.highlighted = None
        elif highlighted is not None:
            options.highlighted = min(highlighted, len(prompts) - 1)
        else:
            options.highlighted = self._first_open()
        self.query_one("#rule", Static).update("-" * max(width - 1, 10))
        self._draw_detail()

    def _row_text(self, item: Item) -> str:
        assert self.checklist is not None
        return item_text(self.session, self.checklist, item)

    def filter_changed(self) -> None:
        if self.checklist is not None:
            self.query_one("#items", OptionList).highlighted = None
            self._draw()

    def filter_target(self) -> OptionList:
        return self.query_one("#items", OptionList)

    def _first_open(self) -> int:
        for index, item in enumerate(self.shown):
            if not self._settled(item.id):
                return index
        return 0

    def selected(self) -> Item | None:
        if self.checklist is None:
            return None  # not loaded yet
        options = self.query_one("#items", OptionList)
        items = self.shown
        if options.highlighted is None or options.highlighted >= len(items):
            return None
        return items[options.highlighted]

    def _why_not(self, item: Item, action: str) -> str | None:
        why = self._why(item, action)
        return None if why is None else why.text(self.session.lang)

    def _why(self, item: Item, action: str) -> Why | None:
        assert self.checklist is not None
        placeholder = "x" if action in {"skip", "reject", "reopen"} else None
        if action == "done" and item.requires_reason:
            placeholder = "x"
        return self.checklist.why_not(
            item.id, action, self.session.operator, self.session.loaded.config.roles, placeholder
        )

    def _draw_detail(self) -> None:
        session, checklist = self.session, self.checklist
        item = self.selected()
        detail = self.query_one("#detail", Static)
        if item is None or checklist is None:
            detail.update("")
            return
        state = checklist.state(item.id)
        blocked = not_now_lines(session, item, state, self._why_not, self.bound_keys())
        text = detail_text(
            session,
            checklist,
            item,
            self.titles(item),
            self._run_of(item),
            blocked,
            self.live,
            self.message,
            approve_hint(session, checklist, item, self._why(item, "approve")),
        )
        detail.update(text)
        self.refresh_keys()

    def on_option_list_option_highlighted(self, _event: OptionList.OptionHighlighted) -> None:
        self._draw_detail()

    def on_option_list_option_selected(self, _event: OptionList.OptionSelected) -> None:
        self.action_do()

    # ------------------------------------------------------------------ actions

    def refusal(self, action: str, parameters: tuple[object, ...]) -> str | None:
        if action not in {"do", "decide"}:
            return None
        checklist = self.checklist
        item = self.selected() if checklist is not None else None
        if checklist is None or item is None:
            return ""
        if action == "decide":
            return self._why_not(item, str(parameters[0]))
        # What enter does (action_do): a gate approves, the tag step opens the tagging
        # screen, an interrupted step opens the runbook (resume or redo there).
        if isinstance(item, GateItem):
            return self._why_not(item, "approve")
        if isinstance(item, StepItem) and (
            isinstance(item.run, TagRun) or checklist.state(item.id).status is Status.INTERRUPTED
        ):
            return None
        return self._why_not(item, "done")

    def action_down(self) -> None:
        self.query_one("#items", OptionList).action_cursor_down()

    def action_up(self) -> None:
        self.query_one("#items", OptionList).action_cursor_up()

    def action_phase(self, step: int) -> None:
        if self.checklist is None:
            return
        ids = [p.id for p in self.checklist.plan.plan.phases]
        index = min(max(ids.index(self.phase_id) + step, 0), len(ids) - 1)
        self.phase_id = ids[index]
        self.query_one("#items", OptionList).highlighted = None
        self._draw()  # the checklist has every phase: nothing to read again
        self.query_one("#items", OptionList).highlighted = self._first_open()

    def action_do(self) -> None:
        item = self.selected()
        if item is None:
            return
        if isinstance(item, GateItem):
            self.action_decide("approve")
            return
        if isinstance(item, StepItem) and isinstance(item.run, TagRun):
            self.cockpit.open_screen("tagging", self.release_id, item.id)
            return
        if isinstance(item, StepItem):
            interrupted = self.checklist is not None and (
                self.checklist.state(item.id).status is Status.INTERRUPTED
            )
            if not interrupted and self._refused(item, "done"):
                return

            self.cockpit.open_screen("runbook", self.release_id, item.id)
            return
        if isinstance(item, ManualItem) and not item.requires_reason:
            if self._refused(item, "done"):
                return
            self.run_decision(item.id, "done", None)
            return
        if isinstance(item, NotifyItem):
            if not self._refused(item, "done"):
                self.draft_notice(item.id)  # drafted in a worker (git, the log), then edited
            return
        self.action_decide("done")

    @work(thread=True, exclusive=True, group="decide", exit_on_error=False)
    def draft_notice(self, item_id: str) -> None:
        from cockpit.notify.drafts import draft

        session = self.session
        try:
            checklist = load_checklist(session.store, self.release_id)
            item = checklist.plan.plan.item(item_id)
            assert isinstance(item, NotifyItem)
            text = draft(session, checklist, item)
        except CockpitError as exc:
            self.app.call_from_thread(
                self.notify, session.t("msg.refused", why=exc), severity="warning"
            )
            return
        self.app.call_from_thread(self._edit_notice, item, text)

    def _edit_notice(self, item: NotifyItem, text: str) -> None:
        from screens.decision import NoticeScreen

        first, _ = self.titles(item)

        def chosen(message: str | None) -> None:
            if message is not None:
                self.run_decision(item.id, "done", None, message)

        self.app.push_screen(
            NoticeScreen(self.session.t("dlg.title.notice", item=first), text), chosen
        )

    def _run_of(self, item: Item) -> StepRun | None:
        if not isinstance(item, StepItem) or self.checklist is None:
            return None
        from cockpit.deploy import effective_run

        return effective_run(self.session.loaded, self.checklist.release, item)[0]

    def _refused(self, item: Item, action: str) -> bool:
        why = self._why_not(item, action)
        if why:
            self.notify(self.session.t("msg.refused", why=why), severity="warning")
            return True
        return False

    def action_decide(self, action: str) -> None:
        item = self.selected()
        if item is None or self._refused(item, action):
            return
        from screens.decision import DecisionScreen

        first, _ = self.titles(item)
        required = action in {"skip", "reject", "reopen"} or (
            action == "done" and item.requires_reason
        )
        preview = describe_run(item, self._run_of(item)) if action == "done" else ""

        def chosen(reason: str | None) -> None:
            if reason is not None:
                self.run_decision(item.id, action, reason or None)

        self.app.push_screen(
            DecisionScreen(self.session.t(f"dlg.title.{action}", item=first), required, preview),
            chosen,
        )

    @work(thread=True, exclusive=True, group="decide", exit_on_error=False)
    def run_decision(
        self, item_id: str, action: str, reason: str | None, message: str | None = None
    ) -> None:
        session = self.session
        self.live = []

        app = self.app  # a step's own threads have no active-app context: capture it here

        def output(line: str) -> None:
            self.live.append(line)
            app.call_from_thread(self._draw_detail)

        try:
            event = decide(
                session,
                self.release_id,
                item_id,
                action,
                reason=reason,
                output=output,
                message=message,
            )
            # Said in the detail pane, not a toast: toasts pile up over the list when an
            # operator ticks items quickly.
            self.message = session.t("msg.recorded", seq=event.seq, action=event.action)
        except CockpitError as exc:
            self.app.call_from_thread(
                self.notify, session.t("msg.failed", why=exc.text(session.lang)), severity="error"
            )
        finally:
            self.app.call_from_thread(self._after_decision, item_id)

    def _after_decision(self, item_id: str) -> None:
        self._decided = item_id  # the reload moves on from it once the new state is shown
        self.reload()

    def _move_on(self, item_id: str) -> None:
        """Highlight the next open item from ``item_id`` on, as a person ticking a paper
        checklist would."""
        options = self.query_one("#items", OptionList)
        ids = [item.id for item in self.shown]
        current = ids.index(item_id) if item_id in ids else 0
        for index in range(current, len(ids)):
            if not self._settled(ids[index]):
                options.highlighted = index
                break
        self._draw_detail()

    def action_note(self) -> None:
        from screens.decision import note_dialog

        note_dialog(self, self.checklist.release if self.checklist else None)
