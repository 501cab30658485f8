"""Phase checklist: the items of one phase, their state, and the decisions on them."""

from __future__ import annotations

from typing import ClassVar

from rich.cells import set_cell_size
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from cockpit.actions import decide
from cockpit.checklist import (
    MARKERS,
    Checklist,
    Status,
    Why,
    actor_name,
    load_checklist,
)
from cockpit.errors import CockpitError
from cockpit.plan import (
    CheckItem,
    GateItem,
    Item,
    ManualItem,
    ShellRun,
    StepItem,
    StepRun,
    TagRun,
)
from cockpit.window import due_status, format_remaining, phase_due
from screens.common import CockpitScreen, local
from screens.keys import bindings, key_display
from widgets.keybar import KeyBar
from widgets.statusline import StatusLine

# (binding id, action name in the catalog, engine action)
ACTION_KEYS = (
    ("checklist.do", "act.do", "done"),
    ("checklist.skip", "act.skip", "skip"),
    ("checklist.approve", "act.approve", "approve"),
    ("checklist.reject", "act.reject", "reject"),
)


def describe_run(item: Item, run: StepRun | None = None) -> str:
    """What doing the item runs, in one line (the preview before it runs). ``run`` is the step's
    run in force for the release's environment (cockpit.toml may replace the plan's)."""
    if isinstance(item, CheckItem):
        probe = item.check
        args = {k: v for k, v in ((f, getattr(probe, f)) for f in probe.__struct_fields__) if v}
        shown = " ".join(
            " ".join(v) if isinstance(v, list) else f"{k}={v}" for k, v in args.items()
        )
        return f"{probe.name} {shown}".strip()
    if not isinstance(item, StepItem):
        return ""
    run = run or item.run
    if isinstance(run, ShellRun):
        return f"{run.kind}: {' '.join(run.argv)}  (timeout {run.timeout:g}s)"
    if isinstance(run, TagRun):
        return "tag: git tag + push --atomic" if run.push else "tag: git tag"
    return f"{run.kind} {getattr(run, 'action', '')}".strip()


