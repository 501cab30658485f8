"""One event in full, for the audit viewer's detail pane: the event, what its signature proves
(the verified principal, or a claim, and the signing key's fingerprint), and what the database
stamped on it (``db_user``, ``db_time``: PostgreSQL's ``session_user`` and clock; none on SQLite).

Read off the UI thread (it checks a signature and reads the store)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

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
    found = store.events(after_seq=seq - 1, limit=1)
    if not found or found[0].seq != seq:
        return None
    event = found[0]

    def read(cursor: Any, mark: str) -> Any:
        cursor.execute(f"SELECT db_user, db_time FROM events WHERE seq = {mark}", (seq,))
        return cursor.fetchone()

    stamp = store.read_with(read)
    db_user, db_time = (stamp[0], stamp[1]) if stamp is not None else (None, None)
    if event.signature is None:
        return EventDetail(event, "", None, db_user, db_time)
    found_verdict = verdict(event, store.signers)
    return EventDetail(event, found_verdict.code, found_verdict.key, db_user, db_time)
