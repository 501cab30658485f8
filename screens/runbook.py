"""The T-0 runbook: the steps with their state, the selected step's preview, the live log.

Looking (a preview) reads the world in a worker and changes nothing. A step runs only after a
confirmation naming it and showing what it will do; ``c`` cancels it; ``R`` asks once, showing
every undo, and rolls the done steps back. An interrupted step (the cockpit was killed while it
ran) offers resume (re-check first), redo, or skip with a reason.

This module maps the keys to actions and draws; the workers (preview, step, rollback) are in
:mod:`screens.runbook_work`, the text of the step list and the preview pane in
:mod:`screens.runbook_view`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Log, OptionList, Static
from textual.widgets.option_list import Option

from cockpit.checklist import Status, load_checklist
from cockpit.plan import Item, ManualItem, Phase, StepItem, TagRun
from screens.filtering import FilteringScreen, item_text
from screens.health import HealthWatch, metrics_line
from screens.keys import bindings
from screens.runbook_view import phase_title, preview_text, step_kind, step_row
from screens.runbook_work import RunbookWork
from widgets.keybar import KeyBar
from widgets.statusline import StatusLine

if TYPE_CHECKING:
    from cockpit.checklist import Checklist
    from cockpit.rehearsal import NoReturn
    from cockpit.session import Session


def _no_return(session: Session, checklist: Checklist) -> NoReturn | None:
    """The release's point of no return (read with the checklist); ``None`` without a window."""
    from cockpit.rehearsal import no_return

    try:
        return no_return(session.store, session.loaded, checklist, session.now())
    except ValueError:
        return None


