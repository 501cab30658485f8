"""The Textual app: the screen registry, the command palette and navigation between screens.

The engine (``cockpit/``) never imports Textual; the CLI imports this module lazily, only when the
cockpit is opened on a terminal. Screens open one another through :meth:`CockpitApp.open_screen`
by name, so no screen imports another screen and the app imports each one only when first shown.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import importlib
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, cast

from textual import work
from textual.actions import parse
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.command import Hit, Hits, Provider
from textual.message import Message
from textual.screen import Screen

from screens.driving import DRIVEN_SCREENS, DrivingApp
from screens.keys import (
    NAVIGATION,
    TABLE,
    Key,
    apply_keymap,
    bindings,
    key_display,
    keymap_problems,
)
from screens.terminal import line_filters

if TYPE_CHECKING:
    from textual.filter import LineFilter

    from cockpit.errors import CockpitError
    from cockpit.follow import Changes, Waker
    from cockpit.readahead import ReadAhead
    from cockpit.session import Session

# Every screen the app can open, by name: "module:class", imported on first use.
SCREENS: dict[str, str] = {
    "dashboard": "screens.dashboard:DashboardScreen",
    "checklist": "screens.checklist:ChecklistScreen",
    "runbook": "screens.runbook:RunbookScreen",
    "tagging": "screens.tagging:TaggingScreen",
    "metrics": "screens.metrics:MetricsScreen",
    "audit": "screens.audit:AuditScreen",
    "help": "screens.help:HelpScreen",
}


class CockpitCommands(Provider):
    """The command palette (`:` or ctrl+p): what makes sense on the current screen."""

    async def search(self, query: str) -> Hits:
        app = self.app
        assert isinstance(app, CockpitApp)
        matcher = self.matcher(query)
        for label, help_text, callback in app.palette_commands():
            score = matcher.match(label)
            if score > 0:
                yield Hit(score, matcher.highlight(label), callback, help=help_text)


class LogChanged(Message):
    """The log changed: the app's watcher (:meth:`CockpitApp.watch_log`) says so."""


class CaughtUp(Message):
    """The watcher listens now; ``head`` is the log's head then. A screen that read less
    reloads; what comes later wakes it as it comes."""

    def __init__(self, head: int) -> None:
        super().__init__()
        self.head = head


