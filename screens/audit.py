"""Audit log: newest last, follows the tail, ``/`` filters, ``v`` verifies the chain and the
signatures. An actor not verified by a signature is shown as claimed.

The event under the cursor is shown in full (:mod:`screens.audit_view`): beside the list from
160 columns, below it from 120, and at 80 columns in place of the list on enter (esc goes
back). Times are the cockpit's (:mod:`cockpit.timefmt`): the window's zone, UTC on ``Z``."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import Static
from textual.worker import get_current_worker

from cockpit.audit_export import event_line, event_line_rest
from screens.audit_view import detail_text
from screens.filtering import FilteringScreen
from screens.keys import bindings
from widgets.auditview import AuditView
from widgets.keybar import KeyBar
from widgets.statusline import StatusLine

if TYPE_CHECKING:
    from textual import events

    from cockpit.eventdetail import EventDetail
    from cockpit.timefmt import TimeFormat

BELOW, BESIDE = 120, 160  # columns from which the detail pane stays open below / beside

# What load() reads: (after, last seq, seqs, times logged, line rests, lines, how the lines
# write times, rehearsal)
Loaded = tuple[int, int, list[int], list[str], list[str], list[str], "TimeFormat", bool]


class AuditScreen(FilteringScreen):
    CSS_PATH = "audit.tcss"
    BINDINGS: ClassVar[list[BindingType]] = bindings("audit")
    KEYS = "audit"
    HIDDEN = frozenset({"audit"})  # already here

    def __init__(self) -> None:
        super().__init__()
        # Every event read, in seq order: its seq, its time as logged, its line without the
        # time (signature checked in the worker) and its line as shown now.
        self.seqs: list[int] = []
        self.stamps: list[str] = []
        self.rests: list[str] = []
        self.lines: list[str] = []
        self.lines_times: TimeFormat | None = None  # how self.lines write times
        self.shown: list[int] = []  # indexes of the lines the filter keeps
        self.last_seq = 0
        self.verdict = ""
        self.rehearsal = False
        self.cursor_seq: int | None = None
        self.detail_open = False  # below 120 columns: enter shows the event in place of the list

    def compose(self) -> ComposeResult:
        yield StatusLine(id="header", classes="header")
        with Vertical(id="body"):
            yield AuditView(id="log")
            with VerticalScroll(id="detail"):
                yield Static(id="detail-text")
        yield self.filter_bar()
        yield KeyBar(id="keys")

    def on_mount(self) -> None:
        self.query_one("#log", AuditView).focus()
        self.refresh_keys()

    def on_resize(self, event: events.Resize) -> None:
        self._layout(event.size.width)

    def _layout(self, width: int) -> None:
        self.set_class(width >= BELOW, "-wide")
        self.set_class(width >= BESIDE, "-beside")
        self.set_class(self.detail_open and width < BELOW, "-open")
        if self._pane_shown():
            self._want_detail()

    def _pane_shown(self) -> bool:
        return self.has_class("-wide") or self.has_class("-open")

    # ------------------------------------------------------------------ reading

    def load(self) -> Loaded:
        """Read only the events after the last one shown (the log only grows), with their
        lines (signatures checked here, off the UI thread), and whether the release is a
        rehearsal."""
        store, lang, after = self.session.store, self.session.lang, self.last_seq
        times = self.session.times
        release_id = self.cockpit.release_id
        rehearsal = self.rehearsal
        if release_id and not after:
            found = store.releases(release_id)
            rehearsal = bool(found and found[0].rehearsal)
        new = store.events(after_seq=after)
        seqs = [ev.seq for ev in new]
        stamps = [ev.recorded_at for ev in new]
        rests = [event_line_rest(ev, store.signers, lang) for ev in new]
        lines = _lines(times, seqs, stamps, rests)
        return after, seqs[-1] if seqs else after, seqs, stamps, rests, lines, times, rehearsal

    def show(self, data: Loaded) -> None:
        after, last, seqs, stamps, rests, lines, times, self.rehearsal = data
        if after != self.last_seq:
            return  # read from an older point: the next load has it
        if times != self.session.times:  # Z pressed while it read: these few again
            lines = _lines(self.session.times, seqs, stamps, rests)
        if self.lines_times is None:
            self.lines_times = self.session.times
        if seqs:
            self.seqs += seqs
            self.stamps += stamps
            self.rests += rests
            self.lines += lines
            self.last_seq = last
            self._show()
        elif not self.lines:
            self._show()

    def on_screen_resume(self) -> None:
        if self.lines_times is not None and self.lines_times != self.session.times:
            self.times_changed()  # Z was pressed on a screen above this one

    def times_changed(self) -> None:
        """UTC on or off: the lines again with the new times (in a worker: the log may be
        long), the pane too."""
        self._retime(self.session.times, len(self.lines))
        self._want_detail()
        self.refresh_keys()

    @work(thread=True, exclusive=True, group="audit-retime", exit_on_error=False)
    def _retime(self, times: TimeFormat, count: int) -> None:
        lines = _lines(times, self.seqs[:count], self.stamps[:count], self.rests[:count])
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._retimed, times, lines)

    def _retimed(self, times: TimeFormat, lines: list[str]) -> None:
        if times != self.session.times:
            return  # switched again meanwhile: that worker has it
        count = len(lines)
        # Lines read meanwhile were written with the times of their own load.
        later = _lines(times, self.seqs[count:], self.stamps[count:], self.rests[count:])
        self.lines, self.lines_times = lines + later, times
        self._show()

    # ------------------------------------------------------------------ drawing

    def _show(self) -> None:
        lines = self.lines
        self.shown = self.kept(range(len(lines)), lines.__getitem__)
        view = self.query_one("#log", AuditView)
        cursor = None
        if self.cursor_seq is not None and view.cursor < view.line_count - 1:
            # Not following the tail: the cursor stays on its event if the filter keeps it.
            index = self._index_of(self.cursor_seq)
            cursor = index if index is not None else None
        view.set_lines([lines[i] for i in self.shown], cursor)
        self.show_count(len(self.shown), len(lines))
        header = Text(" " + self.session.t("audit.title") + "  ", style="bold")
        if self.rehearsal:
            header.append("REHEARSAL", style="reverse")
            header.append("  ")
        header.append(self.session.t("audit.count", shown=len(self.shown), total=len(lines)))
        if self.query_text:
            header.append(f"  /{self.query_text}")
        if self.verdict:
            header.append("   " + self.verdict)
        self.query_one("#header", StatusLine).set_text(header)

    def _index_of(self, seq: int) -> int | None:
        import bisect

        shown_seqs = [self.seqs[i] for i in self.shown]
        at = bisect.bisect_left(shown_seqs, seq)
        return at if at < len(shown_seqs) and shown_seqs[at] == seq else None

    def filter_changed(self) -> None:
        self._show()

    def filter_target(self) -> Widget:
        return self.query_one("#log", AuditView)

    @on(AuditView.CursorMoved)
    def _cursor_moved(self, event: AuditView.CursorMoved) -> None:
        index = event.index
        self.cursor_seq = self.seqs[self.shown[index]] if 0 <= index < len(self.shown) else None
        if self._pane_shown():
            self._want_detail()

    def _want_detail(self) -> None:
        if self.cursor_seq is None:
            self.query_one("#detail-text", Static).update(detail_text(self.session, None))
            return
        self._load_detail(self.cursor_seq)

    @work(thread=True, exclusive=True, group="audit-detail", exit_on_error=False)
    def _load_detail(self, seq: int) -> None:
        from cockpit.eventdetail import event_detail

        found = event_detail(self.session.store, seq)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show_detail, seq, found)

    def _show_detail(self, seq: int, found: EventDetail | None) -> None:
        if seq == self.cursor_seq and self.is_attached:
            self.query_one("#detail-text", Static).update(detail_text(self.session, found))

    # ------------------------------------------------------------------ keys

    def action_down(self) -> None:
        self.query_one("#log", AuditView).action_cursor(1)

    def action_up(self) -> None:
        self.query_one("#log", AuditView).action_cursor(-1)

    def action_detail(self) -> None:
        """enter: the pane takes the keys (the arrows scroll a long one; j/k still move
        through the events); at 80 columns it shows in place of the list. esc: back."""
        if not self.has_class("-wide"):
            self.detail_open = True
            self._layout(self.size.width)
        self.query_one("#detail", VerticalScroll).focus()

    def action_back(self) -> None:
        pane = self.query_one("#detail", VerticalScroll)
        if self.detail_open or pane.has_focus:
            self.detail_open = False
            self._layout(self.size.width)
            self.query_one("#log", AuditView).focus()
            return
        super().action_back()

    @work(thread=True, exclusive=True, group="verify")
    def action_verify(self) -> None:
        report = self.session.store.verify()
        if report.ok:
            verdict = self.session.t("audit.verify_ok", count=report.count, seq=report.head_seq)
        else:
            verdict = self.session.t("audit.verify_bad", finding=str(report.findings[0]))
        self.app.call_from_thread(self._set_verdict, verdict)

    def _set_verdict(self, verdict: str) -> None:
        self.verdict = verdict
        self._show()


def _lines(times: TimeFormat, seqs: list[int], stamps: list[str], rests: list[str]) -> list[str]:
    return [
        event_line(seq, times.show(stamp, "stamp"), rest)
        for seq, stamp, rest in zip(seqs, stamps, rests, strict=True)
    ]