class RunbookScreen(FilteringScreen, RunbookWork):
    CSS_PATH = "runbook.tcss"
    BINDINGS: ClassVar[list[BindingType]] = bindings("runbook")
    KEYS = "runbook"

    def __init__(self, release_id: str, item_id: str | None = None) -> None:
        super().__init__(release_id)
        self.start_item = item_id
        self.checklist: Checklist | None = None
        self.phase: Phase | None = None
        self.kinds: dict[str, str] = {}
        self.no_return: NoReturn | None = None
        self.health = HealthWatch()  # the metrics line's sampler (the release's environment)
        self.unsettled: list[int] = []  # fired rollback triggers nobody settled (their seqs)
        self.shown: list[Item] = []  # the steps the filter keeps (screens.filtering)

    def compose(self) -> ComposeResult:
        yield StatusLine(id="header", classes="header")
        yield StatusLine(id="title")
        with Horizontal(id="body"):
            yield OptionList(id="steps")
            with Vertical(id="side"):
                yield Static(id="preview")
                yield Log(id="log", max_lines=10_000, auto_scroll=True)
        yield StatusLine(id="metrics")
        yield StatusLine(id="message")
        yield self.filter_bar()
        yield KeyBar(id="keys")

    def on_mount(self) -> None:
        self.query_one("#log", Log).display = False
        self.set_interval(1.0, self._show_metrics)  # the ages move on; the values arrive

    def on_resize(self) -> None:
        # From 120 columns the preview and the log are side by side, both in sight.
        self.set_class(self.size.width >= 120, "-wide")
        self._draw_side()

    @property
    def wide(self) -> bool:
        return self.has_class("-wide")

    def on_screen_resume(self) -> None:
        self.health.resume()

    def on_unmount(self) -> None:
        self.health.stop()

    # ------------------------------------------------------------------ state

    def load(self) -> tuple[Checklist, list[int], NoReturn | None, bool]:
        """The checklist, the triggers nobody settled, the point of no return (it reads the
        rehearsals), whether a rollback runs (here or elsewhere); the metrics line's sampler
        started."""
        from cockpit.metrics import unsettled_triggers
        from cockpit.steprun import running_rollback

        session = self.session
        checklist = load_checklist(session.store, self.release_id)
        unsettled = [e.seq for e in unsettled_triggers(session.store, self.release_id)]
        release = checklist.release
        self.health.watch(session.loaded, release.environment, session.store, release.id)
        rolling = running_rollback(session, release.id) is not None
        return checklist, unsettled, _no_return(session, checklist), rolling

    def show(self, data: tuple[Checklist, list[int], NoReturn | None, bool]) -> None:
        session = self.session
        self.checklist, self.unsettled, self.no_return, rolling = data
        if rolling and self.running is None:
            self.running = "rollback"  # at once: the next reload must not follow it twice
            self.follow_rollback()
        phases = [p for p in self.checklist.plan.plan.phases if p.offset_days == 0]
        self.phase = phases[0] if phases else self.checklist.plan.plan.phases[-1]
        release = self.checklist.release
        for item in self.phase.items:
            if isinstance(item, StepItem) and item.id not in self.kinds:
                self.kinds[item.id] = step_kind(session.loaded, release, item)
        if self.running is None:
            elsewhere = [
                item.id
                for item in self.phase.items
                if self.checklist.state(item.id).status is Status.RUNNING
            ]
            if elsewhere:
                self.running = elsewhere[0]  # at once: the next reload must not start another
                self.follow_running(elsewhere[0])
        self._draw()

    def on_screen_suspend(self) -> None:
        self.leave_event.set()  # stop following a step started elsewhere; it goes on
        self.health.pause()  # the screen on top samples for itself

    def selected(self) -> Item | None:
        if self.phase is None:
            return None
        index = self.query_one("#steps", OptionList).highlighted
        if index is None or index >= len(self.shown):
            return None
        return self.shown[index]

    # ------------------------------------------------------------------ drawing

    def _draw(self) -> None:
        session, checklist, phase = self.session, self.checklist, self.phase
        if checklist is None or phase is None:
            return
        self.query_one("#header", StatusLine).set_text(self.header_text(checklist))
        first, _second = self.titles(phase)
        done, total = checklist.progress(phase)
        self.query_one("#title", StatusLine).set_text(
            phase_title(
                session, phase, first, done, total, self.no_return, checklist.plan.plan.name
            )
        )
        options = self.query_one("#steps", OptionList)
        keep = options.highlighted
        rows = []
        numbered = list(enumerate(phase.items, start=1))
        kept = self.kept(numbered, lambda row: self._row_text(row[1]))
        self.shown = [item for _, item in kept]
        self.show_count(len(kept), len(numbered))
        for number, item in kept:
            status = checklist.state(item.id).status
            if item.id == self.running:
                status = Status.RUNNING
            name, _ = self.titles(item)
            rows.append(Option(step_row(number, name, status), id=item.id))
        options.clear_options()
        options.add_options(rows)
        if keep is None:
            keep = self._start_index()
        options.highlighted = min(keep, len(rows) - 1) if rows else None
        self._draw_side()
        self.refresh_keys()

    def _start_index(self) -> int:
        assert self.phase is not None and self.checklist is not None
        ids = [item.id for item in self.shown]
        if self.start_item in ids:
            return ids.index(self.start_item)
        for index, item_id in enumerate(ids):
            if self.checklist.state(item_id).status not in {Status.DONE, Status.SKIPPED}:
                return index
        return 0

    def _draw_side(self) -> None:
        preview, log = self.query_one("#preview", Static), self.query_one("#log", Log)
        showing_log = self.mode == "log"
        if self.wide:
            preview.display = log.display = True
            item = self.selected()
            if self.running is None and item is not None and item.id != self._log_item:
                self._show_recorded(item.id)  # the selected step's last run, beside it
        else:
            preview.display, log.display = not showing_log, showing_log
        if preview.display:
            preview.update(self._preview_text())
        message = Text(" " + self.message) if self.message else Text("")
        self.query_one("#message", StatusLine).set_text(message)
        self._show_metrics()

    def _show_recorded(self, item_id: str) -> None:
        """The log shows ``item_id``'s last recorded run (read in a worker)."""
        self._log_item = item_id
        self.query_one("#log", Log).clear()
        self.show_last_run(item_id)

    def _show_metrics(self) -> None:
        """The metrics line: an unsettled trigger first, then the panels with their baselines
        and how fresh they are (from what the sampler holds in memory)."""
        if self.is_attached and self.checklist is not None:
            states = self.health.states()
            line = metrics_line(
                self.session.t, self.unsettled, states, self.size.width, self.session.lang
            )
            self.query_one("#metrics", StatusLine).set_text(line)

    def _preview_text(self) -> Text:
        item = self.selected()
        if item is None or self.checklist is None:
            return Text()
        shown = self.previews.get(item.id)
        text = preview_text(
            self.session,
            item,
            self.checklist.state(item.id),
            self.titles(item),
            self.kinds.get(item.id, ""),
            self._why_not(item, "done"),
            shown,
        )
        if isinstance(item, StepItem) and shown is None and item.id not in self.looking:
            self.looking.add(item.id)
            self.look(item.id)  # the preview is read in a worker; the pane says "looking"
        return text

    def _why_not(self, item: Item, action: str) -> str:
        if self.checklist is None:
            return ""
        session = self.session
        why = self.checklist.why_not(
            item.id, action, session.operator, session.loaded.config.roles, "x"
        )
        return why.text(session.lang) if why else ""

    def refusal(self, action: str, parameters: tuple[object, ...]) -> str | None:
        if action == "cancel":
            return None if self.running is not None else ""
        if action not in {"run", "step", "skip", "rollback"}:
            return None
        if self.running is not None:  # one thing at a time
            return self.session.t("run.running", item=self.running)
        if action == "rollback":
            return None if self._anything_to_undo() else self.session.t("run.nothing_to_undo")
        item = self.selected()
        if item is None:
            return ""
        if action == "skip":
            return None
        why = self._why_not(item, "done" if action == "run" else str(parameters[0]))
        return why or None

    def _anything_to_undo(self) -> bool:
        """A step ran (done, or failed perhaps half-way) and was not undone: the rollback plan
        (read in a worker when R is pressed) says which. A tag stays: it is not undone."""
        if self.checklist is None:
            return False
        checklist = self.checklist
        return any(
            isinstance(item, StepItem)
            and not isinstance(item.run, TagRun)
            and checklist.state(item.id).status in {Status.DONE, Status.FAILED}
            for phase in checklist.plan.plan.phases
            for item in phase.items
        )

    def on_option_list_option_highlighted(self, _event: OptionList.OptionHighlighted) -> None:
        self._draw_side()
        self.refresh_keys()

    def _row_text(self, item: Item) -> str:
        assert self.checklist is not None  # the filter looks in what the step runs too
        return item_text(self.session, self.checklist, item, self.kinds.get(item.id, ""))

    def filter_changed(self) -> None:
        self.query_one("#steps", OptionList).highlighted = None
        self._draw()

    def filter_target(self) -> OptionList:
        return self.query_one("#steps", OptionList)

    def on_option_list_option_selected(self, _event: OptionList.OptionSelected) -> None:
        self.action_run()  # enter on the list

    # ------------------------------------------------------------------ actions

    def action_down(self) -> None:
        self._move(1)

    def action_up(self) -> None:
        self._move(-1)

    def _move(self, step: int) -> None:
        if self.running is None:
            self.mode = "preview"  # the log of the last run stays until the cursor moves
        options = self.query_one("#steps", OptionList)
        if step > 0:
            options.action_cursor_down()
        else:
            options.action_cursor_up()
        self._draw_side()

    def action_metrics(self) -> None:
        self.cockpit.open_screen("metrics", self.release_id)

    def action_preview(self) -> None:
        item = self.selected()
        if item is not None:
            self.previews.pop(item.id, None)
        self.mode = "preview"
        self._draw_side()

    def action_show_log(self) -> None:
        self.mode = "log"
        self._draw_side()
        item = self.selected()
        if item is not None and self.running is None and item.id != self._log_item:
            self._show_recorded(item.id)  # opened after the run: what it recorded

    def action_cancel(self) -> None:
        if self.running is not None:
            self.cancel_event.set()
            self.message = self.session.t("run.cancelling", item=self.running)
            self._draw_side()

    def action_run(self) -> None:
        item = self.selected()
        if item is None or self.running is not None:
            return
        why = self._why_not(item, "done")
        if why:
            self.notify(self.session.t("msg.refused", why=why), severity="warning")
            return
        first, _ = self.titles(item)
        shown = self.previews.get(item.id)
        lines = [first]
        if isinstance(item, StepItem):
            if not hasattr(shown, "summary"):
                self.notify(self.session.t("run.no_preview_yet"), severity="warning")
                return
            lines += [shown.summary, *("$ " + c for c in shown.calls[:4])]  # type: ignore[union-attr]
        elif not isinstance(item, ManualItem) or item.requires_reason:
            self.notify(self.session.t("run.use_checklist"), severity="warning")
            return
        title = "run.confirm" if isinstance(item, StepItem) else "dlg.title.done"
        self._confirm(self.session.t(title, item=first), "\n".join(lines[1:]), item.id, "done")

    def action_step(self, action: str) -> None:
        item = self.selected()
        if item is None or self.running is not None:
            return
        why = self._why_not(item, action)
        if why:
            self.notify(self.session.t("msg.refused", why=why), severity="warning")
            return
        first, _ = self.titles(item)
        self._confirm(self.session.t(f"run.confirm_{action}", item=first), "", item.id, action)

    @work(thread=True, group="ask", exit_on_error=False)
    def _confirm(self, title: str, preview: str, item_id: str, action: str) -> None:
        """Ask before running, warning first of every rollback trigger nobody settled."""
        from cockpit.metrics import unsettled_triggers

        t = self.session.t
        warnings = [
            t("run.trigger_unsettled", seq=e.seq, rule=e.details_obj.get("rule", e.subject))
            for e in unsettled_triggers(self.session.store, self.release_id)
        ]
        shown = "\n".join([*warnings, preview] if preview else warnings)
        self.app.call_from_thread(self._ask, title, shown, item_id, action)

    def _ask(self, title: str, preview: str, item_id: str, action: str) -> None:
        from screens.decision import DecisionScreen, production_name

        def chosen(reason: str | None) -> None:
            if reason is not None:
                self.run_step(item_id, action, reason or None)

        assert self.checklist is not None
        step = isinstance(self.checklist.plan.plan.item(item_id), StepItem)
        # A done step runs again only with a reason (after a rollback, or to check again).
        again = action == "redo" and self.checklist.state(item_id).status is Status.DONE
        dialog = DecisionScreen(
            title,
            again,
            preview,
            hint="dlg.confirm_run" if step else "dlg.confirm",
            irreversible=step,
            type_name=production_name(self.session, self.checklist.release) if step else None,
        )
        self.app.push_screen(dialog, chosen)

    def action_skip(self) -> None:
        item = self.selected()
        if item is None or self.running is not None:
            return
        from screens.decision import DecisionScreen

        first, _ = self.titles(item)

        def chosen(reason: str | None) -> None:
            if reason:
                self.run_step(item.id, "skip", reason)

        self.app.push_screen(
            DecisionScreen(self.session.t("dlg.title.skip", item=first), True), chosen
        )

    def action_rollback(self) -> None:
        if self.running is not None:
            return
        self.plan_rollback()  # in a worker; asks once, showing every undo, then runs it
