"""Dashboard: where we are (releases, phases, window), what is next, whether the log is intact."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from screens.common import CockpitScreen, window_text
from screens.dashboard_view import (
    next_item_text,
    open_items,
    phase_rows,
    recent_text,
    rehearsal_line,
)
from screens.health import HealthWatch, health_text
from screens.keys import bindings
from widgets.keybar import KeyBar
from widgets.statusline import StatusLine
from widgets.timeline import Timeline

if TYPE_CHECKING:
    # The engine's checklist and plan loader (PyYAML, msgspec) are imported by the loading
    # worker, while the first frame is drawn.
    from cockpit.checklist import Checklist
    from cockpit.events import Event
    from cockpit.release import Release

    # A release's checklist and its latest events, each with who (claimed unless signed).
    # A release's checklist, its latest events with who, and its rehearsal line.
    # A release's checklist, its latest events with who made each, its rehearsal line (None:
    # not read yet; the first load leaves it to a worker after the data is drawn).
    Loaded = tuple[Checklist, list[tuple[Event, str]], str | None]


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
        self._draw()  # the lines' labels and the keys in the first frame (no data yet)
        self.set_interval(1.0, self._show_health)  # the ages move on; the values arrive

    def on_screen_suspend(self) -> None:
        self.health.pause()  # the screen on top samples for itself

    def on_screen_resume(self) -> None:
        self.health.resume()

    def on_unmount(self) -> None:
        self.health.stop()

    def on_resize(self) -> None:
        self.set_class(self.size.width >= 120, "-wide")
        if self.releases:
            self._list_releases(self.releases, force=True)
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
        return max(self.size.height - 14, 3)

    def load(self) -> tuple[list[Release], Loaded | None, int, list[str]]:
        """Read the log off the UI thread (the first frame is drawn before the store opens)."""
        store = self.session.store
        head = store.head()[0]
        releases = [r for r in store.releases() if r.status == "open"]
        ids = [r.id for r in releases]
        chosen = (
            self.cockpit.release_id if self.cockpit.release_id in ids else (ids[0] if ids else None)
        )
        # What the first frame with data needs; the rehearsal line and the Health line's sampler
        # follow in a worker once it is drawn (complete_release).
        rows = self._recent_rows()
        loaded = self._load_release(chosen, rows, rehearsal=False) if chosen else None
        failing: list[str] = []
        if self.session.loaded.config.notify.channels:
            from cockpit.notify import failing_channels

            failing = failing_channels(store)
        return releases, loaded, head, failing

    def _load_release(self, release_id: str, rows: int, *, rehearsal: bool = True) -> Loaded:
        """A release's checklist, its latest decisions, each with who made it (claimed unless
        signed: the signature is checked here, off the UI thread), and its rehearsal line (not
        read without ``rehearsal``)."""
        from cockpit.checklist import load_checklist
        from cockpit.identity import shown_actor

        session = self.session
        store = session.store
        checklist = load_checklist(store, release_id)
        events = store.events(release_id=release_id, last=rows)
        recent = [(ev, shown_actor(ev, store.signers, session.lang, short=True)) for ev in events]
        return checklist, recent, rehearsal_line(session, checklist) if rehearsal else None

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
            self._show_window()

    @work(thread=True, exclusive=True, group="health-watch", exit_on_error=False)
    def watch_health_of(self, release: Release) -> None:
        self._watch_health(release)

    def _watch_health(self, release: Release) -> None:
        """Sample the release's environment for the Health line (off the UI thread)."""
        session = self.session
        self.health.watch(session.loaded, release.environment, session.store, release.id)

    def show(self, data: tuple[list[Release], Loaded | None, int, list[str]]) -> None:
        releases, loaded, head, self.failing = data
        self.read_head = head
        self.loaded.clear()  # the log grew: what was read of other releases is old news
        options = self.query_one("#releases", OptionList)
        self._list_releases(
            releases, force=[r.id for r in releases] != [r.id for r in self.releases]
        )
        self.releases = releases
        self.checklist, self.recent, self.rehearsed = (
            loaded if loaded is not None else (None, [], "")
        )
        if loaded is not None:
            checklist = loaded[0]
            self.loaded[checklist.release.id] = loaded
            self.cockpit.release_id = checklist.release.id
            highlighted = [r.id for r in releases].index(checklist.release.id)
            if options.highlighted != highlighted:
                self._showing = checklist.release.id  # the highlight below needs no load
                options.highlighted = highlighted
        self._draw()
        # Verify whenever the log has grown, so the audit line never vouches for old news; and
        # read what the first load left out. Both once this frame is drawn: their threads would
        # otherwise take turns with the UI thread while it draws the data.
        if head != self.verified_seq and not self.verifying:
            self.verifying = True
            self.call_after_refresh(self.verify_chain)
        if loaded is not None and loaded[2] is None:
            self.call_after_refresh(self.complete_release, loaded[0])

    def _list_releases(self, releases: list[Release], *, force: bool) -> None:
        """The releases list; from 120 columns with each one's T-0 (the list is wider)."""
        options = self.query_one("#releases", OptionList)
        if not force and options.option_count:
            return
        session = self.session
        wide = self.size.width >= 120
        keep = options.highlighted
        options.clear_options()
        options.add_options(
            [
                Option(
                    f"{r.version:<8} {r.plan:<9} {r.environment:<11}"
                    + (f" T-0 {session.times.show(r.t0_at(), 'day')}" if wide else ""),
                    id=r.id,
                )
                for r in releases
            ]
            or [Option(session.t("dash.no_releases"), disabled=True)]
        )
        if keep is not None and releases:
            options.highlighted = min(keep, len(releases) - 1)

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
        session = self.session
        checklist = self.checklist
        self.query_one("#header", StatusLine).set_text(self.header_text(checklist))
        self.query_one("#header", StatusLine).set_class(
            bool(checklist and checklist.release.rehearsal), "rehearsal"
        )
        rows = phase_rows(session, checklist) if checklist is not None else []
        next_text = self._label("dash.next")
        if checklist is not None:
            next_text.append(next_item_text(session, checklist))
        bar = 10 if self.size.width >= 100 else 6
        # The phases' titles get what the right column has beyond the bar, counts and due date.
        # (The right column is what the releases list leaves: dashboard.tcss's #left widths.
        # Not #right's size: a draw may come before the layout that a resize brings.)
        right = self.size.width - (self.LEFT_WIDE if self.size.width >= 120 else self.LEFT)
        title_cells = max(14, min(48, right - bar - 33))
        self.query_one("#timeline", Timeline).show_rows(rows, title_cells=title_cells, bar=bar)
        self.query_one("#next", StatusLine).set_text(next_text)
        self._show_open()
        self._show_recent()
        self._show_window()
        self._show_health()
        self.refresh_keys()

    LEFT, LEFT_WIDE = 28, 44  # the releases list's width (dashboard.tcss), from 120 columns

    # The open items are listed from this terminal height, in half the rows beyond it.
    OPEN_FROM_HEIGHT = 30

    def _show_open(self) -> None:
        """From 30 rows: the items not settled yet from the current phase on, in plan order
        (marker, phase, title, the other language's title, kind), as many as half the rows the
        terminal has beyond the fixed lines: the next few are in sight, not only the next."""
        title, body = self.query_one("#open-title", Static), self.query_one("#open", Static)
        upcoming = self.checklist.next_item() if self.checklist is not None else None
        shown = upcoming is not None and self.size.height >= self.OPEN_FROM_HEIGHT
        title.display = body.display = shown
        if not shown or upcoming is None or self.checklist is None:
            return
        phases = self.checklist.plan.plan.phases
        rows = max(3, (self.size.height - 22 - len(phases)) // 2)
        heading, lines = open_items(self.session, self.checklist, upcoming[0], rows)
        title.update(heading)
        body.update(lines)

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

    def _show_recent(self) -> None:
        """The latest decisions of this release: who did what (claimed unless signed), and why."""
        recent = self.query_one("#recent", Static)
        if self.checklist is None:
            if recent.content != "":  # (no repaint, no layout, for the same nothing)
                recent.update("")
            return
        # As many as the list has rows for now: the newest always in sight.
        shown = self.recent[-(recent.size.height or self._recent_rows()) :]
        # From 120 columns an item's title follows its id: what was done, in words.
        wide = self.size.width >= 120
        # The heading names the zone once (``Recent decisions (JST)``): the rows keep their room.
        zone = self.session.times.common_zone([ev.recorded_at for ev, _who in shown])
        heading = self.session.t("dash.recent") + (f" ({zone})" if zone else "")
        self.query_one("#recent-title", Static).update(heading)
        recent.update(recent_text(self.session, self.checklist, shown, titles=wide, zone=zone))

    def _show_window(self) -> None:
        session = self.session
        text = self._label("dash.window")
        plan = self.checklist.plan.plan.name if self.checklist is not None else ""
        if session.loaded_yet is not None:  # the first frame comes before a worker reads it
            text.append(window_text(session, plan))
        if self.checklist is not None and self.checklist.release.rehearsal:
            text.append("  (" + session.t("list.timing") + ")", style="dim")
        if self.rehearsed:
            text.append("  " + self.rehearsed)
        self.query_one("#window", StatusLine).set_text(text)
        audit = self._label("dash.audit")
        audit.append(self.chain or "...")
        if self.failing:
            names = ", ".join(self.failing)
            audit.append("  " + session.t("dash.notify_failing", names=names), style="bold red")
        self.query_one("#audit", StatusLine).set_text(audit)

    LABELS = ("dash.window", "dash.audit", "dash.next", "dash.health")

    def _label(self, key: str) -> Text:
        """`` Window  ``: the lines' labels padded to one width (in cells), so their text
        starts in one column in either language."""
        t = self.session.t
        width = max(cell_len(t(k)) for k in self.LABELS) + 2
        return Text(" " + t(key) + " " * (width - cell_len(t(key))), style="bold")

    def refusal(self, action: str, parameters: tuple[object, ...]) -> str | None:
        if action in {"open", "tag", "deploy", "metrics"} and self.checklist is None:
            return self.session.t("dash.no_releases")
        return None

    def action_down(self) -> None:
        self.query_one("#releases", OptionList).action_cursor_down()

    def action_up(self) -> None:
        self.query_one("#releases", OptionList).action_cursor_up()

    def action_open(self) -> None:
        if self.checklist is None:
            return
        upcoming = self.checklist.next_item()
        phase_id = upcoming[0].id if upcoming else self.checklist.plan.plan.phases[-1].id
        self.cockpit.open_screen("checklist", self.checklist.release.id, phase_id)

    def action_tag(self) -> None:
        if self.checklist is None:
            return
        from cockpit.tagging import tag_item

        item = tag_item(self.checklist)
        if item is None:
            self.notify(self.session.t("tag.no_step", plan=self.checklist.plan.plan.name))
            return
        self.cockpit.open_screen("tagging", self.checklist.release.id, item.id)

    def action_deploy(self) -> None:
        if self.checklist is None:
            return
        self.cockpit.open_screen("runbook", self.checklist.release.id)

    def action_metrics(self) -> None:
        if self.checklist is None:
            return
        self.cockpit.open_screen("metrics", self.checklist.release.id)

    def action_note(self) -> None:
        from screens.decision import note_dialog

        note_dialog(self, self.checklist.release if self.checklist else None)
