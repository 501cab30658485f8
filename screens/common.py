"""What every screen shares: the header line, the footer of keys, the keys every screen has
(j/k, l, esc, ?) and access to the app's session."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, cast

from rich.text import Text
from textual import work
from textual.actions import parse
from textual.binding import BindingType
from textual.screen import Screen
from textual.worker import get_current_worker

from screens.keys import BY_ID, FOOTERS, bindings, key_display
from screens.text import release_header
from widgets.keybar import KeyBar, KeyHint

if TYPE_CHECKING:
    from textual import events
    from textual.binding import ActiveBinding, Binding
    from textual.worker import Worker

    from cockpit.checklist import Checklist
    from cockpit.follow import Changes
    from cockpit.session import Session
    from screens.app import CockpitApp


def cockpit_app(screen: Screen[Any]) -> CockpitApp:
    """The app a screen or dialog belongs to, typed. (No import of the app at run time: the app
    imports the screens.)"""
    return cast("CockpitApp", screen.app)


class CockpitScreen(Screen[Any]):
    """Base screen: the session, the header line, the footer of keys and a periodic refresh that
    pauses under a modal (nothing redraws while a dialog is open).

    The keys every screen has are bound here once (Textual merges ``BINDINGS`` along the MRO);
    ``KEYS`` names the screen's own part of :mod:`screens.keys`. An action not allowed now is
    greyed in the footer with the reason :meth:`refusal` gives, and pressing its key says it."""

    BINDINGS: ClassVar[list[BindingType]] = [*bindings("nav"), *bindings("screen")]
    KEYS: ClassVar[str] = ""  # the screen's scope in screens.keys (its footer)
    HIDDEN: ClassVar[frozenset[str]] = frozenset()  # actions that do not apply on this screen

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
        self.reload_when_idle()

    # A periodic redraw when the log has not grown only moves the countdowns on: once in a while
    # is enough. Redrawing a long list every tick delays the keys pressed meanwhile.
    IDLE_REDRAW_SECONDS: ClassVar[float] = 30.0

    def _tick(self) -> None:
        if self.app.screen is not self:
            return
        # Woken by the log's changes (log_changed), the timer only moves the countdowns on,
        # once in a while: a reload each tick would also drop what the screen read meanwhile.
        if self.cockpit.watching_log:
            if time.monotonic() - getattr(self, "_tick_at", 0.0) >= self.IDLE_REDRAW_SECONDS:
                self._tick_redraw(None)
        elif self.session.opened_store is None:
            self._tick_redraw(None)
        else:
            self._tick_head()

    @work(thread=True, exclusive=True, group="tick", exit_on_error=False)
    def _tick_head(self) -> None:
        """Read the chain head off the UI thread; redraw when the log grew (or once in a
        while)."""
        store = self.session.opened_store
        head = store.head()[0] if store is not None else None
        self.app.call_from_thread(self._tick_redraw, head)

    def _tick_redraw(self, head: int | None) -> None:
        now = time.monotonic()
        if head is not None:
            seen = getattr(self, "_tick_seen", None)
            self._tick_seen = head
            if head == seen and now - getattr(self, "_tick_at", 0.0) < self.IDLE_REDRAW_SECONDS:
                return
        self._tick_at = now
        if self.is_attached:
            self.reload_when_idle()

    def reload(self) -> None:
        """Read the engine's state in a worker (:meth:`load`) and draw it on the UI thread
        (:meth:`show`): the UI thread never touches the database, folds or hashes."""
        self._load_in_worker()

    @work(thread=True, exclusive=True, group="screen-load", exit_on_error=False)
    def _load_in_worker(self) -> None:
        from cockpit.errors import ConfigError

        self.before_load()
        try:
            # Who is at the keyboard (the config, maybe the agent) is worked out here, never on
            # the UI thread: the header shows it from the frame with the data on.
            _ = self.session.operator
            data = self.load()
        except ConfigError as exc:  # cockpit.toml is wrong: the app ends with its one line
            self.app.call_from_thread(self.cockpit.end_with, exc)
            return
        except Exception as exc:
            self.say_unreadable(exc)
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show_loaded, data)

    # The last load's failure said on screen ("" once a load succeeds): said once, not at
    # every tick while the database stays unreadable.
    _failed = ""

    def say_unreadable(self, exc: Exception, say: Callable[[str], None] | None = None) -> None:
        """In a worker whose read failed: ``say`` (:meth:`load_failed` by default) on the UI
        thread that the log cannot be read, when that is what ``exc`` is; else raise it."""
        said = unreadable(exc, self.session.lang)
        if said is None:
            raise exc
        self.app.call_from_thread(say or self.load_failed, said)

    def load_failed(self, said: str) -> None:
        """The log could not be read (the database gone, locked, not a database): one line in
        a notification; what the screen shows stays as it was read last."""
        if said != self._failed:
            self._failed = said
            self.notify(said, severity="error", timeout=30)

    def _show_loaded(self, data: Any) -> None:
        self._failed = ""
        self._loaded_once = True
        self._tick_at = time.monotonic()  # just read: the idle redraw counts from here
        if self.is_attached:
            self.show(data)
        if self._caught_up is not None:  # the watcher listened before this load was shown
            head, self._caught_up = self._caught_up, None
            self._catch_up(head)

    # The log's head the last load read, for screens whose load reads it (the dashboard):
    # the watcher's first news (all that changed before it listened) then costs no reload.
    read_head: int | None = None
    _caught_up: int | None = None
    _loaded_once = False  # a load of this screen has been shown

    def caught_up(self, head: int) -> None:
        """The app's watcher listens from ``head`` on: reload unless the last load read it."""
        if self._loading() or not self._loaded_once:
            # Decided when the load (running, or the first, about to start: a store opened
            # before the app lets the watcher listen first) is shown.
            self._caught_up = head
        else:
            self._catch_up(head)

    def _catch_up(self, head: int) -> None:
        self._tick_at = time.monotonic()  # up to date now: the tick's redraw counts from here
        if self.read_head is None or self.read_head < head:
            self.reload_when_idle()

    def before_load(self) -> None:
        """In the loading worker, before each load: what the screen can draw before its load
        is read (the dashboard: the first view read ahead as ``cockpit open`` started). Screens
        override it."""

    def load(self) -> Any:
        """Off the UI thread: read what the screen shows (the store, folds). Screens override."""
        return None

    def show(self, data: Any) -> None:
        """On the UI thread: keep what :meth:`load` read and draw it. Screens override."""

    def log_changed(self, changes: Changes) -> None:
        """The log changed (the app's watcher, :mod:`cockpit.follow`): reload when the change
        concerns this screen's release (any release, on a screen that shows none)."""
        if changes.events_of(getattr(self, "release_id", None)):
            self._tick_at = time.monotonic()
            self.reload_when_idle()

    # A reload while the screen's own load (a ``*-load`` worker) runs waits for it to end:
    # starting another would cancel it half-way, and news comes at any moment.
    _reload_wanted = False

    def _loading(self) -> bool:
        return any(
            w.is_running and w.node is self and w.group.endswith("-load") for w in self.app.workers
        )

    def reload_when_idle(self) -> None:
        if self._loading():
            self._reload_wanted = True
        else:
            self.reload()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if self._reload_wanted and event.worker.group.endswith("-load") and not self._loading():
            self._reload_wanted = False
            self.reload()

    # ------------------------------------------------------------------ keys

    def refusal(self, action: str, parameters: tuple[object, ...]) -> str | None:
        """Why ``action`` is not allowed now: ``None`` when it is, ``""`` when it is not and
        there is nothing to say. Screens override it, reading only the state they loaded (it
        runs on every footer redraw and key press: never the engine's store)."""
        return None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # None, not False: a refused action stays in the footer, greyed.
        if action in self.HIDDEN or not self.cockpit.applies(action):
            return False
        if self.locked(action, parameters) is not None:
            return None
        return True if self.refusal(action, parameters) is None else None

    def locked(self, action: str, parameters: tuple[object, ...]) -> str | None:
        """Why read-only mode refuses ``action`` (someone else drives, or ``--readonly``)."""
        return self.cockpit.locked(self.KEYS, action, parameters)

    def binding_refusal(self, binding: Binding) -> str:
        """The reason a binding's action is refused now ("" when allowed or nothing to say)."""
        namespace, action, parameters = parse(binding.action)
        if namespace:
            return ""  # the app's actions (help) are never refused
        return self.locked(action, parameters) or self.refusal(action, parameters) or ""

    def on_key(self, event: events.Key) -> None:
        """A key whose action is refused now says why (Textual alone would ignore it)."""
        active = self.active_bindings.get(event.key)
        if active is None or active.enabled or active.node is not self:
            return
        event.stop()  # nothing else acts on it: not the focused list's own key either
        why = self.binding_refusal(active.binding)
        if why:
            self.notify(self.session.t("msg.refused", why=why), severity="warning")

    def key_label(self, key_id: str) -> str:
        """A binding's short label in the footer. Screens override it for a changing label."""
        times = self.session.times_yet  # None before a worker has read the config
        if key_id == "app.utc" and times is not None and times.utc:  # what Z switches to
            zone = times.toggled().abbreviation(self.session.now())
            return self.session.t("act.zone", zone=zone)
        return self.session.t(BY_ID[key_id].short)

    def times_changed(self) -> None:
        """UTC on or off (``Z``): draw the times again. Screens with their own lines override."""
        self.reload_when_idle()
        self.refresh_keys()

    def bound_keys(self) -> dict[str, list[ActiveBinding]]:
        """The shown bindings active now by id (a keymap may have moved their keys), each
        with its keys in the order they are bound."""
        found: dict[str, list[ActiveBinding]] = {}
        for active in self.active_bindings.values():
            binding = active.binding
            if binding.id in BY_ID and binding.show:
                found.setdefault(binding.id, []).append(active)
        return found

    def key_hints(self) -> list[KeyHint]:
        """The footer: the screen's hints (screens.keys.FOOTERS) whose bindings are active,
        each greyed with its reason when its action is refused now."""
        bound = self.bound_keys()
        hints = []
        for hint in FOOTERS.get(self.KEYS, ()):
            if hint.fixed is not None:
                hints.append(KeyHint(*hint.fixed))
                continue
            found = [bound[key_id][0] for key_id in hint.ids if key_id in bound]
            if not found:
                continue
            keys = hint.sep.join(key_display(active.binding.key) for active in found)
            enabled = any(active.enabled for active in found)
            reason = "" if enabled else self.binding_refusal(found[0].binding)
            hints.append(KeyHint(keys, self.key_label(hint.ids[0]), enabled, reason))
        takeover = [
            a.binding for a in self.active_bindings.values() if a.binding.id == "app.takeover"
        ]
        if takeover and self.cockpit.applies("takeover"):
            # Someone else drives: the one key that gets this operator driving comes first.
            hints.insert(0, KeyHint(key_display(takeover[0].key), self.session.t("act.takeover")))
        return hints

    def refresh_keys(self) -> None:
        """Redraw the footer from the active bindings (call after the state changed)."""
        self.query_one(KeyBar).show_keys(self.key_hints())

    def action_audit(self) -> None:
        self.cockpit.action_open_audit()

    def action_takeover(self) -> None:
        from screens.decision import takeover_dialog

        takeover_dialog(self)

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_down(self) -> None:
        """j: the screen's list or view moves down. Screens override it."""

    def action_up(self) -> None:
        """k: the screen's list or view moves up. Screens override it."""

    def titles(self, thing: object) -> tuple[str, str]:
        """(first, second) titles of a phase or item: the screen language's first."""
        ja, en = getattr(thing, "title_ja"), getattr(thing, "title_en")  # noqa: B009
        return (ja, en) if self.session.lang == "ja" else (en, ja)

    def header_text(self, checklist: Checklist | None) -> Text:
        """`` Release Cockpit  1.4.0 release  staging REHEARSAL  T-0 12-16 01:00 JST  alice@vm``"""
        return self.header_line(
            checklist.release.id if checklist else None, release_header(self.session, checklist)
        )

    def header_line(self, release_id: str | None, shown: Text) -> Text:
        """The header: the title, or the read-only banner in its place (who drives, when this
        cockpit may not drive ``release_id``), then ``shown`` (:func:`release_header`)."""
        banner = self.cockpit.read_only_banner(release_id)
        text = Text(" ")
        if banner:  # in place of the title: who drives, when this cockpit may not
            text.append(banner, style="reverse")
            text.append("  ")
        else:
            text.append(self.session.t("app.title") + "  ")
        return text.append_text(shown)


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


def unreadable(exc: BaseException, lang: str) -> str | None:
    """What a failed read of the log says on screen: a store's own error (the database
    unavailable), or the driver's (a file that is not a database), in one line; ``None`` for
    anything else (a bug: the worker reports it)."""
    from cockpit.dbsetup import first_line, from_driver
    from cockpit.errors import CockpitError
    from cockpit.i18n import tr

    if isinstance(exc, CockpitError):
        return exc.text(lang)
    if from_driver(exc):
        return tr("err.database", lang, cause=first_line(exc))
    return None
