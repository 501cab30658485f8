"""The T-0 runbook: the steps with their state, the selected step's preview, the live log.

Looking (a preview) reads the world in a worker and changes nothing. A step runs only after a
confirmation naming it and showing what it will do; ``c`` cancels it; ``R`` asks once, showing
every undo, and rolls the done steps back. An interrupted step (the cockpit was killed while it
ran) offers resume (re-check first), redo, or skip with a reason.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Log, OptionList, Static
from textual.widgets.option_list import Option

from cockpit.actions import decide
from cockpit.checklist import MARKERS, Status, load_checklist
from cockpit.errors import CockpitError
from cockpit.plan import Item, ManualItem, Phase, StepItem, TagRun
from screens.common import CockpitScreen, local, rollback_message, window_text
from screens.keys import bindings
from widgets.keybar import KeyBar
from widgets.statusline import StatusLine

if TYPE_CHECKING:
    from cockpit.checklist import Checklist
    from cockpit.steps.base import Preview


def run_label(item: Item, kind: str) -> str:
    """The short column after the title: ``rds_snapshot``, ``kubernetes set_image``."""
    if not isinstance(item, StepItem):
        return item.kind
    return kind


class RunbookScreen(CockpitScreen):
    CSS_PATH = "runbook.tcss"
    BINDINGS: ClassVar[list[BindingType]] = bindings("runbook")
    KEYS = "runbook"

    def __init__(self, release_id: str, item_id: str | None = None) -> None:
        super().__init__()
        self.release_id = release_id
        self.start_item = item_id
        self.checklist: Checklist | None = None
        self.phase: Phase | None = None
        self.kinds: dict[str, str] = {}
        self.previews: dict[str, Preview | str] = {}
        self.looking: set[str] = set()  # previews being read now
        self.running: str | None = None  # the item this screen is running now
        self.cancel_event = threading.Event()
        self.mode = "preview"  # or "log"
        self.message = ""

    def compose(self) -> ComposeResult:
        yield StatusLine(id="header", classes="header")
        yield StatusLine(id="title")
        with Horizontal(id="body"):
            yield OptionList(id="steps")
            with Vertical(id="side"):
                yield Static(id="preview")
                yield Log(id="log", max_lines=10_000, auto_scroll=True)
        yield StatusLine(id="message")
        yield KeyBar(id="keys")

    def on_mount(self) -> None:
        self.query_one("#log", Log).display = False

    # ------------------------------------------------------------------ state

    def reload(self) -> None:
        from cockpit.deploy import effective_run

        session = self.session
        self.checklist = load_checklist(session.store, self.release_id)
        phases = [p for p in self.checklist.plan.plan.phases if p.offset_days == 0]
        self.phase = phases[0] if phases else self.checklist.plan.plan.phases[-1]
        release = self.checklist.release
        for item in self.phase.items:
            if isinstance(item, StepItem) and item.id not in self.kinds:
                run, source = effective_run(session.loaded, release, item)
                action = getattr(run, "action", "")
                self.kinds[item.id] = " ".join(filter(None, [run.kind, action])) + (
                    " (cockpit.toml)" if source == "config" else ""
                )
        self._draw()

    def selected(self) -> Item | None:
        if self.phase is None:
            return None
        index = self.query_one("#steps", OptionList).highlighted
        if index is None or index >= len(self.phase.items):
            return None
        return self.phase.items[index]

    # ------------------------------------------------------------------ drawing

    def _draw(self) -> None:
        session, checklist, phase = self.session, self.checklist, self.phase
        if checklist is None or phase is None:
            return
        self.query_one("#header", StatusLine).set_text(self.header_text(checklist))
        first, _second = self.titles(phase)
        done, total = checklist.progress(phase)
        title = Text(f" {phase.id.upper()} {first}", style="bold")
        title.append(f"  {done}/{total}  {window_text(session)}")
        self.query_one("#title", StatusLine).set_text(title)
        options = self.query_one("#steps", OptionList)
        keep = options.highlighted
        rows = []
        for number, item in enumerate(phase.items, start=1):
            status = checklist.state(item.id).status
            if item.id == self.running:
                status = Status.RUNNING
            name, _ = self.titles(item)
            row = Text(f"{MARKERS[status]} {number:>2} ", no_wrap=True, overflow="ellipsis")
            row.append(name, style="bold" if status is Status.RUNNING else "")
            rows.append(Option(row, id=item.id))
        options.clear_options()
        options.add_options(rows)
        if keep is None:
            keep = self._start_index()
        options.highlighted = min(keep, len(rows) - 1) if rows else None
        self._draw_side()
        self.refresh_keys()

    def _start_index(self) -> int:
        assert self.phase is not None and self.checklist is not None
        ids = [item.id for item in self.phase.items]
        if self.start_item in ids:
            return ids.index(self.start_item)
        for index, item_id in enumerate(ids):
            if self.checklist.state(item_id).status not in {Status.DONE, Status.SKIPPED}:
                return index
        return 0

    def _draw_side(self) -> None:
        preview, log = self.query_one("#preview", Static), self.query_one("#log", Log)
        showing_log = self.mode == "log"
        preview.display, log.display = not showing_log, showing_log
        if not showing_log:
            preview.update(self._preview_text())
        message = Text(" " + self.message) if self.message else Text("")
        self.query_one("#message", StatusLine).set_text(message)

    def _preview_text(self) -> Text:
        session, item = self.session, self.selected()
        text = Text()
        if item is None or self.checklist is None:
            return text
        first, second = self.titles(item)
        state = self.checklist.state(item.id)
        text.append(f"{first}", style="bold")
        text.append(f"  {second}\n", style="dim")
        text.append(run_label(item, self.kinds.get(item.id, "")) + "  ", style="dim")
        text.append(session.t("status." + state.status.value))
        if state.by:
            zone = session.loaded.config.change_window.timezone
            when = local(state.at, zone) if state.at else ""
            text.append(f"  {state.by} {when}", style="dim")
        text.append("\n")
        why = self._why_not(item, "done")
        if state.status is Status.INTERRUPTED:
            text.append(session.t("run.interrupted") + "\n", style="bold")
        elif why and state.status not in {Status.DONE, Status.SKIPPED}:
            text.append(session.t("msg.refused", why=why) + "\n", style="dim")
        if not isinstance(item, StepItem):
            help_text = item.help_ja if session.lang == "ja" else item.help_en
            if help_text:
                text.append(help_text + "\n", style="dim")
            return text
        shown = self.previews.get(item.id)
        if shown is None:
            text.append(session.t("run.looking") + "\n", style="dim")
            if item.id not in self.looking:
                self.looking.add(item.id)
                self.look(item.id)
        elif isinstance(shown, str):
            text.append(session.t("run.no_preview", why=shown) + "\n", style="bold red")
        else:
            text.append(shown.summary + "\n", style="bold")
            for call in shown.calls[:6]:
                if call not in shown.summary:
                    text.append("$ " + call + "\n", style="dim")
            for line in shown.lines:
                style = "green" if line.startswith("+") else "red" if line.startswith("-") else ""
                text.append(line + "\n", style=style)
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

    # Workers finish after the operator may have left the screen: draw only while attached.

    def _log(self, line: str) -> None:
        if self.is_attached:
            self.query_one("#log", Log).write_line(line)

    def _reload_if_shown(self) -> None:
        if self.is_attached:
            self.reload()

    def _redraw_side_if_shown(self) -> None:
        if self.is_attached:
            self._draw_side()

    def on_option_list_option_selected(self, _event: OptionList.OptionSelected) -> None:
        self.action_run()  # enter on the list

    # ------------------------------------------------------------------ preview

    @work(thread=True, exclusive=False, group="preview", exit_on_error=False)
    def look(self, item_id: str) -> None:
        from cockpit.deploy import preview

        session = self.session
        try:
            _info, shown = preview(
                session.store, session.loaded, session.operator, self.release_id, item_id
            )
            self.previews[item_id] = shown
        except CockpitError as exc:
            self.previews[item_id] = str(exc)
        finally:
            self.looking.discard(item_id)
        self.app.call_from_thread(self._redraw_side_if_shown)

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
        self._confirm(
            self.session.t("run.confirm", item=first), "\n".join(lines[1:]), item.id, "done"
        )

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

    def _confirm(self, title: str, preview: str, item_id: str, action: str) -> None:
        from screens.decision import DecisionScreen

        def chosen(reason: str | None) -> None:
            if reason is not None:
                self.run_step(item_id, action, reason or None)

        self.app.push_screen(DecisionScreen(title, False, preview), chosen)

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

    def _start_run(self, name: str, banner: str) -> Callable[[str], None]:
        """In a worker: mark ``name`` running, show the log with ``banner``; the returned
        function writes a line to the log from any thread."""
        self.running = name
        self.cancel_event = threading.Event()
        self.mode = "log"
        app = self.app  # the step's own threads have no active-app context: capture it here
        app.call_from_thread(self._log, banner)
        app.call_from_thread(self._draw)

        def output(line: str) -> None:
            app.call_from_thread(self._log, line)

        return output

    @work(thread=True, exclusive=True, group="run", exit_on_error=False)
    def run_step(self, item_id: str, action: str, reason: str | None) -> None:
        session = self.session
        self.message = session.t("run.running", item=item_id)
        output = self._start_run(item_id, f"--- {item_id} {action}")
        try:
            event = decide(
                session.store,
                session.loaded,
                session.operator,
                self.release_id,
                item_id,
                action,
                reason=reason,
                now=session.now(),
                output=output,
                cancel=self.cancel_event,
            )
            self.message = session.t("msg.recorded", seq=event.seq, action=event.action)
        except CockpitError as exc:
            self.message = session.t("msg.failed", why=str(exc))
            self.app.call_from_thread(self._log, "! " + str(exc))
        finally:
            self.running = None
            self.previews.pop(item_id, None)
            self.app.call_from_thread(self._reload_if_shown)

    # ------------------------------------------------------------------ rollback

    def action_rollback(self) -> None:
        if self.running is not None:
            return
        self.plan_rollback()

    @work(thread=True, exclusive=True, group="rollback-plan", exit_on_error=False)
    def plan_rollback(self) -> None:
        from cockpit.rollback import rollback_plan

        session = self.session
        try:
            plan = rollback_plan(session.store, session.loaded, session.operator, self.release_id)
        except CockpitError as exc:
            self.app.call_from_thread(
                self.notify, session.t("msg.failed", why=str(exc)), severity="error"
            )
            return
        if not plan.to_undo:
            self.app.call_from_thread(
                self.notify, session.t("run.nothing_to_undo"), severity="warning"
            )
            return
        lines = [f"{number}. {e.id}: {e.summary}" for number, e in enumerate(plan.entries, 1)]
        self.app.call_from_thread(self._ask_rollback, plan.question(), "\n".join(lines))

    def _ask_rollback(self, question: str, what: str) -> None:
        from screens.decision import DecisionScreen

        def chosen(reason: str | None) -> None:
            if reason:
                self.run_rollback(reason)

        self.app.push_screen(DecisionScreen(question, True, what), chosen)

    @work(thread=True, exclusive=True, group="run", exit_on_error=False)
    def run_rollback(self, reason: str) -> None:
        from cockpit.rollback import rollback

        session = self.session
        output = self._start_run("rollback", "--- rollback: " + reason)
        try:
            result = rollback(
                session.store,
                session.loaded,
                session.operator,
                self.release_id,
                reason,
                output=output,
                cancel=self.cancel_event,
            )
            self.message = rollback_message(session, result)
        except CockpitError as exc:
            self.message = session.t("msg.failed", why=str(exc))
        finally:
            self.running = None
            self.previews.clear()
            self.app.call_from_thread(self._reload_if_shown)

    def palette_commands(self) -> list[tuple[str, str, object]]:
        t = self.session.t
        return [
            (t("run.act_run"), "enter", self.action_run),
            (t("run.act_cancel"), "c", self.action_cancel),
            (t("run.act_rollback"), "R", self.action_rollback),
            (t("act.back"), "esc", self.action_back),
        ]
