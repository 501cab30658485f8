"""Audit log: newest last, follows the tail, ``/`` filters, ``v`` verifies the chain and the
signatures. An actor not verified by a signature is shown as claimed."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.widgets import Input

from cockpit.audit_export import format_event_line
from screens.common import CockpitScreen
from screens.keys import bindings
from widgets.auditview import AuditView
from widgets.keybar import KeyBar
from widgets.statusline import StatusLine


class AuditScreen(CockpitScreen):
    CSS_PATH = "audit.tcss"
    BINDINGS: ClassVar[list[BindingType]] = bindings("audit")
    KEYS = "audit"
    HIDDEN = frozenset({"audit"})  # already here

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.last_seq = 0
        self.query_text = ""
        self.verdict = ""
        self.rehearsal = False

    def compose(self) -> ComposeResult:
        yield StatusLine(id="header", classes="header")
        yield AuditView(id="log")
        yield Input(id="filter", placeholder=self.session.t("audit.filter"))
        yield KeyBar(id="keys")

    def on_mount(self) -> None:
        self.query_one("#filter", Input).display = False
        self.query_one("#log", AuditView).focus()
        self.refresh_keys()

    def load(self) -> tuple[int, int, list[str], bool]:
        """Read only the events after the last one shown (the log only grows), with their
        lines (signatures checked here, off the UI thread), and whether the release is a
        rehearsal."""
        store, lang, after = self.session.store, self.session.lang, self.last_seq
        release_id = self.cockpit.release_id
        rehearsal = self.rehearsal
        if release_id and not after:
            found = store.releases(release_id)
            rehearsal = bool(found and found[0].rehearsal)
        new = store.events(after_seq=after)
        lines = [format_event_line(ev, store.signers, lang) for ev in new]
        return after, new[-1].seq if new else after, lines, rehearsal

    def show(self, data: tuple[int, int, list[str], bool]) -> None:
        after, last, lines, self.rehearsal = data
        if after != self.last_seq:
            return  # read from an older point: the next load has it
        if lines:
            self.lines.extend(lines)
            self.last_seq = last
            self._show()
        elif not self.lines:
            self._show()

    def _show(self) -> None:
        needle = self.query_text.lower()
        shown = [line for line in self.lines if needle in line.lower()] if needle else self.lines
        self.query_one("#log", AuditView).set_lines(shown)
        header = Text(" " + self.session.t("audit.title") + "  ", style="bold")
        if self.rehearsal:
            header.append("REHEARSAL", style="reverse")
            header.append("  ")
        header.append(self.session.t("audit.count", shown=len(shown), total=len(self.lines)))
        if needle:
            header.append(f"  /{self.query_text}")
        if self.verdict:
            header.append("   " + self.verdict)
        self.query_one("#header", StatusLine).set_text(header)

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.focus()

    @on(Input.Changed, "#filter")
    def filter_changed(self, event: Input.Changed) -> None:
        self.query_text = event.value.strip()
        self._show()

    @on(Input.Submitted, "#filter")
    def filter_done(self, _event: Input.Submitted) -> None:
        self.query_one("#log", AuditView).focus()

    def action_down(self) -> None:
        self.query_one("#log", AuditView).scroll_down()

    def action_up(self) -> None:
        self.query_one("#log", AuditView).scroll_up()

    def action_back(self) -> None:
        # esc clears an active filter first, then leaves the screen.
        box = self.query_one("#filter", Input)
        if box.has_focus or box.value:
            box.value = ""
            box.display = False
            self.query_one("#log", AuditView).focus()
            return
        self.app.pop_screen()

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