class CockpitApp(DrivingApp):
    TITLE = "Release Cockpit"
    COMMANDS: ClassVar[set[type[Provider] | Callable[[], type[Provider]]]] = {CockpitCommands}
    ENABLE_COMMAND_PALETTE = True
    BINDINGS: ClassVar[list[BindingType]] = bindings("app")
    # The dashboard's CSS is read with the app's, parsed once as the app starts: the first
    # screen's own file would have Textual parse every stylesheet again, twice.
    CSS_PATH = Path(__file__).with_name("dashboard.tcss")  # (subclasses live elsewhere)

    def __init__(
        self,
        session: Session,
        *,
        ascii: bool = False,
        release_id: str | None = None,
        refresh_seconds: float = 2.0,
        keymap: dict[str, str] | None = None,
        readonly: bool = False,
        drive: bool = True,
        read_ahead: ReadAhead | None = None,
    ) -> None:
        """``keymap``: binding id -> keys (the ``[keys]`` table), applied when the app starts;
        ``ValueError`` (one line per problem) here, before anything is drawn. ``readonly``:
        every action that writes is refused (``cockpit follow``); ``drive``: take the lease of
        a release opened to drive (:mod:`screens.driving`)."""
        super().__init__()
        problems = keymap_problems(keymap or {})
        if problems:
            raise ValueError("\n".join(problems))
        self.keymap = dict(keymap or {})
        if self.keymap:  # before the first screen is composed: its footer shows the keys bound
            apply_keymap(self, self.keymap)
        self.session = session
        # Display preferences of this terminal: ASCII-only drawing (CJK terminals), the release
        # to open at, and how often screens re-read the log.
        self.ascii = ascii
        self.release_id = release_id
        self.refresh_seconds = refresh_seconds
        self.readonly, self.drive = readonly, drive
        self.read_ahead = read_ahead  # the first screen's view, read in a forked process
        if ascii:
            self.ansi_color = False

    def compose(self) -> ComposeResult:
        return iter(())

    def take_read_ahead(self) -> ReadAhead | None:
        """The work read ahead as the app started (:mod:`cockpit.readahead`), for the first
        screen's first load: once."""
        ahead, self.read_ahead = self.read_ahead, None
        return ahead

    # What ended the app before it could show anything (a wrong cockpit.toml, read by the
    # first screen's worker): run_app raises it, and the CLI says it in one line.
    failure: CockpitError | None = None

    def end_with(self, error: CockpitError) -> None:
        self.failure = error
        self.exit()

    def get_line_filters(self) -> Sequence[LineFilter]:
        """--ascii and NO_COLOR on every line drawn (:mod:`screens.terminal`)."""
        return line_filters(super().get_line_filters(), ascii=self.ascii)

    def get_default_screen(self) -> Screen[Any]:
        """The dashboard is the first screen, not pushed over Textual's empty default one:
        that one would be laid out and drawn too, a full frame more before the data."""
        return self.screen_named("dashboard")

    def on_mount(self) -> None:
        self.start_watching()
        # Long-lived objects (Textual, the imports) leave the collector's view: a full
        # collection then walks only what the session makes, not the whole program, so it no
        # longer stalls a key press for tens of milliseconds.
        self.call_after_refresh(gc.freeze)

    # --- followers: the log's changes wake the screen on top (cockpit.follow) ----------------

    _waker: Waker | None = None
    _changes: Changes | None = None  # gathered by the watcher, not handled yet
    _changes_lock: threading.Lock
    _stopping: threading.Event

    def start_watching(self) -> None:
        self._changes_lock, self._stopping = threading.Lock(), threading.Event()
        threading.Thread(target=self.watch_log, name="cockpit-follow", daemon=True).start()

    @property
    def watching_log(self) -> bool:
        """The log's changes wake the screens (so the periodic timer need not read the head)."""
        return self._waker is not None and not self._waker.closed

    def watch_log(self) -> None:
        """In a thread of its own (never the UI's): once a screen's worker has opened the store,
        wait on the log (LISTEN/NOTIFY on PostgreSQL) and post :class:`LogChanged` for what
        changed. The UI thread only takes the news and tells the screen on top."""
        while (store := self.session.opened_store) is None:
            if self._stopping.wait(0.1):
                return
        from cockpit.follow import Changes, waker_for  # not before the first frame: it waits

        try:
            self._waker = waker = waker_for(store.url)
        except Exception:  # no database to listen to: the periodic refresh goes on as before
            return
        if self._stopping.is_set():
            waker.close()
        try:  # what changed before it listened: the screen reloads if it read less
            self.post_message(CaughtUp(store.head()[0]))
        except Exception:
            self._gather(Changes(everything=True))
        while not waker.closed:
            changes = waker.wait(60.0)
            if changes:
                self._gather(changes)

    def _gather(self, changes: Changes) -> None:
        with self._changes_lock:
            posted = self._changes is not None
            self._changes = changes if self._changes is None else self._changes.merged(changes)
        if not posted:  # one message at a time: what comes meanwhile is merged into it
            self.post_message(LogChanged())

    def on_caught_up(self, message: CaughtUp) -> None:
        told = getattr(self.screen, "caught_up", None)  # a dialog on top: told on resume
        if told is not None:
            told(message.head)

    def on_log_changed(self, _message: LogChanged) -> None:
        with self._changes_lock:
            changes, self._changes = self._changes, None
        told = getattr(self.screen, "log_changed", None)  # a dialog on top: told on resume
        if changes and told is not None:
            told(changes)

    def on_unmount(self) -> None:
        self._stopping.set()
        if self._waker is not None:
            self._waker.close()

    def open_screen(self, name: str, *args: Any, **kwargs: Any) -> None:
        """Push the screen registered as ``name``, built with ``args``."""
        self.push_screen(self.screen_named(name, *args, **kwargs))
        if name in DRIVEN_SCREENS and args:
            self.release_opened(str(args[0]))

    @staticmethod
    def screen_named(name: str, *args: Any, **kwargs: Any) -> Screen[Any]:
        """The screen registered as ``name``, built with ``args`` (its module imported now)."""
        module, _, cls = SCREENS[name].partition(":")
        return cast("Screen[Any]", getattr(importlib.import_module(module), cls)(*args, **kwargs))

    def action_command_palette(self) -> None:
        """Textual's command palette, its prompt in the UI language."""
        from textual.app import App
        from textual.command import CommandPalette

        if self.use_command_palette and not CommandPalette.is_open(cast("App[object]", self)):
            prompt = self.session.t("palette.search")
            self.push_screen(CommandPalette(placeholder=prompt, id="--command-palette"))

    def palette_commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        """Every action and navigation of the screen beneath the palette, from the key table
        (label, key, callback): what its keys do, in the help screen's words and order. Hidden
        actions stay out, and so, read-only, does every action the keys would refuse."""
        from textual.command import CommandPalette

        screen = next(s for s in reversed(self.screen_stack) if not isinstance(s, CommandPalette))
        scope = getattr(screen, "KEYS", "")
        check = getattr(screen, "check_action", None)
        items: list[tuple[str, str, Callable[[], object]]] = []
        for owner, keys in ((screen, TABLE.get(scope, ())), (screen, TABLE["screen"])):
            for key in keys:
                _namespace, name, parameters = parse(key.action)
                if check is not None and check(name, parameters) is False:
                    continue
                if self.refused_kind(key.writes) is not None:
                    continue
                items.append(self._palette_item(owner, key))
        items.extend(self._palette_item(self, k) for k in TABLE["app"] if k.id != "app.commands")
        opened = {key.opens for key in (*TABLE.get(scope, ()), *TABLE["screen"]) if key.opens}
        for name in NAVIGATION:
            go = None if name in opened or name == scope else self._navigation(screen, name)
            if go is not None:
                items.append((self.session.t("nav." + name), "", go))
        return items

    def _navigation(self, screen: Any, name: str) -> Callable[[], object] | None:
        """How the palette opens ``name`` from ``screen``, for the release it shows (or the
        one shown beneath it: the audit log has none); ``None`` when it cannot (no release,
        no tag step in the plan)."""
        if name in {"audit", "help"}:
            return self.action_open_audit if name == "audit" else self.action_help
        stack = self.screen_stack
        beneath = reversed(stack[: stack.index(screen) + 1]) if screen in stack else [screen]
        checklist, release_id = None, None
        for shown in beneath:
            checklist = getattr(shown, "checklist", None)
            release_id = checklist.release.id if checklist is not None else None
            release_id = release_id or getattr(shown, "release_id", None)
            if release_id is not None:
                break
        if release_id is None:
            return None
        if name == "tagging":
            from cockpit.tagging import tag_item

            item = tag_item(checklist) if checklist is not None else None
            if item is None:
                return None
            return functools.partial(self.open_screen, "tagging", release_id, item.id)
        if name == "checklist":  # at the phase of the next open item
            return functools.partial(self.open_screen, "checklist", release_id, None)
        return functools.partial(self.open_screen, name, release_id)

    def action_toggle_utc(self) -> None:
        """Z: every time in UTC, or back in the window's zone."""
        session = self.session
        session.times = session.times.toggled()
        zone = session.times.abbreviation(session.now())
        self.notify(session.t("msg.times", zone=zone))
        told = getattr(self.screen, "times_changed", None)  # the others redraw on resume
        if told is not None:
            told()

    def _palette_item(self, owner: Any, key: Key) -> tuple[str, str, Callable[[], object]]:
        shown = key_display(key.keys.split(",")[0])
        return self.session.t(key.label), shown, functools.partial(owner.run_action, key.action)

    def action_open_audit(self) -> None:
        self.open_screen("audit")

    def action_help(self) -> None:
        self.open_screen("help", self.screen)

    # Workers that change the world (a step, a decision, a tag, a rollback): quitting asks first.
    BUSY_GROUPS = frozenset({"run", "decide", "tag"})

    def busy(self) -> bool:
        return any(w.is_running and w.group in self.BUSY_GROUPS for w in self.workers)

    # A step this app is following (release, item) and how to stop following it.
    following: tuple[str, str, threading.Event] | None = None

    def action_quit_app(self) -> None:
        if self.following is not None and self.busy():
            self._ask_quit_while_a_step_runs(*self.following)
            return
        if not self.busy():
            self.leave()  # letting go of the lease first
            return
        from screens.decision import ConfirmScreen

        def answer(yes: bool | None) -> None:
            if yes:
                self.leave()

        self.push_screen(ConfirmScreen(self.session.t("dlg.quit_running")), answer)

    def _ask_quit_while_a_step_runs(
        self, release_id: str, item_id: str, leave: threading.Event
    ) -> None:
        """Detach (the step goes on under its supervisor), cancel it, or stay (the default)."""
        from screens.decision import QuitScreen

        def answer(choice: str | None) -> None:
            if choice == "detach":
                leave.set()
                self.leave()  # the step goes on; the lease is let go
            elif choice == "cancel":
                leave.set()
                self._cancel_then_exit(release_id, item_id)

        who = self.session.operator.actor
        self.push_screen(QuitScreen(self.session.t("dlg.quit_step", item=item_id, who=who)), answer)

    @work(thread=True, group="quit", exit_on_error=False)
    def _cancel_then_exit(self, release_id: str, item_id: str) -> None:
        """Record who cancelled and why (the supervisor stops the step and records the
        outcome), let go of the lease, then quit."""
        from cockpit.errors import CockpitError
        from cockpit.steprun import request_cancel

        with contextlib.suppress(CockpitError):  # it ended meanwhile: nothing to cancel
            request_cancel(self.session, release_id, item_id, "cancelled when quitting the cockpit")
        self.let_go(self.call_from_thread(self.stop_driving))
        self.call_from_thread(self.exit)


def run_app(
    session: Session,
    *,
    ascii: bool = False,
    release_id: str | None = None,
    keymap: dict[str, str] | None = None,
    readonly: bool = False,
    read_ahead: ReadAhead | None = None,
) -> None:
    """Open the cockpit on this terminal (mouse off: keyboard first, copy/paste keeps working).
    ``readonly``: every action that writes is refused (``cockpit follow``, ``--readonly``);
    ``read_ahead``: the dashboard's first view, read in a process forked as the command began."""
    app = CockpitApp(
        session,
        ascii=ascii,
        release_id=release_id,
        keymap=keymap,
        readonly=readonly,
        read_ahead=read_ahead,
    )
    try:
        app.run(mouse=False)
    finally:
        if read_ahead is not None:
            read_ahead.cancel()  # not waited for (the app ended first): not left behind
    app.let_go(app.stop_driving())  # ended another way than q (ctrl+q, an error): let go
    if app.failure is not None:
        raise app.failure
