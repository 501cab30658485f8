"""Dashboard: where we are (releases, phases, window), what is next, whether the log is intact."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from cockpit.window import due_status, phase_due
from screens.common import CockpitScreen, local, window_text
from screens.keys import bindings
from widgets.cells import fit
from widgets.keybar import KeyBar
from widgets.statusline import StatusLine
from widgets.timeline import PhaseRow, Timeline

if TYPE_CHECKING:
    # The engine's checklist and plan loader (PyYAML, msgspec) are imported by the loading
    # worker, while the first frame is drawn.
    from cockpit.checklist import Checklist
    from cockpit.events import Event
    from cockpit.release import Release
    from cockpit.session import Session

    # A release's checklist and its latest events, each with who (claimed unless signed).
    # A release's checklist, its latest events with who, and its rehearsal line.
    Loaded = tuple[Checklist, list[tuple[Event, str]], str]


class DashboardScreen(CockpitScreen):
    CSS_PATH = "dashboard.tcss"
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
        self.rehearsed = ""  # rehearsal_line(), read with the checklist
        self.recent: list[tuple[Event, str]] = []  # the release's latest events, and who
        self.loaded: dict[str, Loaded] = {}  # releases read since the log last grew
        self._showing: str | None = None  # the release the cursor is on

    def compose(self) -> ComposeResult:
        yield StatusLine(id="header", classes="header")
        with Horizontal(id="top"):
            with Vertical(id="left"):
                yield Static(self.session.t("dash.releases"), classes="title")
                yield OptionList(id="releases")
            with Vertical(id="right"):
                yield Static(self.session.t("dash.timeline"), classes="title")
                yield Timeline(id="timeline")
                yield Static(self.session.t("dash.recent"), classes="title", id="recent-title")
                yield Static(id="recent")
        yield StatusLine(id="window")
        yield StatusLine(id="audit")
        yield StatusLine(id="next")
        yield KeyBar(id="keys")

    def on_mount(self) -> None:
        self.query_one("#releases", OptionList).focus()

    @work(thread=True, exclusive=True, group="verify")
    def verify_chain(self) -> None:
        """Verify what is new since the last run (since the head a verify of this log last
        found intact, remembered beside the checkpoint, the first time; the whole chain when
        none is): a dashboard left open while the log grows re-reads only the new rows.
        ``cockpit audit verify`` walks all of it again."""
        store = self.session.store
        report = store.verify(since=self.verified or store.last_verified())
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
        loaded = self._load_release(chosen, self._recent_rows()) if chosen else None
        failing: list[str] = []
        if self.session.loaded.config.notify.channels:
            from cockpit.notify import failing_channels

            failing = failing_channels(store)
        return releases, loaded, head, failing

    def _load_release(self, release_id: str, rows: int) -> Loaded:
        """A release's checklist, its latest decisions, each with who made it (claimed unless
        signed: the signature is checked here, off the UI thread), and its rehearsal line."""
        from cockpit.checklist import load_checklist
        from cockpit.identity import shown_actor

        session = self.session
        store = session.store
        checklist = load_checklist(store, release_id)
        events = store.events(release_id=release_id, last=rows)
        recent = [(ev, shown_actor(ev, store.signers, session.lang, short=True)) for ev in events]
        return checklist, recent, rehearsal_line(session, checklist)

    def show(self, data: tuple[list[Release], Loaded | None, int, list[str]]) -> None:
        releases, loaded, head, self.failing = data
        session = self.session
        self.loaded.clear()  # the log grew: what was read of other releases is old news
        options = self.query_one("#releases", OptionList)
        if [r.id for r in releases] != [r.id for r in self.releases] or not options.option_count:
            options.clear_options()
            options.add_options(
                [Option(f"{r.version:<8} {r.plan:<9} {r.environment}", id=r.id) for r in releases]
                or [Option(session.t("dash.no_releases"), disabled=True)]
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
        # Verify whenever the log has grown, so the audit line never vouches for old news.
        if head != self.verified_seq and not self.verifying:
            self.verifying = True
            self.verify_chain()
        self._draw()

    @work(thread=True, exclusive=True, group="dashboard-select", exit_on_error=False)
    def select_release(self, release_id: str, rows: int) -> None:
        loaded = self._load_release(release_id, rows)
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
        rows: list[PhaseRow] = []
        next_text = self._label("dash.next")
        if checklist is not None:
            t0 = checklist.release.t0_at()
            upcoming = checklist.next_item()
            now = session.now()
            zone = session.loaded.config.change_window.timezone
            for phase in checklist.plan.plan.phases:
                done, total = checklist.progress(phase)
                due = phase_due(t0, -phase.offset_days)
                status = due_status(due, now)
                # In a rehearsal the dates are advisory: nothing is ever "overdue".
                overdue = status == "overdue" and done < total and not checklist.release.rehearsal
                when = local(due, zone, "%m-%d %H:%M" if phase.offset_days == 0 else "%m-%d")
                label = session.t("dash.overdue" if overdue else "dash.due", when=when)
                title = phase.title_ja if session.lang == "ja" else phase.title_en
                rows.append(
                    PhaseRow(
                        phase.id.upper(),
                        title,
                        done,
                        total,
                        label,
                        current=upcoming is not None and upcoming[0].id == phase.id,
                        overdue=overdue,
                    )
                )
            if upcoming is None:
                next_text.append(session.t("dash.all_done"))
            else:
                phase, item = upcoming
                first, second = (
                    (item.title_ja, item.title_en)
                    if session.lang == "ja"
                    else (item.title_en, item.title_ja)
                )
                next_text.append(f"{phase.id.upper()} {first} ({second})")
        wide = self.size.width >= 100
        self.query_one("#timeline", Timeline).show_rows(
            rows, title_cells=24 if wide else 14, bar=10 if wide else 6
        )
        self.query_one("#next", StatusLine).set_text(next_text)
        self._show_recent()
        self._show_window()
        self.refresh_keys()

    def _show_recent(self) -> None:
        """The latest decisions of this release: who did what (claimed unless signed), and why."""
        from rich.cells import cell_len

        from screens.common import event_verb

        recent = self.query_one("#recent", Static)
        if self.checklist is None:
            recent.update("")
            return
        zone = self.session.loaded.config.change_window.timezone
        shown = self.recent[-self._recent_rows() :]
        lines = []
        # One column for who, as wide as its widest entry ("bob (claimed)"): actions line up.
        width = max([8, *(cell_len(name) for _, name in shown)])
        for ev, who in shown:
            # Local time, who, what, on which item, and why: the newest decisions at a glance.
            line = f" {local(ev.recorded_at, zone, '%m-%d %H:%M')} {fit(who, width)}"
            line += f" {event_verb(self.session, ev.action, 9)} {ev.subject or ''}"
            if ev.reason:
                line += f' "{ev.reason}"'
            lines.append(line)
        recent.update(Text("\n".join(lines), no_wrap=True, overflow="ellipsis"))

    def _show_window(self) -> None:
        session = self.session
        text = self._label("dash.window")
        plan = self.checklist.plan.plan.name if self.checklist is not None else ""
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

    LABELS = ("dash.window", "dash.audit", "dash.next")

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


def rehearsal_line(session: Session, checklist: Checklist | None) -> str:
    """``rehearsed 12-09 in staging: deploy 4m12s, rollback 2m40s``, or why production's T-0 is
    not covered (:mod:`cockpit.rehearsal`); a rehearsal release shows it only once passed.
    Reads the log: call it off the UI thread."""
    if checklist is None:
        return ""
    from cockpit.rehearsal import verdict
    from cockpit.window import format_remaining

    found = verdict(session.store, session.loaded, checklist)
    passed = found.passed
    if passed is None:
        if checklist.release.rehearsal:
            return ""
        return session.t("dash.not_rehearsed", why=found.problem())
    zone = session.loaded.config.change_window.timezone
    return session.t(
        "dash.rehearsed",
        day=local(passed.done_at, zone, "%m-%d") if passed.done_at else "-",
        env=passed.environment,
        deploy=format_remaining(timedelta(seconds=passed.deploy_s), session.lang),
        rollback=format_remaining(timedelta(seconds=passed.rollback_s or 0), session.lang),
    )
