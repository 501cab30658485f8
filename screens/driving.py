"""The app's side of the lease (:mod:`cockpit.lease`): one driver per release.

When a release's screen opens (checklist, runbook, tagging, metrics), the app takes the
release's lease in a worker, if it can, and beats it in another worker (never on the UI thread);
it lets go on quit and on detach. When another operator drives, or takes ours over (the
heartbeat finds it gone), the cockpit is read-only for driving: the header says who drives since
when, driving keys are refused with that reason, and ``T`` asks for a reason and takes over.
``--readonly`` (``cockpit follow``) refuses every action that writes. Which actions write or drive
is said in :mod:`screens.keys`; :class:`screens.common.CockpitScreen` asks :meth:`locked`.
"""

from __future__ import annotations

import contextlib
import threading
from typing import TYPE_CHECKING

from textual import work
from textual.app import App

from screens.keys import write_kind

if TYPE_CHECKING:
    from cockpit.lease import Lease
    from cockpit.notify import Sender
    from cockpit.session import Session

# The screens that open a release to drive it (their first argument is the release id).
DRIVEN_SCREENS = frozenset({"checklist", "runbook", "tagging", "metrics"})


class DrivingApp(App[None]):
    """The lease state of the app; :class:`screens.app.CockpitApp` builds on it."""

    session: Session
    readonly = False  # --readonly / cockpit follow: every action that writes is refused
    drive = True  # take the lease of a release opened to drive
    lease: Lease | None = None  # ours
    driver: Lease | None = None  # someone else's live lease on the release we look at
    driver_text = ""  # "driven by alice@bastion-1 since 01:02 (JST)"
    lease_release: str | None = None  # the release whose lease we took or looked at
    _beat: threading.Event | None = None  # set: the heartbeat worker stops
    _sender: Sender | None = None  # the driver's cockpit sends the notices (cockpit.notify)

    # ------------------------------------------------------------------ state

    def applies(self, action: str) -> bool:
        """Takeover applies only while another operator drives (and we may drive): otherwise
        its key is hidden, from the help too."""
        return action != "takeover" or (self.driver is not None and not self.readonly)

    def locked(self, scope: str, action: str, parameters: tuple[object, ...]) -> str | None:
        """Why a screen's action is refused by read-only mode (``None``: it is not)."""
        return self.refused_kind(write_kind(scope, action, parameters))

    def refused_kind(self, kind: str) -> str | None:
        """Why an action that writes ``kind`` ("log", "drive", "") is refused now, or None."""
        if kind and self.readonly:
            return self.session.t("lease.follow")
        if kind == "drive" and self.driver is not None:
            return self.session.t("lease.refused", driven=self.driver_text)
        return None

    def read_only_banner(self, release_id: str | None) -> str | None:
        """``READ-ONLY driven by alice@bastion-1 since 01:02 (JST)`` for the header, or
        ``None`` when this cockpit may drive the release shown."""
        driven = self.driver is not None and self.driver.release_id == release_id
        if not (self.readonly or driven):
            return None
        banner = self.session.t("lease.readonly")
        return f"{banner} {self.driver_text}" if driven else banner

    def release_opened(self, release_id: str) -> None:
        """A release's screen opened: take its lease (or see who drives it), once per release."""
        if release_id == self.lease_release:
            return
        self.lease_release = release_id
        self._look_or_take(release_id, self.stop_driving(), lost=False)

    def stop_driving(self) -> Lease | None:
        """Stop the heartbeat (or the watch); our lease (to be let go in a worker), if any."""
        if self._beat is not None:
            self._beat.set()
            self._beat = None
        lease, self.lease = self.lease, None
        return lease

    def _driving(self, mine: Lease | None, other: Lease | None, text: str, lost: bool) -> None:
        """The outcome of a take or a look, on the UI thread: beat ours, watch theirs."""
        if self._beat is not None:
            self._beat.set()
        was_driven = self.driver is not None
        self.lease, self.driver, self.driver_text = mine, other, text
        watched = mine or other
        self._beat = threading.Event() if watched is not None else None
        if watched is not None and self._beat is not None:
            self._heartbeat(watched, self._beat, ours=mine is not None)
        if mine is not None:
            self._start_sender()
        if lost and other is not None:
            self.notify(self.session.t("lease.lost", holder=other.holder), severity="warning")
        elif was_driven and mine is not None:
            self.notify(self.session.t("lease.took"))
        # The screen shown redraws its header and greys its keys; one beneath a dialog does
        # when the dialog closes (screens reload on resume).
        screen = self.screen
        reload = getattr(screen, "reload_when_idle", None) or getattr(screen, "reload", None)
        if callable(reload):
            reload()
        screen.refresh_bindings()

    def _start_sender(self) -> None:
        """Once this cockpit drives, it sends the notices the log asks for, in a thread of its
        own (never the UI's; a channel that is down never holds anything up)."""
        session = self.session
        if self._sender is not None or self.readonly or not session.loaded.config.notify.routes:
            return
        from cockpit.notify import Outbox, Sender

        outbox = Outbox(session.store, session.loaded, session.operator)
        self._sender = Sender(outbox, session.store.url)
        self._sender.start()

    # ------------------------------------------------------------------ workers

    @work(thread=True, group="lease", exit_on_error=False)
    def _look_or_take(self, release_id: str, old: Lease | None, *, lost: bool) -> None:
        from cockpit import lease as leases
        from cockpit.checklist import Refused
        from cockpit.errors import CockpitError

        session = self.session
        mine = None
        try:
            if old is not None and old.release_id != release_id:
                with contextlib.suppress(Refused):
                    leases.release(session, old.release_id, old)
            if self.drive and not self.readonly:
                with contextlib.suppress(Refused):  # someone else drives: read-only below
                    taken, fresh = leases.take(session, release_id)
                    mine = taken if fresh else None  # held by another process of ours
            held, now = leases.current(session.store, release_id)
        except CockpitError as exc:
            self.call_from_thread(self._failed, exc.text(self.session.lang))
            return
        me = session.operator.actor
        other = held if held and held.live(now) and (self.readonly or held.holder != me) else None
        text = leases.driven_by(session, other, now) if other else ""
        self.call_from_thread(self._driving, mine, other, text, lost)

    @work(thread=True, group="heartbeat", exit_on_error=False)
    def _heartbeat(self, watched: Lease, stop: threading.Event, *, ours: bool) -> None:
        """Every ttl/3: move our lease's expiry on, or look whether theirs still lives. When
        ours is gone (taken over) or theirs is (let go, or dead), look again (and take it)."""
        from cockpit.errors import CockpitError
        from cockpit.lease import current, heartbeat

        store = self.session.store
        while not stop.wait(max(watched.ttl / 3, 0.1)):
            try:
                if ours:
                    same = heartbeat(store, watched)
                else:
                    held, now = current(store, watched.release_id)
                    same = held is not None and held.token == watched.token and held.live(now)
            except CockpitError:
                continue  # the database is away: the next beat tries again
            if not same:
                if not stop.is_set():
                    self.call_from_thread(self._changed, watched, ours)
                return

    def _changed(self, watched: Lease, ours: bool) -> None:
        if watched in (self.lease, self.driver):
            self.stop_driving()
            self._look_or_take(watched.release_id, None, lost=ours)

    @work(thread=True, group="lease", exit_on_error=False)
    def take_over(self, release_id: str, reason: str) -> None:
        """Take the release over from its driver with the operator's reason (production: an
        expired lease or a second operator's approval, else the refusal says how)."""
        from cockpit.errors import CockpitError
        from cockpit.lease import takeover

        try:
            mine = takeover(self.session, release_id, reason)
        except CockpitError as exc:
            self.call_from_thread(self._failed, exc.text(self.session.lang))
            return
        self.call_from_thread(self._took_over, mine)

    def _took_over(self, mine: Lease) -> None:
        self.stop_driving()
        self.lease_release = mine.release_id
        self._driving(mine, None, "", lost=False)

    def _failed(self, why: str) -> None:
        self.notify(self.session.t("msg.failed", why=why), severity="error")

    # ------------------------------------------------------------------ letting go

    def leave(self) -> None:
        """Quit, letting go of our lease first (in a worker: the UI never touches the log)."""
        lease = self.stop_driving()
        if lease is None:
            self.exit()
        else:
            self._let_go_then_exit(lease)

    @work(thread=True, group="quit", exit_on_error=False)
    def _let_go_then_exit(self, lease: Lease) -> None:
        self.let_go(lease)
        self.call_from_thread(self.exit)

    def let_go(self, lease: Lease | None) -> None:
        """Release ``lease`` (a worker's or after the app ended; never the UI thread). A lease
        that is not ours any more, or a log that cannot be written: nothing to do, it expires."""
        from cockpit.errors import CockpitError
        from cockpit.lease import release

        if lease is not None:
            with contextlib.suppress(CockpitError):
                release(self.session, lease.release_id, lease)

    def on_unmount(self) -> None:
        if self._sender is not None:
            self._sender.stop()
        if self._beat is not None:
            self._beat.set()  # the heartbeat worker ends, so the app's threads can end
