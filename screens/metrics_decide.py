"""The metrics screen's decisions, each recorded in a worker: the baseline, the start of the
post-release watch, go / no-go, the no-data override and the rollback from this screen.
:class:`MetricsDecisions` is the base of :class:`screens.metrics.MetricsScreen`, as
:class:`screens.runbook_work.RunbookWork` is the runbook's: the screen samples, draws and maps
keys to these workers; each says its outcome on the state line (:meth:`_say`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import work

from cockpit.errors import CockpitError
from screens.common import CockpitScreen, rollback_message

if TYPE_CHECKING:
    from cockpit.checklist import Checklist
    from cockpit.events import Event
    from cockpit.metrics import PanelState, Sampler


class MetricsDecisions(CockpitScreen):
    """The decisions of the metrics screen and the state they read (set by the screen)."""

    release_id: str
    checklist: Checklist | None
    sampler: Sampler | None
    states: dict[str, PanelState]
    blocked: str | None
    message: str

    def _release(self) -> Any:
        assert self.checklist is not None
        return self.checklist.release

    def _redraw_state(self) -> None:
        """Redraw the state line (why go is blocked, the last message). The screen draws."""

    def _say(self, message: str) -> None:
        self.message = message
        self.app.call_from_thread(self._redraw_state)

    @work(thread=True, exclusive=True, group="decide", exit_on_error=False)
    def action_baseline(self) -> None:
        from cockpit.metrics import capture_baseline, record_baseline

        session, sampler = self.session, self.sampler
        assert sampler is not None
        window = session.loaded.environment(self._release().environment).metrics
        self._say(session.t("met.capturing"))
        try:
            base = capture_baseline(
                sampler.panels,
                sampler.sources,
                window_seconds=window.baseline_window_seconds,
                series=sampler.series,
            )
            sampler.baseline = base
            event = record_baseline(session.store, session.operator, base, release=self._release())
            self._say(session.t("msg.recorded", seq=event.seq, action=event.action))
        except CockpitError as exc:
            self._say(session.t("msg.failed", why=exc))

    @work(thread=True, exclusive=True, group="decide", exit_on_error=False)
    def action_watch(self) -> None:
        from cockpit.metrics import record_watch_start

        session, sampler = self.session, self.sampler
        assert sampler is not None
        metrics = session.loaded.environment(self._release().environment).metrics
        try:
            event = record_watch_start(
                session.store,
                session.operator,
                release=self._release(),
                panels=sampler.panels,
                watch_hours=metrics.watch_hours,
                speed=metrics.watch_speed,
            )
            self._say(session.t("msg.recorded", seq=event.seq, action=event.action))
        except CockpitError as exc:
            self._say(session.t("msg.failed", why=exc))

    def action_go(self) -> None:
        if self.blocked:
            self.notify(self.session.t("msg.refused", why=self.blocked), severity="warning")
            return
        self.decide("go", "", None)

    def _ask(self, key: str, decision: str) -> None:
        from screens.decision import DecisionScreen

        def chosen(reason: str | None) -> None:
            if reason:
                self.decide(decision, reason, None)

        self.app.push_screen(DecisionScreen(self.session.t(key), True), chosen)

    def action_no_go(self) -> None:
        self._ask("met.dlg_no_go", "no_go")

    def action_override(self) -> None:
        self._ask("met.dlg_override", "nodata_override")

    def action_rollback(self) -> None:
        from screens.decision import DecisionScreen, production_name

        def chosen(reason: str | None) -> None:
            if reason:
                self.start_rollback(reason)

        name = production_name(self.session, self._release())
        title = self.session.t("met.dlg_rollback")
        dialog = DecisionScreen(
            title, True, hint="dlg.confirm_run", irreversible=True, type_name=name
        )
        self.app.push_screen(dialog, chosen)

    @work(thread=True, group="decide", exit_on_error=False)
    def decide(self, decision: str, reason: str, trigger: Event | None) -> None:
        from cockpit.metrics import record_decision

        session = self.session
        try:
            event = record_decision(
                session.store,
                session.operator,
                decision,  # type: ignore[arg-type]
                release=self._release(),
                reason=reason,
                states=self.states,
                trigger=trigger,
            )
            self._say(session.t("msg.recorded", seq=event.seq, action=event.action))
        except CockpitError as exc:
            self._say(session.t("msg.failed", why=exc))

    @work(thread=True, exclusive=True, group="run", exit_on_error=False)
    def start_rollback(self, reason: str) -> None:
        from cockpit.steprun import start_rollback

        session = self.session
        self._say(session.t("met.rolling_back"))
        try:
            result = start_rollback(session, self.release_id, reason)
            self._say(rollback_message(session, result))
        except CockpitError as exc:
            self._say(session.t("msg.failed", why=exc))
