"""Live metrics: a grid of panels for the release's environment, the baseline, the rollback
triggers and the watch's go / no-go.

Sampling runs in the engine's threads (:class:`cockpit.metrics.Sampler`); this screen collects
what they found as soon as a round arrives (a message from the sampler's thread) and on a timer,
records fired triggers at once, and redraws only while it is the top screen and not paused
(nothing redraws under a dialog). A redraw updates only the lines whose text changed (their
text is built in :mod:`screens.metrics_view`). A fired trigger opens a dialog
(:mod:`screens.trigger`): start the rollback plan, or continue with a reason; both are recorded.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Grid
from textual.message import Message
from textual.widgets import Static

from cockpit.checklist import load_checklist
from cockpit.errors import CockpitError
from screens.keys import bindings
from screens.metrics_decide import MetricsDecisions
from screens.metrics_view import grid_shape, state_text, title_line, view_of
from screens.trigger import TriggerScreen
from widgets.keybar import KeyBar
from widgets.metricpanel import MetricPanel
from widgets.statusline import StatusLine

if TYPE_CHECKING:
    from cockpit.checklist import Checklist
    from cockpit.events import Event
    from cockpit.metrics import Fired, PanelState, Sampler, Update


# Samples a chart may draw: the series' whole capacity (cockpit.metrics.SERIES_CAPACITY), so a
# wide panel draws as far back as is kept.
HISTORY = 120


class MetricsScreen(MetricsDecisions):
    BINDINGS: ClassVar[list[BindingType]] = bindings("metrics")
    KEYS = "metrics"
    DEFAULT_CSS = """
    MetricsScreen #title { height: 1; }
    MetricsScreen #grid { grid-size: 2; grid-gutter: 0 1; height: auto; padding: 0 1; }
    MetricsScreen #state { height: 4; padding: 0 1; }
    MetricsScreen #spacer { height: 1fr; }
    """

    def __init__(self, release_id: str, sampler: Sampler | None = None) -> None:
        """``sampler``: one made (and started, or not) by the caller; by default the screen
        makes one for the release's environment from cockpit.toml and starts it."""
        super().__init__()
        self.release_id = release_id
        self.checklist: Checklist | None = None
        self.sampler: Sampler | None = sampler
        self._own_sampler = sampler is None
        self.states: dict[str, PanelState] = {}
        self.message = ""
        self.blocked: str | None = None
        self._blocked_known = False  # ``blocked`` was read (go stays refused until then)
        # Fired triggers nobody settled (rollback or continue), oldest first: a dialog dismissed
        # with esc leaves its trigger here, and s asks again (metrics.unsettled_triggers).
        self.unsettled: list[Event] = []
        self._asking: int | None = None  # the trigger whose dialog is open
        self.last_draw = 0.0
        self._blocked_key: object = None
        self._blocked_at = 0.0
        self._shown: dict[str, object] = {}  # line id -> what it shows (see _put)
        self._sampler_callback: Callable[[Update], None] | None = None  # the sampler's own callback

    def compose(self) -> ComposeResult:
        yield StatusLine(id="header", classes="header")
        yield StatusLine(id="title")
        yield Grid(id="grid")
        yield Static(id="state")
        yield Static(id="spacer")
        yield KeyBar(id="keys")

    def on_mount(self) -> None:
        self.open_release()

    @work(thread=True, group="open", exit_on_error=False)
    def open_release(self) -> None:
        """The release and its sampler, read and started off the UI thread."""
        from cockpit.metrics import Sampler

        session = self.session
        try:
            checklist = load_checklist(session.store, self.release_id)
            sampler = self.sampler
            if sampler is None:
                env = checklist.release.environment
                sampler = Sampler.for_environment(session.loaded, env).start()
        except CockpitError as exc:
            self._say(session.t("msg.failed", why=exc))
            return
        self.app.call_from_thread(self._opened, checklist, sampler)

    def _opened(self, checklist: Checklist, sampler: Sampler) -> None:
        if not self.is_attached:  # left before it opened
            if self._own_sampler:
                sampler.stop()
            return
        session, self.checklist, self.sampler = self.session, checklist, sampler
        env = checklist.release.environment
        # A round that arrives is collected at once (_arrived); the timer below is for the
        # ages ("STALE 12s") and for a sampler whose rounds arrive before this hook is set.
        self._sampler_callback = self.sampler.on_update
        self.sampler.on_update = self._arrived
        grid = self.query_one("#grid", Grid)
        grid.mount_all(
            MetricPanel(ascii=self.cockpit.ascii, id="panel-" + panel.name)
            for panel in self.sampler.panels
        )
        self.call_after_refresh(self._size_panels)
        self.call_after_refresh(self._first_draw)
        self.load_recorded()
        refresh = session.loaded.environment(env).metrics.refresh_seconds
        # Collect what the sampler threads found a few times per refresh: a sample shows
        # within a fraction of the refresh interval after it arrives.
        self.set_interval(min(refresh, 2.0) / 4, self.collect)

    def _first_draw(self) -> None:
        if self.sampler is not None:
            self.states = self.sampler.states(history=HISTORY)
            self._draw()

    def on_unmount(self) -> None:
        if self.sampler is not None:
            self.sampler.on_update = self._sampler_callback
            if self._own_sampler:
                self.sampler.stop()

    def on_resize(self) -> None:
        self._size_panels()

    def _size_panels(self) -> None:
        """Panels grow with the terminal (:func:`screens.metrics_view.grid_shape`)."""
        panels = list(self.query(MetricPanel))
        if not self.size.width or not panels:
            return
        columns, each = grid_shape(*self.size, len(panels))
        grid = self.query_one("#grid", Grid)
        grid.styles.grid_size_columns = columns
        grid.styles.grid_rows = str(each)  # a grid row is as tall as it says, not its panel
        for panel in panels:
            panel.styles.height = each

    # ------------------------------------------------------------------ collecting

    class Arrived(Message, bubble=False):
        """A sampler round was published (posted from the sampler's thread)."""

    def _arrived(self, update: Update) -> None:
        # In the sampler's thread: post_message is thread-safe and never waits for the UI.
        if self._sampler_callback is not None:
            self._sampler_callback(update)
        self.post_message(self.Arrived())

    def on_metrics_screen_arrived(self, _message: Arrived) -> None:
        self.collect()

    def collect(self) -> None:
        sampler = self.sampler
        if sampler is None:
            return
        updates = sampler.poll()
        fired = [f for update in updates for f in update.fired]
        if fired and self.cockpit.refused_kind("drive") is None:
            self.record_fired(fired)
        elif fired:  # another cockpit drives (or --readonly): its screen records and asks
            rules = ", ".join(f.rule for f in fired)
            self.message = self.session.t("met.fired_elsewhere", rules=rules)
            self._blocked_key = None
        on_top = self.app.screen is self
        if not on_top or sampler.paused:
            return  # nothing redraws under a dialog or while paused
        now = time.time()
        # New samples redraw at once; otherwise once a second, for the ages ("STALE 12s").
        if not updates and now - self.last_draw < 1.0:
            return
        self.last_draw = now
        self.states = sampler.states(history=HISTORY)
        self._draw()

    @work(thread=True, group="record", exit_on_error=False)
    def load_recorded(self) -> None:
        """What the log already holds for this release: its baseline (kept on reopen) and the
        triggers nobody settled (not fired a second time: their panels are held)."""
        from cockpit.metrics import latest_baseline, unsettled_triggers

        sampler, store = self.sampler, self.session.store
        assert sampler is not None
        if sampler.baseline is None:
            sampler.baseline = latest_baseline(store, self.release_id)
        unsettled = unsettled_triggers(store, self.release_id)
        sampler.evaluator.hold(e.subject for e in unsettled if e.subject)
        self.app.call_from_thread(self._set_unsettled, unsettled)

    def _set_unsettled(self, unsettled: list[Event]) -> None:
        self.unsettled = unsettled
        self._redraw_state()

    @work(thread=True, group="record", exit_on_error=False)
    def record_fired(self, fired: list[Fired]) -> None:
        from cockpit.metrics import record_trigger, unsettled_triggers

        session, release = self.session, self._release()
        # A panel whose trigger is still unsettled (recorded by an earlier screen) is asked
        # about again, never recorded twice.
        known = {e.subject: e for e in unsettled_triggers(session.store, self.release_id)}
        for item in fired:
            event = known.get(item.panel) or record_trigger(
                session.store, session.operator, item, release=release
            )
            self.app.call_from_thread(self._on_fired, item, event)

    def _on_fired(self, fired: Fired, event: Event) -> None:
        if not self.is_attached:
            return
        if fired.automatic:
            self.start_rollback(f"automatic: {fired.rule} (trigger #{event.seq})")
            return
        if event.seq not in {e.seq for e in self.unsettled}:
            self.unsettled.append(event)
        if self._asking is None:
            self._prompt(event)

    def _prompt(self, event: Event) -> None:
        rule = event.details_obj.get("rule", event.subject)
        self._asking = event.seq

        def answered(choice: tuple[str, str] | None) -> None:
            self._asking = None
            if choice is None:  # esc: later, with s (the trigger stays unsettled)
                self._redraw_state()
                return
            self.unsettled = [e for e in self.unsettled if e.seq != event.seq]
            action, reason = choice
            if action == "rollback":
                self.start_rollback(f"{rule} (trigger #{event.seq}): {reason}")
            else:
                self.decide("continue", reason, event)

        self.app.push_screen(TriggerScreen.for_event(self.session.t, event), answered)

    def action_settle(self) -> None:
        """Ask again about the oldest unsettled trigger (one dismissed with esc)."""
        if self.unsettled and self._asking is None:
            self._prompt(self.unsettled[0])

    # ------------------------------------------------------------------ drawing

    # The screen's own actions wait for the release and its sampler (read in a worker).
    _NEEDS_RELEASE = frozenset(
        {"settle", "pause", "baseline", "watch", "go", "no_go", "override", "rollback"}
    )

    def _draw(self) -> None:
        session, sampler = self.session, self.sampler
        if self.checklist is None or sampler is None:
            return
        self._put("#header", self.header_text(self.checklist))
        for name, state in self.states.items():
            view = view_of(state, session, sampler.refresh)
            self.query_one("#panel-" + name, MetricPanel).show(view)
        self._put("#title", title_line(session, self.checklist.release.environment, sampler))
        self._draw_state()

    def _put(self, selector: str, text: Text) -> None:
        """Update a line only when its text changed: an update repaints the widget, and the
        terminal gets its bytes again even when they are the same (the redraw once a second for
        the panels' ages would rewrite the header, title, state and keys every time)."""
        if self._changed(selector, (text.plain, str(text.style), tuple(text.spans))):
            self.query_one(selector, Static).update(text)

    def _changed(self, key: str, value: object) -> bool:
        if self._shown.get(key) == value:
            return False
        self._shown[key] = value
        return True

    def _draw_state(self) -> None:
        session = self.session
        # Why go is blocked reads the log (in a worker): again when a panel's level changed,
        # after a decision here (_redraw_state), and every few seconds (the watch's time left,
        # another operator's decision), not on every redraw.
        key = tuple((n, s.level) for n, s in self.states.items())
        if self.checklist is not None and (
            key != self._blocked_key or time.monotonic() - self._blocked_at > 5
        ):
            self._blocked_key, self._blocked_at = key, time.monotonic()
            self.check_blocked(dict(self.states))
        self._put("#state", state_text(session, self.blocked, self.states, self.message))
        self.refresh_keys()  # the footer repaints only when it changed

    @work(thread=True, exclusive=True, group="blocked", exit_on_error=False)
    def check_blocked(self, states: dict[str, PanelState]) -> None:
        from cockpit.metrics import go_blocked_reason

        session = self.session
        try:
            found = go_blocked_reason(
                session.store, session.operator, release=self._release(), states=states
            )
            blocked = None if found is None else session.t(found[0], **found[1])
        except CockpitError as exc:
            blocked = exc.text(session.lang)
        self.app.call_from_thread(self._blocked_now, blocked)

    def _blocked_now(self, blocked: str | None) -> None:
        if blocked == self.blocked and self._blocked_known:
            return
        self.blocked, self._blocked_known = blocked, True
        if self.is_attached:
            self._put("#state", state_text(self.session, self.blocked, self.states, self.message))
            self.refresh_keys()

    def refusal(self, action: str, parameters: tuple[object, ...]) -> str | None:
        if self.checklist is None and action in self._NEEDS_RELEASE:
            return ""  # the release is still being read
        if action == "go":
            if not self._blocked_known:
                return ""  # not yet asked whether go is blocked (a worker asks)
            return self.blocked or None  # what go_blocked said at the last check
        if action == "settle" and not self.unsettled:
            return self.session.t("met.nothing_to_settle")
        return None

    # ------------------------------------------------------------------ actions

    def action_pause(self) -> None:
        if self.sampler is None:
            return
        if self.sampler.paused:
            self.sampler.resume()
        else:
            self.sampler.pause()
        self.last_draw = 0.0
        self.states = self.sampler.states(history=HISTORY)
        self._draw()

    def _redraw_state(self) -> None:
        self._blocked_key = None
        if self.is_attached:
            self._draw_state()
