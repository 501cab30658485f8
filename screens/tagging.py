"""Tagging: the suggested version and why, the preflight list, the tag message, confirm, progress.

Opened from the release plan's tag step. Looking (the preflight) changes nothing and runs in a
worker; the tag is made only after the operator confirms a question naming it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static

from cockpit.checklist import load_checklist
from cockpit.errors import CockpitError
from screens.common import CockpitScreen
from screens.keys import bindings
from widgets.keybar import KeyBar
from widgets.statusline import StatusLine

if TYPE_CHECKING:
    from cockpit.checklist import Checklist
    from cockpit.session import Session
    from cockpit.tagging import Prepared
    from cockpit.versioning import Bump


def label(text: str, width: int = 11) -> str:
    """`` Version    ``: a label padded to ``width`` terminal cells (Japanese is double-wide)."""
    return " " + text + " " * max(1, width - cell_len(text))


def check_name(session: Session, name: str) -> str:
    """A preflight check's name (``tag free``) in the UI language, padded to 11 cells."""
    text = session.t("pre.name." + name.replace(" ", "_"))
    return text + " " * max(1, 11 - cell_len(text))


class TaggingScreen(CockpitScreen):
    CSS_PATH = "tagging.tcss"
    BINDINGS: ClassVar[list[BindingType]] = bindings("tagging")
    KEYS = "tagging"

    def __init__(self, release_id: str, item_id: str) -> None:
        super().__init__()
        self.release_id = release_id
        self.item_id = item_id
        self.checklist: Checklist | None = None
        self.prep: Prepared | None = None
        self.bump: Bump | None = None
        self.pre: str | None = None
        self.busy = False
        self.progress: list[str] = []
        self.result = ""
        self.error = ""  # the preflight could not be made
        self.failure = ""  # tagging or pushing failed

    def compose(self) -> ComposeResult:
        yield StatusLine(id="header", classes="header")
        yield StatusLine(id="title")
        with VerticalScroll(id="body"):
            yield Static(id="plan")
        yield Static(id="progress")
        yield KeyBar(id="keys")

    def on_mount(self) -> None:
        self.look()

    # ------------------------------------------------------------------ looking

    # The header and the plan's state only: the preflight contacts the remote, so it runs
    # when the screen opens, when the version changes and after tagging, not on every tick.
    def load(self) -> Checklist:
        return load_checklist(self.session.store, self.release_id)

    def show(self, data: Checklist) -> None:
        self.checklist = data
        self._draw()

    @work(thread=True, exclusive=True, group="look", exit_on_error=False)
    def look(self) -> None:
        from cockpit.tagging import prepare
        from cockpit.versioning import TagRequest

        session = self.session
        self.busy = True
        self.app.call_from_thread(self._draw)
        try:
            self.prep = prepare(
                session,
                TagRequest(bump=self.bump, pre=self.pre, push=self._push()),
                release_text=self.release_id,
            )
            self.error = ""
        except CockpitError as exc:
            self.prep = None
            self.error = exc.text(self.session.lang)
        finally:
            self.busy = False
            self.app.call_from_thread(self._draw)

    def _push(self) -> bool:
        from cockpit.plan import StepItem, TagRun

        if self.checklist is None:
            return True
        item = self.checklist.plan.plan.item(self.item_id)
        return isinstance(item, StepItem) and isinstance(item.run, TagRun) and item.run.push

    # ------------------------------------------------------------------ drawing

    def _draw(self) -> None:
        session = self.session
        if self.checklist is None:
            return
        self.query_one("#header", StatusLine).set_text(self.header_text(self.checklist))
        first, second = self.titles(self.checklist.plan.plan.item(self.item_id))
        title = Text(f" {first} ", style="bold")
        state = self.checklist.state(self.item_id)
        title.append(f" {session.t('status.' + state.status.value)}  ")
        if self.checklist.release.rehearsal:
            title.append("REHEARSAL", style="reverse")
            title.append("  ")
        title.append(second, style="dim")
        self.query_one("#title", StatusLine).set_text(title)
        self.query_one("#plan", Static).update(self._plan_text())
        progress = Text()
        for line in self.progress[-3:]:
            progress.append(" " + line + "\n", style="dim")
        if self.result:
            progress.append(" " + self.result, style="bold")
        for problem in (self.error, self.failure):
            if problem:
                progress.append(" " + session.t("msg.failed", why=problem), style="bold red")
        self.query_one("#progress", Static).update(progress)
        self.refresh_keys()

    def _plan_text(self) -> Text:
        session, prep = self.session, self.prep
        text = Text()
        if prep is None:
            text.append(
                " " + session.t("tag.looking" if self.busy or not self.error else "tag.none")
            )
            return text
        plan = prep.plan
        text.append(label(session.t("tag.version")), style="bold")
        text.append(f"{plan.version}", style="bold")
        text.append(f"  {plan.tag}  {plan.said_why(session.lang)}\n")
        if plan.suggestion is not None:
            text.append(label(session.t("tag.commits")), style="bold")
            text.append(plan.suggestion.describe(session.lang) + "\n")
            for c in plan.suggestion.deciding[:5]:
                text.append(f"   {c.sha[:7]} {c.subject}\n", style="dim")
        where = plan.branch or session.t("tag.detached")
        text.append(label(session.t("tag.commit")), style="bold")
        text.append(f"{plan.commit[:12]} ({where}) -> {plan.remote}\n")
        text.append(" " + session.t("tag.preflight") + "\n", style="bold")
        for check in plan.checks:
            style = "" if check.ok else "bold"
            text.append(f"  {check.mark} {check_name(session, check.name)}", style=style)
            text.append(
                check.say(session.lang) + "\n",
                style="dim" if check.ok and not check.warning else "",
            )
        if plan.todo in {"create", "remake"}:
            changelog = prep.env.git.changelog
            if changelog:
                text.append(label(session.t("tag.changelog")), style="bold")
                text.append(session.t("tag.changelog_what", file=changelog, version=plan.version))
                text.append("\n")
            text.append(" " + session.t("tag.message", tag=plan.tag) + "\n", style="bold")
            for line in prep.message(None).splitlines():
                text.append("  | " + line + "\n", style="dim")
        return text

    def key_label(self, key_id: str) -> str:
        if key_id != "tagging.tag":
            return super().key_label(key_id)
        todo = self.prep.plan.todo if self.prep else "create"
        label = {"push": "tag.act_push", "nothing": "tag.act_nothing"}.get(todo, "tag.act_tag")
        return self.session.t(label)

    def refusal(self, action: str, parameters: tuple[object, ...]) -> str | None:
        if action == "tag":
            prep = self.prep
            if self.busy or prep is None or (prep.ok and prep.plan.todo == "nothing"):
                return ""
            if not prep.ok:
                failed = prep.plan.checks[0] if prep.refusal else next(iter(prep.plan.failed), None)
                lang = self.session.lang
                return (
                    failed.say(lang)
                    if prep.refusal and failed
                    else (
                        f"{check_name(self.session, failed.name).strip()}: {failed.say(lang)}"
                        if failed
                        else ""
                    )
                )
            return None
        if action in {"choose", "back"} and self.busy:
            return ""  # the preflight or the tag is being made
        return None

    # ------------------------------------------------------------------ actions

    def action_down(self) -> None:
        self.query_one("#body", VerticalScroll).scroll_relative(y=1, animate=False)

    def action_up(self) -> None:
        self.query_one("#body", VerticalScroll).scroll_relative(y=-1, animate=False)

    def action_back(self) -> None:
        if not self.busy:
            self.app.pop_screen()

    def action_choose(self, bump: Bump | None, pre: str | None) -> None:
        if self.busy:
            return
        self.bump, self.pre = bump, pre
        self.result = self.failure = ""
        self.look()

    def action_tag(self) -> None:
        prep = self.prep
        why = self.refusal("tag", ())
        if why is not None or prep is None:
            if why:
                self.notify(self.session.t("msg.refused", why=why), severity="warning")
            return
        from screens.decision import ConfirmScreen, production_name

        plan = prep.plan
        key = "tag.confirm_push" if prep.request.push else "tag.confirm"
        if plan.todo == "push":
            key = "tag.confirm_resume"
        question = self.session.t(
            key,
            tag=plan.tag,
            commit=plan.commit[:12],
            branch=plan.branch or "",
            remote=plan.remote,
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self.run_tag()

        name = production_name(self.session, prep.release) if prep.release else None
        self.app.push_screen(ConfirmScreen(question, type_name=name), answered)

    @work(thread=True, exclusive=True, group="tag", exit_on_error=False)
    def run_tag(self) -> None:
        from cockpit.tagging import execute

        session, prep = self.session, self.prep
        assert prep is not None
        self.busy = True
        self.progress, self.result, self.failure = [], "", ""

        def say(line: str) -> None:
            self.progress.append(line)
            self.app.call_from_thread(self._draw)

        try:
            event = execute(session, prep, progress=say)
            self.result = session.t("msg.recorded", seq=event.seq, action=event.action)
        except CockpitError as exc:
            self.failure = exc.text(self.session.lang)
        finally:
            self.busy = False
            self.app.call_from_thread(self.reload)
            self.app.call_from_thread(self.look)
