"""The runbook's work off the UI thread: reading a step's preview, running a step or the rollback
with a live log and a cancel, and reading the rollback plan to confirm it. Every engine call the
runbook makes for a step or the rollback is made here, in a thread worker; each worker reports
back through ``call_from_thread`` and draws only while the screen is attached.

:class:`RunbookWork` is the base of :class:`screens.runbook.RunbookScreen`: it holds the state
the workers share with the drawing (the previews read, the item running, the log or preview
mode, the last message); the screen maps keys to these workers and draws.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.cells import chop_cells
from textual import work
from textual.widget import Widget
from textual.widgets import Log

from cockpit.actions import decide
from cockpit.errors import CockpitError
from cockpit.launch import Detached
from screens.common import CockpitScreen, rollback_message

if TYPE_CHECKING:
    from cockpit.checklist import Checklist
    from cockpit.steps.base import Preview


class RunbookWork(CockpitScreen):
    """The runbook's workers and the state they share with the screen's drawing."""

    checklist: Checklist | None  # the screen's, once loaded

    def __init__(self, release_id: str) -> None:
        super().__init__()
        self.release_id = release_id
        self.previews: dict[str, Preview | str] = {}
        self.looking: set[str] = set()  # previews being read now
        self.running: str | None = None  # the item this screen is running now
        self.cancel_event = threading.Event()
        self.leave_event = threading.Event()  # set when the screen stops following a step
        self.mode = "preview"  # or "log"
        self.message = ""

    def _draw(self) -> None:
        """Redraw the whole screen. The runbook screen draws."""

    def _draw_side(self) -> None:
        """Redraw the preview or the log, and the message line. The runbook screen draws."""

    # Workers finish after the operator may have left the screen: draw only while attached.

    def _log(self, line: str) -> None:
        """Write ``line`` wrapped at the log's width (a long line is never cut at the edge)."""
        if self.is_attached:
            log = self.query_one("#log", Log)
            # The log's width; it has none yet while hidden (before the first run): the pane's.
            side = log.parent.content_region.width if isinstance(log.parent, Widget) else 0
            own = log.scrollable_content_region.width if log.display else 0
            width = max(own - 1 if own else side - 2, 20)  # a cell short of the scrollbar
            log.write_lines(chop_cells(line, width) or [""])

    _log_item: str | None = None  # the item whose run the log shows
    _log_is_record = False  # the log shows a recorded run (read back), not a live one

    @work(thread=True, exclusive=True, group="output", exit_on_error=False)
    def show_last_run(self, item_id: str) -> None:
        """The log of a screen opened after the run: the item's recorded output and error
        (written only while the log still shows that item: the cursor may have moved on)."""
        from cockpit.stepoutput import last_run

        lines, error = last_run(self.session.store, self.release_id, item_id)
        shown = [*lines, *(["! " + error] if error else [])]
        self.app.call_from_thread(self._log_recorded, item_id, shown)

    def _log_recorded(self, item_id: str, lines: list[str]) -> None:
        if self._log_item == item_id and self.running is None:
            self._log_is_record = True
            for line in lines or [self.session.t("run.no_run_recorded")]:
                self._log(line)

    def _reload_if_shown(self) -> None:
        if self.is_attached:
            self.reload()

    def _redraw_side_if_shown(self) -> None:
        if self.is_attached:
            self._draw_side()

    # ------------------------------------------------------------------ preview

    @work(thread=True, exclusive=False, group="preview", exit_on_error=False)
    def look(self, item_id: str) -> None:
        from cockpit.deploy import preview

        session = self.session
        try:
            _info, shown = preview(session, self.release_id, item_id)
            self.previews[item_id] = shown
        except CockpitError as exc:
            self.previews[item_id] = exc.text(self.session.lang)
        finally:
            self.looking.discard(item_id)
        self.app.call_from_thread(self._redraw_side_if_shown)

    # ------------------------------------------------------------------ runs

    def _start_run(self, name: str, banner: str) -> Callable[[str], None]:
        """In a worker: mark ``name`` running, show the log with ``banner``; the returned
        function writes a line to the log from any thread."""
        self.running = name
        self._log_item = name  # the log shows this run now, not a recorded one
        self.cancel_event = threading.Event()
        self.mode = "log"
        app = self.app  # the step's own threads have no active-app context: capture it here
        if self._log_is_record:
            self._log_is_record = False
            app.call_from_thread(self.query_one("#log", Log).clear)
        app.call_from_thread(self._log, banner)
        app.call_from_thread(self._draw)

        def output(line: str) -> None:
            app.call_from_thread(self._log, line)

        return output

    @work(thread=True, exclusive=True, group="run", exit_on_error=False)
    def run_step(self, item_id: str, action: str, reason: str | None) -> None:
        session = self.session
        self.message = session.t("run.running", item=item_id)
        # "--- t0.deploy: started" (a step is run by deciding it done: not "done" yet).
        heading = session.t("run.started_log") if action == "done" else action
        output = self._start_run(item_id, f"--- {item_id}: {heading}")
        leave = threading.Event()
        app = self.cockpit
        app.following = (self.release_id, item_id, leave)
        try:
            try:
                event = decide(
                    session,
                    self.release_id,
                    item_id,
                    action,
                    reason=reason,
                    # The confirmation's reason also sets a T-0 rule aside (the window, phases
                    # in order, a rehearsal, the point of no return), recorded as an override.
                    override=reason if action != "skip" else None,
                    output=output,
                    cancel=self.cancel_event,
                    leave=leave,
                )
            finally:
                app.following = None  # at once: the outcome is recorded, nothing to detach
            # Said only once the supervisor has recorded the outcome.
            self.message = session.t("msg.recorded", seq=event.seq, action=event.action)
            self.app.call_from_thread(self._log, f"--- {item_id} {event.action}")
        except Detached:
            return  # quitting: the step goes on under its supervisor; nothing to draw
        except CockpitError as exc:
            self.message = session.t("msg.failed", why=exc.text(session.lang))
            self.app.call_from_thread(self._log, "! " + exc.text(session.lang))
        finally:
            self.running = None
            self.previews.pop(item_id, None)
            self.app.call_from_thread(self._reload_if_shown)

    @work(thread=True, exclusive=True, group="attach", exit_on_error=False)
    def follow_running(self, item_id: str) -> None:
        """A step running under its supervisor, started elsewhere (another terminal, another
        host, before a reconnect): its live output and its end, as if it were ours."""
        from cockpit.steprun import attach

        session = self.session
        self.message = session.t("run.following", item=item_id)
        output = self._start_run(item_id, f"--- {item_id}: " + session.t("run.following_log"))
        self.leave_event = threading.Event()
        try:
            status = attach(
                session,
                self.release_id,
                item_id,
                output=output,
                leave=self.leave_event,
                cancel=self.cancel_event,
            )
            self.message = session.t("run.followed", item=item_id, status=status.value)
            self.app.call_from_thread(self._log, f"--- {item_id} {status.value}")
        except Detached:
            return  # the screen was left: the step goes on
        except CockpitError as exc:
            self.message = session.t("msg.failed", why=exc)
        finally:
            self.running = None
            self.app.call_from_thread(self._reload_if_shown)

    @work(thread=True, exclusive=True, group="run", exit_on_error=False)
    def follow_rollback(self) -> None:
        """A rollback run by another cockpit (a colleague's, another host's, or this one's
        before a reconnect): its output as its supervisor writes it, and its result."""
        from cockpit.steprun import attach_rollback

        session = self.session
        self.message = session.t("run.following", item="rollback")
        output = self._start_run("rollback", "--- rollback: " + session.t("run.following_log"))
        self.leave_event = threading.Event()
        try:
            result = attach_rollback(
                session, self.release_id, output=output, leave=self.leave_event
            )
            self.message = (
                rollback_message(session, result)
                if result is not None
                else session.t("run.followed", item="rollback", status="interrupted")
            )
        except Detached:
            return  # the screen was left: the rollback goes on
        except CockpitError as exc:
            self.message = session.t("msg.failed", why=exc)
        finally:
            self.running = None
            self.app.call_from_thread(self._reload_if_shown)

    # ------------------------------------------------------------------ rollback

    @work(thread=True, exclusive=True, group="rollback-plan", exit_on_error=False)
    def plan_rollback(self) -> None:
        from cockpit.rollback import rollback_plan

        session = self.session
        try:
            plan = rollback_plan(session, self.release_id)
        except CockpitError as exc:
            self.app.call_from_thread(
                self.notify, session.t("msg.failed", why=exc), severity="error"
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
        from screens.decision import DecisionScreen, production_name

        def chosen(reason: str | None) -> None:
            if reason:
                self.run_rollback(reason)

        assert self.checklist is not None
        name = production_name(self.session, self.checklist.release)
        dialog = DecisionScreen(
            question, True, what, hint="dlg.confirm_run", irreversible=True, type_name=name
        )
        self.app.push_screen(dialog, chosen)

    @work(thread=True, exclusive=True, group="run", exit_on_error=False)
    def run_rollback(self, reason: str) -> None:
        from cockpit.steprun import start_rollback

        session = self.session
        output = self._start_run("rollback", "--- rollback: " + reason)
        try:
            result = start_rollback(
                session,
                self.release_id,
                reason,
                output=output,
                cancel=self.cancel_event,
            )
            self.message = rollback_message(session, result)
        except CockpitError as exc:
            self.message = session.t("msg.failed", why=exc)
        finally:
            self.running = None
            self.previews.clear()
            self.app.call_from_thread(self._reload_if_shown)
