"""The outbox: notices queued as events, sent by a background sender, retried with backoff.

Driven by the log. :meth:`Outbox.queue` reads the events since its cursor and, for each that
makes a notice (:mod:`.messages`) routed to a channel, appends ``notice.queued`` with the text
and the notice's idempotency key as its subject: one key per event (or per phase, for "phase
complete") and channel, and the append refuses a second ``notice.queued`` of the same key in the
same transaction, so two senders never queue a notice twice. :meth:`Outbox.deliver` sends what
is due: write-ahead, ``notice.attempt`` first (again refused when another sender claimed the same
attempt), then ``notice.sent`` or ``notice.attempt_failed``; after the last attempt
``notice.failed``. Waits double from ``backoff_seconds`` up to ``max_backoff_seconds``. The key
goes with every attempt (PagerDuty's ``dedup_key``, the webhook's ``Idempotency-Key``, the
mail's Message-ID), so even an attempt whose outcome was lost (a crash mid-send) is one incident.

A step never waits for any of this: the :class:`Sender` is its own thread (or ``cockpit notify
run``, its own process), sends outside any transaction, and every send has its deadline. A
channel whose last attempt failed is *failing* (:func:`channel_health`) and the dashboard says so.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import msgspec

from cockpit.config import LoadedConfig
from cockpit.config.notify import ChannelConfig
from cockpit.errors import AppendFailed, Phrase
from cockpit.events import Event, NewEvent
from cockpit.notify.channels import Outgoing, SendFailed, send
from cockpit.notify.messages import (
    Context,
    detail_of,
    kind_of,
    notice_key,
    render,
    route,
    severity_of,
)
from cockpit.notify.state import NOTICE_ACTIONS, NoticeState, fold_notices
from cockpit.operator import Operator
from cockpit.release import Release, fold
from cockpit.vocabulary import (
    GATE_APPROVED,
    ITEM_DONE,
    ITEM_SKIPPED,
    NOTICE_ATTEMPT,
    NOTICE_ATTEMPT_FAILED,
    NOTICE_FAILED,
    NOTICE_QUEUED,
    NOTICE_SENT,
    STEP_STARTED,
    STEP_SUCCEEDED,
)

if TYPE_CHECKING:
    from cockpit.store import Store

log = logging.getLogger("cockpit.notify")

_SETTLING = (ITEM_DONE, ITEM_SKIPPED, STEP_SUCCEEDED, GATE_APPROVED)


class Duplicate(AppendFailed):
    """Another sender queued this notice or claimed this attempt first."""


class Outbox:
    """Queues notices from the log and sends them. ``environ`` holds the channels' secrets."""

    def __init__(
        self,
        store: Store,
        loaded: LoadedConfig,
        operator: Operator,
        *,
        environ: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store, self.loaded, self.operator = store, loaded, operator
        self.notify = loaded.config.notify
        self.environ = os.environ if environ is None else environ
        self.clock = clock
        self.cursor: int | None = None
        self._releases: dict[str, Release] = {}

    # ------------------------------------------------------------ queue

    def start_cursor(self) -> int:
        """Where queueing resumes: after the last event a notice was queued for; on a log
        with no notice yet, the head (history is not announced)."""
        queued = self.store.events(actions=(NOTICE_QUEUED,), last=50)
        seqs = [int(ev.details_obj.get("source_seq") or 0) for ev in queued]
        return max(seqs) if any(seqs) else self.store.head()[0]

    def queue(self) -> list[Event]:
        """Queue the notices of every event since the cursor; return the notice events."""
        if self.cursor is None:
            self.cursor = self.start_cursor()
        if not self.notify.routes:
            self.cursor = self.store.head()[0]
            return []
        recorded: list[Event] = []
        events = self.store.events(after_seq=self.cursor, limit=5000)
        for ev in events:
            self.cursor = ev.seq
            if ev.action.startswith("notice.") or ev.release_id is None:
                continue
            for kind, discriminator, detail in self._kinds(ev):
                recorded += self._queue_one(ev, kind, discriminator, detail)
        return recorded

    def _release(self, release_id: str, refresh: bool = False) -> Release | None:
        if refresh or release_id not in self._releases:
            self._releases.update(fold(self.store.events(release_id=release_id)))
        return self._releases.get(release_id)

    def _kinds(self, ev: Event) -> list[tuple[str, object, str]]:
        """The notices ``ev`` makes: (kind, what makes it one of a kind, its detail line)."""
        kind = kind_of(ev)
        if kind is not None:
            return [(kind, ev.seq, detail_of(ev))]
        if ev.action not in (*_SETTLING, STEP_STARTED):
            return []
        from cockpit.checklist import load_checklist

        try:
            checklist = load_checklist(self.store, str(ev.release_id))
            phase = checklist.phase_of(str(ev.subject))
        except Exception:  # an unreadable plan or an unknown item: no notice
            return []
        if ev.action == STEP_STARTED:
            return [("t0_start", "t0", detail_of(ev))] if phase.offset_days == 0 else []
        done, total = checklist.progress(phase)
        if not total or done != total:
            return []
        return [("phase_complete", phase.id, f"{phase.id} ({phase.title_ja} / {phase.title_en})")]

    def context(self, release_id: str | None) -> Context:
        release = self._release(release_id) if release_id else None
        if release is None:
            return Context()
        from cockpit.timefmt import TimeFormat, display_zone

        t0 = TimeFormat(display_zone(self.loaded.config)).show(release.t0_at(), "minute")
        return Context(release.id, release.version, release.environment, t0, release.rehearsal)

    def _queue_one(self, ev: Event, kind: str, discriminator: object, detail: str) -> list[Event]:
        release = self._release(str(ev.release_id), refresh=True)  # its version may have changed
        environment = release.environment if release else ""
        severity = severity_of(self.notify, kind)
        recorded = []
        for name in route(self.notify, kind, severity, environment):
            key = notice_key(ev.release_id, kind, discriminator, name)
            new = self.queued_event(
                name, kind, severity, key, ev.release_id, detail, ev.seq, ev.actor
            )
            try:
                recorded.append(self.append_unique(new, NOTICE_QUEUED, key, 1))
            except Duplicate:
                continue
        return recorded

    def queued_event(
        self,
        channel: str,
        kind: str,
        severity: str,
        key: str,
        release_id: str | None,
        detail: str,
        source_seq: int,
        actor: str,
        *,
        text: str | None = None,
        title: str | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> NewEvent:
        """The ``notice.queued`` event of one notice (its text rendered unless given)."""
        context = self.context(release_id)
        langs = self.notify.channels[channel].langs
        shown_title, shown_text = render(kind, severity, langs, context, detail, source_seq, actor)
        return NewEvent(
            action=NOTICE_QUEUED,
            release_id=release_id,
            subject=key,
            rehearsal=context.rehearsal,
            details={
                "channel": channel,
                "kind": kind,
                "severity": severity,
                "source_seq": source_seq,
                "title": title or shown_title,
                "text": text if text is not None else shown_text,
                "version": context.version,
                "environment": context.environment,
                "t0": context.t0,
                **(extra or {}),
            },
        )

    def append_unique(self, new: NewEvent, action: str, key: str, count: int) -> Event:
        """Append ``new`` unless the log then holds more than ``count`` events of ``action``
        for ``key``: checked in the append's own transaction (the head is locked), so of two
        senders exactly one wins."""
        mark = "?" if self.store.is_sqlite else "%s"

        def check(cursor: Any) -> None:
            cursor.execute(
                f"SELECT COUNT(*) FROM events WHERE action = {mark} AND subject = {mark}",
                (action, key),
            )
            if int(cursor.fetchone()[0]) > count:
                raise Duplicate(f"notice {key}: {action} already recorded by another sender")

        return self.store.append_many([new], self.operator, also=check)[0]

    # ------------------------------------------------------------ deliver

    def pending(self) -> list[NoticeState]:
        return [
            s
            for s in fold_notices(self.store.events(actions=NOTICE_ACTIONS)).values()
            if not s.settled
        ]

    def next_due(self) -> float | None:
        """When the earliest unsettled notice is due (epoch seconds), if any."""
        dues = [
            s.due_at(self.notify.backoff_seconds, self.notify.max_backoff_seconds)
            for s in self.pending()
        ]
        return min(dues) if dues else None

    def deliver(self, only: str | None = None) -> list[Event]:
        """Send every notice that is due now (or only the one keyed ``only``)."""
        recorded: list[Event] = []
        now = self.clock()
        for state in self.pending():
            if only is not None and state.key != only:
                continue
            if state.in_flight(now):
                continue
            if state.due_at(self.notify.backoff_seconds, self.notify.max_backoff_seconds) > now:
                continue
            recorded += self._attempt(state)
        return recorded

    def _attempt(self, state: NoticeState) -> list[Event]:
        queued, d = state.queued, state.queued.details_obj
        channel_name = state.channel
        number = len(state.attempts) + 1
        base = {"channel": channel_name, "attempt": number, "queued_seq": queued.seq}
        channel = self.notify.channels.get(channel_name)
        if channel is None or number > self.notify.attempts:
            why = "no such channel in the config" if channel is None else "no attempts left"
            return [self._record(NOTICE_FAILED, queued, {**base, "error": why})]
        new = NewEvent(
            action=NOTICE_ATTEMPT,
            release_id=queued.release_id,
            subject=state.key,
            rehearsal=queued.rehearsal,
            details=base,
        )
        try:
            intent = self.append_unique(new, NOTICE_ATTEMPT, state.key, number)
        except Duplicate:
            return []
        outgoing = Outgoing(
            key=state.key,
            kind=str(d["kind"]),
            severity=str(d["severity"]),
            title=str(d["title"]),
            text=str(d["text"]),
            release_id=queued.release_id,
            facts={
                "version": d.get("version"),
                "environment": d.get("environment"),
                "t0": d.get("t0"),
                "host": socket.gethostname(),
            },
        )
        started = time.monotonic()
        try:
            answer = send(channel_name, self._resolved(channel), outgoing, self.environ)
        except SendFailed as exc:
            took = round(time.monotonic() - started, 3)
            details = {**base, "intent_seq": intent.seq, "error": str(exc), "elapsed_s": took}
            out = [intent, self._record(NOTICE_ATTEMPT_FAILED, queued, details)]
            if number >= self.notify.attempts:
                out.append(self._record(NOTICE_FAILED, queued, {**base, "error": str(exc)}))
            return out
        took = round(time.monotonic() - started, 3)
        details = {**base, "intent_seq": intent.seq, "answer": answer, "elapsed_s": took}
        return [intent, self._record(NOTICE_SENT, queued, details)]

    def _resolved(self, channel: ChannelConfig) -> ChannelConfig:
        if not channel.ca_file:
            return channel
        return msgspec.structs.replace(channel, ca_file=str(self.loaded.resolve(channel.ca_file)))

    def _record(self, action: str, queued: Event, details: dict[str, Any]) -> Event:
        return self.store.append(
            NewEvent(
                action=action,
                release_id=queued.release_id,
                subject=queued.subject,
                outcome={NOTICE_SENT: "ok"}.get(action, "failed"),
                rehearsal=queued.rehearsal,
                details=details,
            ),
            self.operator,
        )

    def test(self, channel: str) -> NoticeState:
        """``cockpit notify test CHANNEL``: queue a test notice and try it once, now; a failure
        is final (the sender does not retry a test)."""
        import uuid

        if channel not in self.notify.channels:
            from cockpit.errors import UsageError

            known = ", ".join(sorted(self.notify.channels)) or Phrase("err.none")
            raise UsageError.said("draft.test_unknown", name=channel, known=known)
        key = notice_key("test", channel, uuid.uuid4())
        queued = self.store.append(
            self.queued_event(channel, "test", "info", key, None, channel, 0, self.operator.actor),
            self.operator,
        )
        state = NoticeState(queued)
        events = self._attempt(state)
        state = fold_notices([queued, *events])[key]
        if not state.settled:
            error = state.failures[-1].details_obj.get("error") if state.failures else ""
            state.gave_up = self._record(
                NOTICE_FAILED, queued, {"channel": channel, "error": error, "test": True}
            )
        return state

    def run_once(self) -> list[Event]:
        return self.queue() + self.deliver()


class Sender(threading.Thread):
    """The background sender: woken by the log (or when a retry is due), queues and delivers.
    Never raises: a failure to read or append is logged and tried again on the next wake."""

    def __init__(self, outbox: Outbox, url: str, *, idle_s: float = 5.0) -> None:
        super().__init__(name="cockpit-notify", daemon=True)
        self.outbox, self.url, self.idle_s = outbox, url, idle_s
        self._stopping = threading.Event()
        self.passes = 0

    def stop(self) -> None:
        self._stopping.set()
        waker = getattr(self, "_waker", None)
        if waker is not None:
            waker.close()

    def run(self) -> None:
        from cockpit.follow import waker_for

        with waker_for(self.url) as waker:
            self._waker = waker
            while not self._stopping.is_set():
                try:
                    self.outbox.run_once()
                except Exception as exc:  # the sender must outlive a bad moment
                    log.warning("notices: %s", (str(exc).splitlines() or [""])[0])
                self.passes += 1
                due = self.outbox.next_due() if not self._stopping.is_set() else None
                wait = (
                    self.idle_s if due is None else max(0.05, min(self.idle_s, due - time.time()))
                )
                if self._stopping.is_set():
                    break
                waker.wait(wait)
