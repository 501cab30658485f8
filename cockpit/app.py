"""The Textual app that assembles the screens. The only engine module that imports Textual, and
only the CLI imports it (lazily, when the cockpit is opened on a terminal)."""

from __future__ import annotations

import gc
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.command import Hit, Hits, Provider

from cockpit.config import LoadedConfig
from cockpit.i18n import tr
from cockpit.operator import Operator

if TYPE_CHECKING:
    from textual.screen import Screen

    from cockpit.store import Store


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class AppContext:
    """What every screen needs: the engine's handles and the operator's preferences."""

    store: Store | None
    loaded: LoadedConfig
    operator: Operator
    lang: str = "en"
    ascii: bool = False
    release_id: str | None = None
    now: Callable[[], datetime] = field(default=_utc_now)
    refresh_seconds: float = 2.0
    # Opens the store on first use (in a worker), so the first frame is drawn before SQLAlchemy
    # is imported and the log is read.
    opener: Callable[[], Store] | None = None

    def db(self) -> Store:
        if self.store is None:
            assert self.opener is not None, "AppContext needs a store or an opener"
            self.store = self.opener()
        return self.store

    def t(self, key: str, **values: object) -> str:
        return tr(key, self.lang, **values)


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


class CockpitApp(App[None]):
    TITLE = "Release Cockpit"
    COMMANDS: ClassVar[set[type[Provider] | Callable[[], type[Provider]]]] = {CockpitCommands}
    ENABLE_COMMAND_PALETTE = True
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("colon", "command_palette", "commands", show=False),
        Binding("q", "quit_app", "quit", show=False, priority=False),
    ]

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx

        if ctx.ascii:
            self.ansi_color = False

    def compose(self) -> ComposeResult:
        return iter(())

    def on_mount(self) -> None:
        from screens.dashboard import DashboardScreen

        self.push_screen(DashboardScreen())
        # Long-lived objects (Textual, the imports) leave the collector's view: a full
        # collection then walks only what the session makes, not the whole program, so it no
        # longer stalls a key press for tens of milliseconds.
        self.call_after_refresh(gc.freeze)

    def palette_commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        screen: Screen[object] = self.screen
        commands = getattr(screen, "palette_commands", None)
        items: list[tuple[str, str, Callable[[], object]]] = list(commands()) if commands else []
        items.append((self.ctx.t("act.audit"), "l", self.action_open_audit))
        items.append((self.ctx.t("act.help"), "?", self.action_help))
        items.append((self.ctx.t("act.quit"), "q", self.action_quit_app))
        return items

    def action_open_audit(self) -> None:
        from screens.audit import AuditScreen

        self.push_screen(AuditScreen())

    def action_help(self) -> None:
        from screens.help import HelpScreen

        self.push_screen(HelpScreen(self.screen))

    # Workers that change the world (a step, a decision, a tag, a rollback): quitting asks first.
    BUSY_GROUPS = frozenset({"run", "decide", "tag"})

    def busy(self) -> bool:
        return any(w.is_running and w.group in self.BUSY_GROUPS for w in self.workers)

    def action_quit_app(self) -> None:
        if not self.busy():
            self.exit()
            return
        from screens.decision import ConfirmScreen

        def answer(yes: bool | None) -> None:
            if yes:
                self.exit()

        self.push_screen(ConfirmScreen(self.ctx.t("dlg.quit_running")), answer)


def run_app(ctx: AppContext) -> None:
    """Open the cockpit on this terminal (mouse off: keyboard first, copy/paste keeps working)."""
    CockpitApp(ctx).run(mouse=False)
