"""Dashboard: where we are (releases, phases, window), what is next, whether the log is intact."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from screens.common import CockpitScreen
from screens.dashboard_view import (
    DashView,
    audit_text,
    dashboard_view,
    load_release,
    read_dashboard,
    recent_rows,
    rehearsal_line,
)
from screens.firstview import FirstView
from screens.health import HealthWatch, health_text
from screens.keys import bindings
from screens.text import line_label
from widgets.keybar import KeyBar
from widgets.statusline import StatusLine
from widgets.timeline import Timeline

if TYPE_CHECKING:
    # The engine's checklist and plan loader (PyYAML, msgspec) are imported by the loading
    # worker, while the first frame is drawn.
    from cockpit.checklist import Checklist
    from cockpit.events import Event
    from cockpit.release import Release
    from screens.dashboard_view import Loaded, Read


class DashboardScreen(CockpitScreen):
    # Its CSS (dashboard.tcss) is the app's: read as the app starts (screens.app).
    BINDINGS: ClassVar[list[BindingType]] = bindings("dashboard")
    KEYS = "dashboard"
    HIDDEN = frozenset({"back"})  # the first screen: nothing to go back to

    def __init__(self) -> None:
        super().__init__()
        self.releases: list[Release] = []
        self.checklist: Checklist | None = None
        self.chain = ""
        self.verified_seq = -1
        self.verified: tuple[int, str] | None = None  # the (seq, hash) verified last
        self.verifying = False
        self.failing: list[str] = []  # notice channels whose last attempt failed
        self.rehearsed: str | None = ""  # rehearsal_line(), read with the checklist
        self.recent: list[tuple[Event, str]] = []  # the release's latest events, and who
        self.loaded: dict[str, Loaded] = {}  # releases read since the log last grew
        self._showing: str | None = None  # the release the cursor is on
        self.health = HealthWatch()  # the Health line's sampler (of the release's environment)
        self._health_shown: Text | None = None  # the line last drawn
        self.first = FirstView()  # the first view, read ahead as `cockpit open` started
        self._drawn: DashView | None = None  # what the last draw showed
        self._listed: list[tuple[str, str]] | None = None  # the releases list's rows

    def compose(self) -> ComposeResult:
        yield StatusLine(id="header", classes="header")
        with Horizontal(id="top"):
            with Vertical(id="left"):
                yield Static(self.session.t("dash.releases"), classes="title")
                yield OptionList(id="releases")
            with Vertical(id="right"):
                yield Static(self.session.t("dash.timeline"), classes="title")
                yield Timeline(id="timeline")
                yield Static(classes="title", id="open-title")
                yield Static(id="open")
                yield Static(self.session.t("dash.recent"), classes="title", id="recent-title")
                yield Static(id="recent")
        yield StatusLine(id="window")
        yield StatusLine(id="audit")
        yield StatusLine(id="next")
        yield StatusLine(id="health")
        yield KeyBar(id="keys")

    def on_mount(self) -> None:
        self.query_one("#releases", OptionList).focus()
        ahead = self.first.take(self.cockpit.take_read_ahead())
        if self.first.config_error is not None:  # nothing to draw: the app ends with its line
            self.cockpit.end_with(self.first.config_error)
            return
        self._draw()  # the lines' labels and the keys in the first frame, and its data if read
        if ahead is not None and ahead.shown is not None:
            self._highlight(ahead.shown)
        self.set_interval(1.0, self._show_health)  # the ages move on; the values arrive
        self.call_after_refresh(self.first.drawn.set)

    def on_screen_suspend(self) -> None:
        self.health.pause()  # the screen on top samples for itself

    def on_screen_resume(self) -> None:
        self.health.resume()

    def on_unmount(self) -> None:
        self.health.stop()

    def on_resize(self) -> None:
        self.set_class(self.size.width >= 120, "-wide")
        self._draw()

    @work(thread=True, exclusive=True, group="verify")
    def verify_chain(self) -> None:
        """Verify what is new since the last run (since the head a verify of this log last
        found intact, remembered beside the checkpoint, the first time; the whole chain when
        none is): a dashboard left open while the log grows re-reads only the new rows.
        ``cockpit audit verify`` walks all of it again."""
        store = self.session.store
        try:
            report = store.verify(since=self.verified or store.last_verified())
        except Exception as exc:  # the log cannot be read now: the audit line must not vouch
            self.verifying = False
            self.say_unreadable(exc, self._set_chain)
            return
        self.verified_seq = report.head_seq
        self.verifying = False
        if report.ok:
            self.verified = (report.head_seq, report.head_hash)
            text = self.session.t("dash.chain_ok", seq=report.head_seq)
        else:
            first = report.findings[0]
            text = self.session.t("dash.chain_bad", seq=first.seq, code=first.code)
        self.app.call_from_thread(self._set_chain, text)

    def _set_chain(self, text: str) -> None:
        self.chain = text
        self._show_window()

    def _recent_rows(self) -> int:
        return recent_rows(self.size.height)

    def before_load(self) -> None:
        self.first.before_load(functools.partial(self.app.call_from_thread, self._show_ahead))

    def _show_ahead(self, view: DashView) -> None:
        """Draw the view read ahead (from the first view's thread) unless a load was drawn
        first."""
        if self.is_attached and not self._loaded_once:
            self.first.view = view
            self._draw()  # (not at another size: the terminal was resized meanwhile)
            if self._drawn is view and view.shown is not None:
                self._highlight(view.shown)

    def load_failed(self, said: str) -> None:
        self.first.after_load = None  # (what was pressed meanwhile: the failure says why not)
        super().load_failed(said)
        self._draw()  # what is known without the log (the window, from the config); keys refused

    def load(self) -> Read:
        """Read the log off the UI thread (the first frame is drawn before the store opens)."""
        return read_dashboard(self.session, self.cockpit.release_id, self._recent_rows())

    def _load_release(self, release_id: str, rows: int, *, rehearsal: bool = True) -> Loaded:
        return load_release(self.session, release_id, rows, rehearsal=rehearsal)

    @work(thread=True, exclusive=True, group="dashboard-complete", exit_on_error=False)
    def complete_release(self, checklist: Checklist) -> None:
        """What the first load left out, once its data is drawn: the release's rehearsal line
        (it works out every T-0 step's run) and the Health line's sampler."""
        line = rehearsal_line(self.session, checklist)
        self._watch_health(checklist.release)
        self.app.call_from_thread(self._show_rehearsed, checklist.release.id, line)

    def _show_rehearsed(self, release_id: str, line: str) -> None:
        if release_id in self.loaded:
            checklist, recent, _ = self.loaded[release_id]
            self.loaded[release_id] = checklist, recent, line
        if self.is_attached and self._showing == release_id:
            self.rehearsed = line
            self._draw()

    @work(thread=True, exclusive=True, group="health-watch", exit_on_error=False)
    def watch_health_of(self, release: Release) -> None:
        self._watch_health(release)

    def _watch_health(self, release: Release) -> None:
        """Sample the release's environment for the Health line (off the UI thread)."""
        session = self.session
        self.health.watch(session.loaded, release.environment, session.store, release.id)

    def show(self, data: Read) -> None:
        releases, loaded, head, self.failing = data
        self.read_head = head
        self.loaded.clear()  # the log grew: what was read of other releases is old news
        self.first.loaded()  # (what was read ahead is older still)
        self.releases = releases
        self.checklist, self.recent, self.rehearsed = (
            loaded if loaded is not None else (None, [], "")
        )
        self._draw()
        if loaded is not None:
            checklist = loaded[0]
            self.loaded[checklist.release.id] = loaded
            self.cockpit.release_id = checklist.release.id
            self._highlight(checklist.release.id)
        # Verify whenever the log has grown, so the audit line never vouches for old news; and
        # read what the first load left out. Both once this frame is drawn: their threads would
        # otherwise take turns with the UI thread while it draws the data.
        if head != self.verified_seq and not self.verifying:
            self.verifying = True
            self.call_after_refresh(self.verify_chain)
        if loaded is not None and loaded[2] is None:
            self.call_after_refresh(self.complete_release, loaded[0])
        action = self.first.deferred()  # pressed while the view read ahead was shown
        if action is not None and self.checklist is not None and self.app.screen is self:
            getattr(self, f"action_{action}")()

    def _highlight(self, release_id: str) -> None:
        """Put the releases list's cursor on ``release_id`` (drawn already: no load)."""
        ids = [rid for _label, rid in self._listed or []]
        if release_id in ids and self.query_one("#releases", OptionList).highlighted != (
            index := ids.index(release_id)
        ):
            self._showing = release_id  # the highlight below needs no load
            self.query_one("#releases", OptionList).highlighted = index

    def _list_releases(self, rows: list[tuple[str, str]]) -> None:
        """The releases list, built again only when its rows changed (a release opened or
        closed, the width crossed 120 columns: each with its T-0 then, the zone switched)."""
        if rows == self._listed:
            return
        options = self.query_one("#releases", OptionList)
        keep = options.highlighted
        self._listed = rows
        options.clear_options()
        options.add_options(
            [Option(label, id=release_id) for label, release_id in rows]
            or [Option(self.session.t("dash.no_releases"), disabled=True)]
        )
        if keep is not None and rows:
            options.highlighted = min(keep, len(rows) - 1)

    @work(thread=True, exclusive=True, group="dashboard-select", exit_on_error=False)
    def select_release(self, release_id: str, rows: int) -> None:
        try:
            loaded = self._load_release(release_id, rows)
        except Exception as exc:
            self.say_unreadable(exc)
            return
        self._watch_health(loaded[0].release)
        self.app.call_from_thread(self._show_release, release_id, loaded)

    def _show_release(self, release_id: str, loaded: Loaded) -> None:
        self.loaded[release_id] = loaded
        if self.is_attached and self._showing == release_id:
            self.checklist, self.recent, self.rehearsed = loaded
            self._draw()

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        """The cursor moved: draw the release when it is already read, else read it in a
        worker (the key handler only moves the cursor and draws)."""
        release_id = event.option.id
        if not release_id or release_id == self._showing:
            return
        self._showing = self.cockpit.release_id = release_id
        if release_id in self.loaded:
            self.checklist, self.recent, self.rehearsed = self.loaded[release_id]
            self.watch_health_of(self.checklist.release)  # its environment's, not the last one's
            self._draw()
        else:
            self.select_release(release_id, self._recent_rows())

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.action_open()

    def _draw(self) -> None:
        self._apply(self._view())

    def _view(self) -> DashView:
        """What to draw now: from what the loads read, or, before the first load is drawn, the
        view read ahead (at this size)."""
        ahead, size = self.first.view, self.size
        if ahead is not None and (ahead.width, ahead.height) == (size.width, size.height):
            return ahead
        loaded = (self.checklist, self.recent, self.rehearsed) if self.checklist else None
        return dashboard_view(
            self.session,
            self.releases if self._loaded_once else None,
            loaded,
            self.failing,
            width=size.width,
            height=size.height,
            recent_height=self.query_one("#recent", Static).size.height,
        )

    def _apply(self, view: DashView) -> None:
        """Put ``view`` in the widgets (each is drawn again only when what it shows changed)."""
        self._drawn = view
        header = self.query_one("#header", StatusLine)
        header.set_text(self.header_line(view.shown, view.header))
        header.set_class(view.rehearsal, "rehearsal")
        if view.releases is not None:
            self._list_releases(view.releases)
        timeline = self.query_one("#timeline", Timeline)
        timeline.show_rows(view.rows, title_cells=view.title_cells, bar=view.bar)
        self.query_one("#next", StatusLine).set_text(self._label("dash.next").append(view.next))
        title, body = self.query_one("#open-title", Static), self.query_one("#open", Static)
        title.display = body.display = view.open is not None
        if view.open is not None:
            title.update(view.open[0])
            body.update(view.open[1])
        recent = self.query_one("#recent", Static)
        if view.recent is not None:
            self.query_one("#recent-title", Static).update(view.recent[0])
            recent.update(view.recent[1])
        elif recent.content != "":  # (no repaint, no layout, for the same nothing)
            recent.update("")
        self._show_window()
        self._show_health()
        self.refresh_keys()

    def _show_health(self) -> None:
        """`` Health  CPU 95 % CRIT . Memory 3.6 % ok . updated 2s ago``: from what the Health
        line's sampler holds in memory (it samples in its own threads)."""
        if not self.is_attached or self.app.screen is not self:
            return
        label = self._label("dash.health")
        width = max(20, self.size.width - label.cell_len)
        states = self.health.states() if self.checklist is not None else None
        if self.read_head is not None:  # before the first data: nothing said, not "no source"
            label.append_text(health_text(self.session.t, states, width, lang=self.session.lang))
        if label == self._health_shown:
            return  # the same line: no frame (a key pressed now is drawn alone)
        self._health_shown = label
        self.query_one("#health", StatusLine).set_text(label)

    def _show_window(self) -> None:
        """The Window line (as last drawn) and the Audit line: the chain as verified last, and
        the notice channels failing."""
        view = self._drawn
        text = self._label("dash.window")
        if view is not None:
            text.append_text(view.window)
        self.query_one("#window", StatusLine).set_text(text)
        failing = view.failing if view is not None else ()
        audit = audit_text(self.session, self.chain, failing)
        self.query_one("#audit", StatusLine).set_text(self._label("dash.audit").append_text(audit))

    LABELS = ("dash.window", "dash.audit", "dash.next", "dash.health")

    def _label(self, key: str) -> Text:
        return line_label(self.session.t, key, self.LABELS)

    def refusal(self, action: str, parameters: tuple[object, ...]) -> str | None:
        if action in {"open", "tag", "deploy", "metrics"} and self.checklist is None:
            if self._loaded_once:
                return self.session.t("dash.no_releases")
            # A release drawn from the view read ahead: the key acts once the load is in.
            showing = self.first.showing(self._drawn) and not self._failed
            return None if showing else self._failed or self.session.t("dash.reading")
        return None

    def _not_read(self, action: str) -> bool:
        """No checklist to act on: none (nothing done), or not read here yet while the view
        read ahead shows its release (``action`` is done once the load is drawn)."""
        if self.checklist is not None:
            return False
        if self.first.showing(self._drawn) and not self._loaded_once:
            self.first.after_load = action
        return True

    def action_down(self) -> None:
        self.query_one("#releases", OptionList).action_cursor_down()

    def action_up(self) -> None:
        self.query_one("#releases", OptionList).action_cursor_up()

    def action_open(self) -> None:
        if self._not_read("open") or self.checklist is None:
            return
        upcoming = self.checklist.next_item()
        phase_id = upcoming[0].id if upcoming else self.checklist.plan.plan.phases[-1].id
        self.cockpit.open_screen("checklist", self.checklist.release.id, phase_id)

    def action_tag(self) -> None:
        if self._not_read("tag") or self.checklist is None:
            return
        from cockpit.tagging import tag_item

        item = tag_item(self.checklist)
        if item is None:
            self.notify(self.session.t("tag.no_step", plan=self.checklist.plan.plan.name))
            return
        self.cockpit.open_screen("tagging", self.checklist.release.id, item.id)

    def action_deploy(self) -> None:
        if self._not_read("deploy") or self.checklist is None:
            return
        self.cockpit.open_screen("runbook", self.checklist.release.id)

    def action_metrics(self) -> None:
        if self._not_read("metrics") or self.checklist is None:
            return
        self.cockpit.open_screen("metrics", self.checklist.release.id)

    def action_note(self) -> None:
        from screens.decision import note_dialog

        note_dialog(self, self.checklist.release if self.checklist else None)