class ChecklistScreen(CockpitScreen):
    CSS_PATH = "checklist.tcss"
    BINDINGS: ClassVar[list[BindingType]] = bindings("checklist")
    KEYS = "checklist"

    def __init__(self, release_id: str, phase_id: str) -> None:
        super().__init__()
        self.release_id = release_id
        self.phase_id = phase_id
        self.checklist: Checklist | None = None
        self.live: list[str] = []
        self.message = ""

    def compose(self) -> ComposeResult:
        yield StatusLine(id="header", classes="header")
        yield StatusLine(id="phase")
        yield OptionList(id="items")
        yield Static(id="rule")
        yield Static(id="detail")
        yield KeyBar(id="keys")

    def on_mount(self) -> None:
        self.query_one("#items", OptionList).focus()

    # ------------------------------------------------------------------ drawing

    @property
    def phase(self):  # type: ignore[no-untyped-def]
        assert self.checklist is not None
        return self.checklist.plan.plan.phase(self.phase_id)

    def reload(self) -> None:
        self.checklist = load_checklist(self.session.store, self.release_id)
        self._draw()

    def _draw(self) -> None:
        session, checklist = self.session, self.checklist
        assert checklist is not None
        release = checklist.release
        zone = session.loaded.config.change_window.timezone
        header = self.query_one("#header", StatusLine)
        header.set_text(self.header_text(checklist))
        header.set_class(release.rehearsal, "rehearsal")
        phase = self.phase
        first, second = self.titles(phase)
        done, total = checklist.progress(phase)
        due = phase_due(release.t0_at(), -phase.offset_days)
        now = session.now()
        status = due_status(due, now)
        when = local(due, zone)
        remaining = format_remaining(due - now) if due > now else ""
        # Most important first, so a narrow terminal cuts the least important: progress, the
        # rehearsal mark, then the due date.
        line = Text(f" {phase.id.upper()} {first} ", style="bold")
        line.append(f" {done}/{total}  ", style="bold")
        if release.rehearsal:
            line.append("REHEARSAL", style="reverse")
            line.append("  ")
        late = status == "overdue" and done < total and not release.rehearsal
        label = "dash.overdue" if late else "dash.due"
        line.append(session.t(label, when=when))
        if remaining:
            line.append(" " + session.t("list.in", left=remaining))
        line.append("   " + second, style="dim")
        self.query_one("#phase", StatusLine).set_text(line)

        width = self.size.width or 80
        title_cells = max(14, min(30, (width - 30) // 2))
        options = self.query_one("#items", OptionList)
        highlighted = options.highlighted
        prompts: list[Option] = []
        for item in phase.items:
            state = checklist.state(item.id)
            first, second = self.titles(item)
            text = Text(f" {MARKERS[state.status]} ", no_wrap=True, overflow="ellipsis")
            text.append(set_cell_size(first, title_cells) + " ")
            text.append(set_cell_size(second, title_cells) + " ", style="dim")
            text.append(self._state_note(item, state.status))
            prompts.append(Option(text, id=item.id))
        options.clear_options()
        options.add_options(prompts)  # one update for the whole list, not one per item
        options.highlighted = highlighted if highlighted is not None else self._first_open()
        self.query_one("#rule", Static).update("-" * max(width - 1, 10))
        self._draw_detail()

    def _first_open(self) -> int:
        assert self.checklist is not None
        for index, item in enumerate(self.phase.items):
            if self.checklist.state(item.id).status not in {
                Status.DONE,
                Status.SKIPPED,
                Status.APPROVED,
            }:
                return index
        return 0

    def _state_note(self, item: Item, status: Status) -> str:
        assert self.checklist is not None
        state = self.checklist.state(item.id)
        zone = self.session.loaded.config.change_window.timezone
        if isinstance(item, GateItem) and status in {Status.PENDING, Status.AWAITING}:
            have = len(state.valid_approvers(self.checklist.plan.sha256))
            preparer = actor_name(self.checklist.release.created_by)
            return self.session.t(
                "list.gate", have=have, need=item.approvals, role=item.role, preparer=preparer
            )
        if status is Status.SKIPPED:
            return f'skip: "{state.reason}"'
        if state.by and state.at:
            claimed = " " + self.session.t("list.claimed") if state.claimed else ""
            return f"{state.by}{claimed} {local(state.at, zone)}"
        return self.session.t("list.kind." + item.kind)

    def selected(self) -> Item | None:
        options = self.query_one("#items", OptionList)
        items: list[Item] = list(self.phase.items)
        if options.highlighted is None or not items:
            return None
        return items[options.highlighted]

    def _why_not(self, item: Item, action: str) -> str | None:
        why = self._why(item, action)
        return None if why is None else why.text(self.session.lang)

    def _why(self, item: Item, action: str) -> Why | None:
        assert self.checklist is not None
        placeholder = "x" if action in {"skip", "reject"} else None
        if action == "done" and item.requires_reason:
            placeholder = "x"
        return self.checklist.why_not(
            item.id, action, self.session.operator, self.session.loaded.config.roles, placeholder
        )

    def _draw_detail(self) -> None:
        session, checklist = self.session, self.checklist
        item = self.selected()
        detail = self.query_one("#detail", Static)
        if item is None or checklist is None:
            detail.update("")
            return
        state = checklist.state(item.id)
        first, second = self.titles(item)
        text = Text(f" {first}  ", style="bold")
        text.append(f"{second}  ", style="dim")
        text.append(session.t("list.kind." + item.kind))
        help_text = item.help_ja if session.lang == "ja" else item.help_en
        if help_text:
            text.append("\n " + help_text.strip().splitlines()[0], style="italic")
        run = describe_run(item, self._run_of(item))
        if run:
            text.append("\n " + session.t("list.runs", what=run))
        if state.by:
            zone = session.loaded.config.change_window.timezone
            text.append(
                "\n "
                + session.t(
                    "list.by",
                    status=session.t("status." + state.status.value),
                    who=state.by,
                    when=local(state.at or "", zone),
                )
            )
        if state.reason:
            text.append("  " + session.t("list.reason", reason=state.reason))
        if isinstance(item, GateItem):
            void = state.void_approvers(checklist.plan.sha256)
            if void:
                text.append("\n " + session.t("list.void", names=", ".join(void)), style="yellow")
        blocked: list[str] = []
        settled = state.status in {Status.DONE, Status.SKIPPED, Status.APPROVED}
        bound = self.bound_keys()  # the keys as bound now (a keymap may have moved them)
        for key_id, label, action in ACTION_KEYS:
            why = self._why_not(item, action)
            relevant = isinstance(item, GateItem) == (action in {"approve", "reject"})
            if why and relevant and not settled and key_id in bound:
                key = key_display(bound[key_id][0].binding.key)
                blocked.append(
                    session.t("list.not_now", keyname=key, action=session.t(label), why=why)
                )
        for line in blocked[:2]:
            text.append("\n " + line, style="dim")
        if self.live:
            text.append("\n " + "\n ".join(self.live[-3:]), style="italic")
        if self.message:
            text.append("\n " + self.message, style="green")
        detail.update(text)
        self.refresh_keys()

    def on_option_list_option_highlighted(self, _event: OptionList.OptionHighlighted) -> None:
        self._draw_detail()

    def on_option_list_option_selected(self, _event: OptionList.OptionSelected) -> None:
        self.action_do()

    # ------------------------------------------------------------------ actions

    def refusal(self, action: str, parameters: tuple[object, ...]) -> str | None:
        if action not in {"do", "decide"}:
            return None
        checklist = self.checklist
        item = self.selected() if checklist is not None else None
        if checklist is None or item is None:
            return ""
        if action == "decide":
            return self._why_not(item, str(parameters[0]))
        # What enter does (action_do): a gate approves, the tag step opens the tagging
        # screen, an interrupted step opens the runbook (resume or redo there).
        if isinstance(item, GateItem):
            return self._why_not(item, "approve")
        if isinstance(item, StepItem) and (
            isinstance(item.run, TagRun) or checklist.state(item.id).status is Status.INTERRUPTED
        ):
            return None
        return self._why_not(item, "done")

    def action_down(self) -> None:
        self.query_one("#items", OptionList).action_cursor_down()

    def action_up(self) -> None:
        self.query_one("#items", OptionList).action_cursor_up()

    def action_phase(self, step: int) -> None:
        assert self.checklist is not None
        ids = [p.id for p in self.checklist.plan.plan.phases]
        index = min(max(ids.index(self.phase_id) + step, 0), len(ids) - 1)
        self.phase_id = ids[index]
        self.query_one("#items", OptionList).highlighted = None
        self.reload()
        self.query_one("#items", OptionList).highlighted = self._first_open()

    def action_do(self) -> None:
        item = self.selected()
        if item is None:
            return
        if isinstance(item, GateItem):
            self.action_decide("approve")
            return
        if isinstance(item, StepItem) and isinstance(item.run, TagRun):
            self.cockpit.open_screen("tagging", self.release_id, item.id)
            return
        if isinstance(item, StepItem):
            interrupted = self.checklist is not None and (
                self.checklist.state(item.id).status is Status.INTERRUPTED
            )
            if not interrupted and self._refused(item, "done"):
                return

            self.cockpit.open_screen("runbook", self.release_id, item.id)
            return
        if isinstance(item, ManualItem) and not item.requires_reason:
            if self._refused(item, "done"):
                return
            self.run_decision(item.id, "done", None)
            return
        self.action_decide("done")

    def _run_of(self, item: Item) -> StepRun | None:
        if not isinstance(item, StepItem) or self.checklist is None:
            return None
        from cockpit.deploy import effective_run

        return effective_run(self.session.loaded, self.checklist.release, item)[0]

    def _refused(self, item: Item, action: str) -> bool:
        why = self._why_not(item, action)
        if why:
            self.notify(self.session.t("msg.refused", why=why), severity="warning")
            return True
        return False

    def action_decide(self, action: str) -> None:
        item = self.selected()
        if item is None or self._refused(item, action):
            return
        from screens.decision import DecisionScreen

        first, _ = self.titles(item)
        required = action in {"skip", "reject"} or (action == "done" and item.requires_reason)
        preview = describe_run(item, self._run_of(item)) if action == "done" else ""

        def chosen(reason: str | None) -> None:
            if reason is not None:
                self.run_decision(item.id, action, reason or None)

        self.app.push_screen(
            DecisionScreen(self.session.t(f"dlg.title.{action}", item=first), required, preview),
            chosen,
        )

    @work(thread=True, exclusive=True, group="decide", exit_on_error=False)
    def run_decision(self, item_id: str, action: str, reason: str | None) -> None:
        session = self.session
        self.live = []

        app = self.app  # a step's own threads have no active-app context: capture it here

        def output(line: str) -> None:
            self.live.append(line)
            app.call_from_thread(self._draw_detail)

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
            )
            # Said in the detail pane, not a toast: toasts pile up over the list when an
            # operator ticks items quickly.
            self.message = session.t("msg.recorded", seq=event.seq, action=event.action)
        except CockpitError as exc:
            self.app.call_from_thread(
                self.notify, session.t("msg.failed", why=str(exc)), severity="error"
            )
        finally:
            self.app.call_from_thread(self._after_decision, item_id)

    def _after_decision(self, item_id: str) -> None:
        options = self.query_one("#items", OptionList)
        self.reload()
        ids = [item.id for item in self.phase.items]
        current = ids.index(item_id) if item_id in ids else 0
        # Move on to the next open item, as a person ticking a paper checklist would.
        assert self.checklist is not None
        for index in range(current, len(ids)):
            if self.checklist.state(ids[index]).status not in {
                Status.DONE,
                Status.SKIPPED,
                Status.APPROVED,
            }:
                options.highlighted = index
                break
        self._draw_detail()

    def action_note(self) -> None:
        from screens.decision import note_dialog

        note_dialog(self, self.checklist.release if self.checklist else None)

    def palette_commands(self) -> list[tuple[str, str, object]]:
        t = self.session.t
        return [
            (t("act.do"), "enter", self.action_do),
            (t("act.skip"), "s", lambda: self.action_decide("skip")),
            (t("act.approve"), "a", lambda: self.action_decide("approve")),
            (t("act.reject"), "x", lambda: self.action_decide("reject")),
            (t("act.note"), "n", self.action_note),
            (t("act.back"), "esc", self.action_back),
        ]
