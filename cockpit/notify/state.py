"""What became of each notice, folded from its events: :class:`NoticeState` (queued,
attempts, outcome, when the next attempt is due) and each channel's health (``ok``, or
``failing`` with the last error) for ``cockpit notify status`` and the dashboard. Pure reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from cockpit.events import Event
from cockpit.vocabulary import (
    NOTICE_ATTEMPT,
    NOTICE_ATTEMPT_FAILED,
    NOTICE_FAILED,
    NOTICE_QUEUED,
    NOTICE_SENT,
)

if TYPE_CHECKING:
    from cockpit.store import Store

NOTICE_ACTIONS = (NOTICE_QUEUED, NOTICE_ATTEMPT, NOTICE_SENT, NOTICE_ATTEMPT_FAILED, NOTICE_FAILED)
# An attempt with no outcome after this long (its sender died mid-send) may be tried again.
STALE_ATTEMPT_S = 120.0


def _epoch(recorded_at: str) -> float:
    return float(datetime.fromisoformat(recorded_at.replace("Z", "+00:00")).timestamp())


@dataclass
class NoticeState:
    """One queued notice and what became of it, folded from its events."""

    queued: Event
    attempts: list[Event] = field(default_factory=list)
    failures: list[Event] = field(default_factory=list)
    sent: Event | None = None
    gave_up: Event | None = None

    @property
    def key(self) -> str:
        return str(self.queued.subject)

    @property
    def channel(self) -> str:
        return str(self.queued.details_obj["channel"])

    @property
    def settled(self) -> bool:
        return self.sent is not None or self.gave_up is not None

    def in_flight(self, now: float) -> bool:
        """An attempt without its outcome, recent enough that its sender may still be at it."""
        open_attempts = len(self.attempts) - len(self.failures) - (self.sent is not None)
        return open_attempts > 0 and now - _epoch(self.attempts[-1].recorded_at) < STALE_ATTEMPT_S

    def due_at(self, backoff: float, most: float) -> float:
        if not self.failures:
            return _epoch(self.queued.recorded_at)
        wait = min(backoff * float(2 ** (len(self.failures) - 1)), most)
        return _epoch(self.failures[-1].recorded_at) + wait


def fold_notices(events: list[Event]) -> dict[str, NoticeState]:
    """Every queued notice by key, with its attempts and outcome."""
    notices: dict[str, NoticeState] = {}
    for ev in events:
        if ev.action == NOTICE_QUEUED:
            notices.setdefault(str(ev.subject), NoticeState(ev))
            continue
        state = notices.get(str(ev.subject))
        if state is None:
            continue
        if ev.action == NOTICE_ATTEMPT:
            state.attempts.append(ev)
        elif ev.action == NOTICE_ATTEMPT_FAILED:
            state.failures.append(ev)
        elif ev.action == NOTICE_SENT:
            state.sent = ev
        elif ev.action == NOTICE_FAILED:
            state.gave_up = ev
    return notices


def channel_health(events: list[Event]) -> dict[str, str]:
    """Each channel's state from its notices' last outcome: ``ok`` or ``failing: <error>``."""
    health: dict[str, str] = {}
    channels: dict[str, str] = {}
    for ev in events:
        d = ev.details_obj
        if ev.action == NOTICE_QUEUED:
            channels[str(ev.subject)] = str(d.get("channel"))
        channel = channels.get(str(ev.subject))
        if channel is None:
            continue
        if ev.action == NOTICE_SENT:
            health[channel] = "ok"
        elif ev.action in (NOTICE_ATTEMPT_FAILED, NOTICE_FAILED):
            health[channel] = f"failing: {d.get('error', '')}"
    return health


def failing_channels(store: Store) -> list[str]:
    """The channels whose last attempt failed (for the dashboard)."""
    events = store.events(actions=NOTICE_ACTIONS)
    return sorted(n for n, state in channel_health(events).items() if state != "ok")
