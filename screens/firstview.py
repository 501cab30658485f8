"""The dashboard's first view read ahead (:mod:`cockpit.readahead`) on its way to the screen:
taken for the first frame, or waited for by a thread while the load runs; and an action pressed
before the load is in, done once it is. No Textual here (the contract of the dashboard's view)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import suppress
from typing import TYPE_CHECKING

from cockpit.errors import ConfigError
from screens.dashboard_view import DashView

if TYPE_CHECKING:
    from cockpit.readahead import ReadAhead


class FirstView:
    """The dashboard's first view read ahead (:func:`screens.dashboard_view.first_view`, in
    the process :mod:`cockpit.readahead` forks as ``cockpit open`` starts), on its way to the
    screen.

    Come by the first frame (on a machine not too busy, it has): that frame draws it, and the
    first load waits until it is drawn (it would take turns with it). Not come by then: the load
    starts at once, and a thread of its own waits for the view and has it drawn if it comes
    before the load is; the child is ended once the load is drawn (a hung one costs nothing).
    """

    # How long the first load waits for the first frame, and the thread for the view; how long
    # the UI thread reads the view once it has begun to come (the rest follows at once).
    WAIT_S = 2.0
    READ_S = 0.1

    def __init__(self) -> None:
        self.view: DashView | None = None  # to draw until the first load is (at its size)
        self.drawn = threading.Event()  # the first frame is drawn
        self._ahead: ReadAhead | None = None  # not come by the first frame: for the first load
        self._pending: ReadAhead | None = None  # waited for by the thread
        # An action on the release shown, pressed while this view was drawn and the load was
        # not: its checklist is not read here yet; done once the load is (:meth:`deferred`).
        self.after_load: str | None = None

    def showing(self, drawn: object) -> bool:
        """Whether the screen's last draw (``drawn``) is this view, a release in it."""
        return self.view is not None and self.view.shown is not None and drawn is self.view

    def deferred(self) -> str | None:
        """The action pressed meanwhile, once (``None``: none)."""
        action, self.after_load = self.after_load, None
        return action

    # A wrong cockpit.toml, found by the process that read ahead: the app ends with its line.
    config_error: ConfigError | None = None

    def take(self, ahead: ReadAhead | None) -> DashView | None:
        """On the UI thread, for the first frame, the app's read-ahead: its view if it has
        come (or :attr:`config_error`); else it is kept for the first load
        (:meth:`before_load`)."""
        if ahead is None or not ahead.ready():
            self._ahead = ahead
            return None
        view = ahead.result(self.READ_S)
        if isinstance(view, ConfigError):
            self.config_error = view
        self.view = view if isinstance(view, DashView) else None
        return self.view

    def before_load(self, show: Callable[[DashView], None]) -> None:
        """In the loading worker, before each load (only the first finds something to do):
        ``show`` is called from the UI thread (``call_from_thread``) with a view that comes."""
        if self.view is not None:
            self.drawn.wait(self.WAIT_S)
            return
        ahead, self._ahead = self._ahead, None
        if ahead is None:
            return
        self._pending = ahead
        threading.Thread(
            target=self._wait, args=(ahead, show), name="cockpit-read-ahead", daemon=True
        ).start()

    def _wait(self, ahead: ReadAhead, show: Callable[[DashView], None]) -> None:
        view = ahead.result(self.WAIT_S)
        if isinstance(view, DashView):
            with suppress(RuntimeError):  # the app has ended meanwhile
                show(view)

    def loaded(self) -> None:
        """A load is drawn: the view read ahead is old news, its child no longer needed."""
        self.view = None
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
