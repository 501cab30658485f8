"""The event record: what one row of the log holds, and what a caller may ask to record.

:class:`Event` is a stored row, :class:`NewEvent` a request to record one; :func:`validate_new`
refuses a malformed request before anything is written. The pieces an event is built from live
beside it and are re-exported here, so ``from cockpit.events import X`` keeps one place to import
from: the canonical bytes and the hash chain (:mod:`cockpit.chain`), details checks and
redaction (:mod:`cockpit.redact`), chain verification (:mod:`cockpit.verify`) and the registry of
actions (:mod:`cockpit.vocabulary`).

This module is pure: no database, no Textual. :mod:`cockpit.store` persists what it builds and
feeds stored rows back to :func:`verify_rows`.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cockpit.chain import (
    COLUMNS,
    DOMAIN,
    GENESIS_HASH,
    MAX_SAFE_INT,
    canonical,
    chain_hash,
    record_bytes,
    row_hash,
)
from cockpit.errors import EventRejected
from cockpit.redact import REDACTED, check_details, redact, redact_text
from cockpit.verify import (
    ANCHOR_MISMATCH,
    CLOCK_BACKWARDS,
    GAP,
    HASH_MISMATCH,
    LINK_BROKEN,
    SEQ_MISMATCH,
    TRUNCATED,
    Checkpoint,
    Finding,
    VerifyReport,
    verify_rows,
)
from cockpit.vocabulary import REASON_REQUIRED

__all__ = [
    "ANCHOR_MISMATCH",
    "CLOCK_BACKWARDS",
    "COLUMNS",
    "DOMAIN",
    "GAP",
    "GENESIS_HASH",
    "HASH_MISMATCH",
    "LINK_BROKEN",
    "MAX_SAFE_INT",
    "REASON_REQUIRED",
    "REDACTED",
    "SCHEMA_VERSION",
    "SEQ_MISMATCH",
    "TRUNCATED",
    "Checkpoint",
    "Event",
    "Finding",
    "NewEvent",
    "VerifyReport",
    "canonical",
    "chain_hash",
    "check_details",
    "new_event_id",
    "now_utc",
    "record_bytes",
    "redact",
    "redact_text",
    "row_hash",
    "validate_new",
    "verify_rows",
]

SCHEMA_VERSION = 1

_ACTION_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")


@dataclass(frozen=True)
class Event:
    """One row of the log, as stored."""

    seq: int
    event_id: str
    schema: int
    recorded_at: str
    release_id: str | None
    action: str
    subject: str | None
    outcome: str | None
    reason: str | None
    details: str  # canonical JSON text of an object
    rehearsal: bool
    actor: str
    actor_evidence: str  # canonical JSON text of an object
    prev_hash: str
    hash: str
    # An SSH signature over :func:`cockpit.signing.signed_bytes` of the event, when it carries one.
    signature: str | None = None

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> Event:
        """An event from a stored row in :data:`COLUMNS` order (SQLite gives 0/1 for booleans)."""
        values = dict(zip(COLUMNS, row, strict=True))
        values["rehearsal"] = bool(values["rehearsal"])
        return cls(**values)

    @property
    def details_obj(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.details)
        return value

    @property
    def evidence_obj(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.actor_evidence)
        return value

    def as_dict(self) -> dict[str, Any]:
        """The event as plain JSON-ready data (details and evidence as objects; the signature
        only when the event carries one)."""
        out = {
            "seq": self.seq,
            "event_id": self.event_id,
            "schema": self.schema,
            "recorded_at": self.recorded_at,
            "release_id": self.release_id,
            "action": self.action,
            "subject": self.subject,
            "outcome": self.outcome,
            "reason": self.reason,
            "details": self.details_obj,
            "rehearsal": self.rehearsal,
            "actor": self.actor,
            "actor_evidence": self.evidence_obj,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }
        if self.signature is not None:
            out["signature"] = self.signature
        return out


@dataclass(frozen=True)
class NewEvent:
    """What a caller asks to record; the store fills in seq, time, and the chain."""

    action: str
    release_id: str | None = None
    subject: str | None = None
    outcome: str | None = None
    reason: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    rehearsal: bool = False
    # Sign it with the operator's SSH key (:mod:`cockpit.signing`) before it is recorded.
    signed: bool = False


def now_utc() -> str:
    """RFC 3339 UTC with microseconds, the form hashed into every record."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_event_id() -> str:
    return str(uuid.uuid4())


def validate_new(event: NewEvent) -> None:
    """Refuse a malformed event before anything is written."""
    if not _ACTION_RE.match(event.action):
        raise EventRejected.said("ev.action", action=event.action)
    if event.action in REASON_REQUIRED and not (event.reason and event.reason.strip()):
        raise EventRejected.said("met.reason_required", action=event.action)
    for name in ("subject", "outcome", "reason", "release_id"):
        value = getattr(event, name)
        if value is not None:
            check_details(value, name)
    check_details(dict(event.details))
