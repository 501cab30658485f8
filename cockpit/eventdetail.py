"""One event in full, for the audit viewer's detail pane: the event, what its signature proves
(the verified principal, or a claim, and the signing key's fingerprint), and what the database
stamped on it (``db_user``, ``db_time``: PostgreSQL's ``session_user`` and clock; none on SQLite).

Read off the UI thread (it checks a signature and reads the store)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cockpit.events import COLUMNS, Event
from cockpit.identity import VERIFIED, actor_name, verdict

if TYPE_CHECKING:
    from cockpit.events import Event
    from cockpit.store import Store


@dataclass(frozen=True)
class EventDetail:
    event: Event
    signature: str  # a verdict code of cockpit.identity; "" when the event carries none
    key: str | None  # the signing key's fingerprint, when the signature verifies
    db_user: str | None = None
    db_time: str | None = None

    @property
    def principal(self) -> str | None:
        """Whose signature it is, when the allowed signers prove it: the actor's name."""
        return actor_name(self.event.actor) if self.signature == VERIFIED else None


def event_detail(store: Store, seq: int) -> EventDetail | None:
    """Event ``seq`` in full, its signature checked against the store's allowed signers;
    ``None`` when there is no such event."""

    def read(cursor: Any, mark: str) -> Any:
        cursor.execute(
            f"SELECT {', '.join(COLUMNS)}, db_user, db_time FROM events WHERE seq = {mark}", (seq,)
        )
        return cursor.fetchone()

    row = store.read_with(read)  # the event and its database stamp, in one read
    if row is None:
        return None
    event, db_user, db_time = Event.from_row(tuple(row[:-2])), row[-2], row[-1]
    if event.signature is None:
        return EventDetail(event, "", None, db_user, db_time)
    found_verdict = verdict(event, store.signers)
    return EventDetail(event, found_verdict.code, found_verdict.key, db_user, db_time)
