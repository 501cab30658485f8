"""What every screen shares: the header line and access to the app's session."""

from __future__ import annotations

import time
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, cast
from zoneinfo import ZoneInfo

from rich.text import Text
from textual.screen import Screen

if TYPE_CHECKING:
    from cockpit.checklist import Checklist
    from cockpit.session import Session
    from screens.app import CockpitApp


def local(iso_or_dt: str | datetime, zone: str, fmt: str = "%m-%d %H:%M") -> str:
    moment = (
        datetime.fromisoformat(iso_or_dt.replace("Z", "+00:00"))
        if isinstance(iso_or_dt, str)
        else iso_or_dt
    )
    return moment.astimezone(ZoneInfo(zone)).strftime(fmt)


def cockpit_app(screen: Screen[Any]) -> CockpitApp:
    """The app a screen or dialog belongs to, typed. (No import of the app at run time: the app
    imports the screens.)"""
    return cast("CockpitApp", screen.app)


class CockpitScreen(Screen[Any]):
    """Base screen: the session, the header line and a periodic refresh that pauses under a
    modal (nothing redraws while a dialog is open)."""

    @property
    def cockpit(self) -> CockpitApp:
        return cockpit_app(self)

    @property
    def session(self) -> Session:
        return self.cockpit.session

    def on_mount(self) -> None:
        # Textual calls on_mount of every class in the MRO: subclasses never call super() here.
        # The first reload comes with ScreenResume, which follows the push.
        self.set_interval(self.cockpit.refresh_seconds, self._tick)

    def on_screen_resume(self) -> None:
        self.reload()

    # A periodic redraw when the log has not grown only moves the countdowns on: once in a while
    # is enough. Redrawing a long list every tick delays the keys pressed meanwhile.
    IDLE_REDRAW_SECONDS: ClassVar[float] = 30.0

    def _tick(self) -> None:
        if self.app.screen is not self:
            return
        store = self.session.opened_store
        now = time.monotonic()
        if store is not None:
            head = store.head()[0]
            seen = getattr(self, "_tick_seen", None)
            self._tick_seen = head
            if head == seen and now - getattr(self, "_tick_at", 0.0) < self.IDLE_REDRAW_SECONDS:
                return
        self._tick_at = now
        self.reload()

    def reload(self) -> None:
        """Read the engine's state and redraw. Screens override it."""

    def titles(self, thing: object) -> tuple[str, str]:
        """(first, second) titles of a phase or item: the screen language's first."""
        ja, en = getattr(thing, "title_ja"), getattr(thing, "title_en")  # noqa: B009
        return (ja, en) if self.session.lang == "ja" else (en, ja)

    def header_text(self, checklist: Checklist | None) -> Text:
        """`` Release Cockpit  1.4.0 release  staging REHEARSAL  T-0 12-16 01:00 JST  alice@vm``"""
        session = self.session
        text = Text(" " + session.t("app.title") + "  ")
        if checklist is not None:
            release = checklist.release
            zone = session.loaded.config.change_window.timezone
            text.append(f"{release.version} {checklist.plan.plan.name}  {release.environment} ")
            if release.rehearsal:
                text.append("REHEARSAL", style="reverse")
                text.append(" ")
            text.append(" T-0 " + local(release.t0, zone, "%m-%d %H:%M %Z") + "  ")
        text.append(session.operator.actor)
        return text


def window_text(session: Session) -> str:
    """``open, 3h12m left`` or ``next Wed 12-16 01:00 JST (in 22d 6h)``, in the UI language."""
    from cockpit.window import format_remaining, window_state

    state = window_state(session.loaded.config.change_window, session.now())
    if state.open:
        return session.t("window.open", left=format_remaining(state.closes_in))
    return session.t(
        "window.next", when=state.window.label(), left=format_remaining(state.opens_in)
    )


def rollback_message(session: Session, result: Any) -> str:
    """One line about a finished rollback (:class:`cockpit.rollback.RollbackResult`)."""
    values = {
        "undone": ", ".join(result.undone) or "-",
        "failed": result.failed or "-",
        "left": ", ".join(result.left) or "-",
        "seconds": f"{result.elapsed_s:.1f}",
    }
    if result.failed:
        return session.t("run.rollback_failed", **values)
    if result.healthy is False:
        return session.t("run.rolled_back_unhealthy", **values)
    return session.t("run.rolled_back", **values)
