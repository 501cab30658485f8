"""The event record, its canonical bytes, the hash chain, and verification.

An event's hash is ``SHA-256(DOMAIN || prev_hash || canonical JSON of the record)`` where the
canonical JSON follows RFC 8785 (JCS). The record holds every column but ``prev_hash`` (which is
hashed just before it) and ``hash`` itself, ``seq`` included, so a row moved to another seq no
longer matches its hash.

This module is pure: no database, no Textual. :mod:`cockpit.store` persists what it builds and
feeds stored rows back to :func:`verify_rows`.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from json.encoder import encode_basestring as _encode_string
from typing import Any

from cockpit.errors import EventRejected

SCHEMA_VERSION = 1
DOMAIN = b"release-cockpit/event/v1\x00"
GENESIS_HASH = "0" * 64
MAX_SAFE_INT = 2**53 - 1

# Actions whose event must say why.
REASON_REQUIRED = frozenset(
    {
        "item.skipped",
        "no_go",
        "override",
        "rollback.started",
        "gate.rejected",
        "watch.no_go",
        "trigger.continued",
        "nodata.override",
    }
)

_ACTION_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")
_SECRET_KEY_RE = re.compile(
    r"(passw(or)?d|passphrase|secret|token|api[_-]?key|private[_-]?key|credential|"
    r"^auth$|authorization|cookie|session[_-]?key)",
    re.I,
)
# Keys that name where a secret is kept (an environment variable), not the secret itself.
_SECRET_REFERENCE_RE = re.compile(r"(_env|_file|_path)$", re.I)
# --password=x, --token x-style arguments inside argv lists and command lines.
_SECRET_FLAG_RE = re.compile(
    r"(?P<flag>--?[A-Za-z0-9_-]*(?:passw(?:or)?d|secret|token|api[_-]?key)[A-Za-z0-9_-]*)"
    r"(?P<sep>[= ])(?P<value>[^\s]+)",
    re.I,
)
_URL_CREDENTIALS_RE = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:/@\s]*):[^@/\s]+@")
REDACTED = "[redacted]"


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
        """The event as plain JSON-ready data (details and evidence as objects)."""
        return {
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


# Column order used by the store when it reads rows back as plain tuples.
COLUMNS = tuple(Event.__dataclass_fields__)


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


def canonical(value: Any) -> bytes:
    """RFC 8785 canonical JSON of ``value``.

    Plain data (strings in the Basic Multilingual Plane, safe integers, booleans, null, lists and
    string-keyed objects) takes a fast path through :func:`json.dumps`, which produces the same
    bytes for such data; anything else (floats, astral characters whose UTF-16 key order differs)
    goes through the ``rfc8785`` package. A property test holds the two equal.
    """
    if _plain(value):
        return json.dumps(
            value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
        ).encode("utf-8")
    import rfc8785

    try:
        return bytes(rfc8785.dumps(value))
    except rfc8785.IntegerDomainError as exc:
        raise EventRejected(f"integer {exc.args[0] if exc.args else ''} is outside ±2^53") from None
    except rfc8785.FloatDomainError:
        raise EventRejected("NaN and infinities cannot be recorded") from None
    except (rfc8785.CanonicalizationError, UnicodeError) as exc:
        raise EventRejected(f"value cannot be recorded: {exc}") from None


def _plain(value: Any) -> bool:
    kind = type(value)
    if kind is str:
        return bool(value.isascii() or _bmp_text(value))
    if kind is bool or value is None:
        return True
    if kind is int:
        return bool(-MAX_SAFE_INT <= value <= MAX_SAFE_INT)
    if kind is dict:
        return all(type(k) is str and _plain(k) and _plain(v) for k, v in value.items())
    if kind is list or kind is tuple:
        return all(_plain(v) for v in value)
    return False


_NOT_BMP_RE = re.compile("[\ud800-\udfff\U00010000-\U0010ffff]")


def _bmp_text(text: str) -> bool:
    return _NOT_BMP_RE.search(text) is None


def check_details(value: Any, path: str = "details") -> None:
    """Refuse what RFC 8785 cannot represent, naming the key: NaN, infinities, integers past
    2^53, non-string keys, lone surrogates, and types JSON does not have."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        if isinstance(value, str) and re.search("[\ud800-\udfff]", value):
            raise EventRejected(f"{path}: text holds a lone surrogate; record valid Unicode")
        return
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INT:
            raise EventRejected(f"{path}: integer {value} is outside ±2^53; record it as a string")
        return
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise EventRejected(f"{path}: {value} is not a number that can be recorded")
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise EventRejected(f"{path}: key {key!r} must be a string")
            check_details(item, f"{path}.{key}")
        return
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            check_details(item, f"{path}[{index}]")
        return
    raise EventRejected(f"{path}: a {type(value).__name__} cannot be recorded as JSON")


def redact(value: Any) -> Any:
    """A copy of ``value`` with secrets removed: values under secret-looking keys, and passwords
    inside URLs. Applied to details before they are hashed, so secrets never reach the log."""
    if isinstance(value, Mapping):
        return {k: (REDACTED if _secret_key(str(k), v) else redact(v)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        out = [redact(v) for v in value]
        # argv: ["--password", "x"] -> the value after a secret flag goes too.
        for index in range(len(out) - 1):
            item = out[index]
            if isinstance(item, str) and "=" not in item and _SECRET_FLAG_RE.fullmatch(item + "=x"):
                out[index + 1] = REDACTED
        return out
    if isinstance(value, str):
        return redact_text(value)
    return value


def _secret_key(key: str, value: Any) -> bool:
    if value in (None, "") or _SECRET_REFERENCE_RE.search(key):
        return False
    return _SECRET_KEY_RE.search(key) is not None


def redact_text(text: str) -> str:
    """Free text (a reason, a note, one argv string) with URL passwords and the values of
    ``--password=...``-style flags replaced."""
    if "://" in text:
        text = _URL_CREDENTIALS_RE.sub(r"\g<scheme>\g<user>:***@", text)
    if "-" in text:
        text = _SECRET_FLAG_RE.sub(lambda m: f"{m['flag']}{m['sep']}{REDACTED}", text)
    return text


def now_utc() -> str:
    """RFC 3339 UTC with microseconds, the form hashed into every record."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_event_id() -> str:
    return str(uuid.uuid4())


def validate_new(event: NewEvent) -> None:
    """Refuse a malformed event before anything is written."""
    if not _ACTION_RE.match(event.action):
        raise EventRejected(f"action {event.action!r}: use lowercase words joined by dots")
    if event.action in REASON_REQUIRED and not (event.reason and event.reason.strip()):
        raise EventRejected(f"{event.action}: a reason is required")
    for name in ("subject", "outcome", "reason", "release_id"):
        value = getattr(event, name)
        if value is not None:
            check_details(value, name)
    check_details(dict(event.details))


def record_bytes(
    *,
    seq: int,
    event_id: str,
    schema: int,
    recorded_at: str,
    release_id: str | None,
    action: str,
    subject: str | None,
    outcome: str | None,
    reason: str | None,
    details: str,
    rehearsal: bool,
    actor: str,
    actor_evidence: str,
) -> bytes:
    """The canonical JSON of one record, built from stored columns.

    ``details`` and ``actor_evidence`` are already canonical JSON text (they were produced by
    :func:`canonical` at append), so they are spliced in as they are: the bytes equal RFC 8785
    of the whole record, and verifying does not re-parse them. Keys are in JCS order (all ASCII).
    """
    d = _dump
    return (
        '{"action":'
        + d(action)
        + ',"actor":'
        + d(actor)
        + ',"actor_evidence":'
        + actor_evidence
        + ',"details":'
        + details
        + ',"event_id":'
        + d(event_id)
        + ',"outcome":'
        + d(outcome)
        + ',"reason":'
        + d(reason)
        + ',"recorded_at":'
        + d(recorded_at)
        + ',"rehearsal":'
        + ("true" if rehearsal else "false")
        + ',"release_id":'
        + d(release_id)
        + ',"schema":'
        + str(int(schema))
        + ',"seq":'
        + str(int(seq))
        + ',"subject":'
        + d(subject)
        + "}"
    ).encode("utf-8")


def _dump(value: str | None) -> str:
    if value is None:
        return "null"
    if value.isascii() or _bmp_text(value):
        # What json.dumps(ensure_ascii=False) does for a string, without building an encoder
        # per call (that halves the time to verify a long log).
        return _encode_string(value)
    import rfc8785

    return bytes(rfc8785.dumps(value)).decode("utf-8")


def chain_hash(prev_hash: str, record: bytes) -> str:
    return hashlib.sha256(DOMAIN + prev_hash.encode("ascii") + record).hexdigest()


def row_hash(row: Event | tuple[Any, ...]) -> str:
    """Recompute the hash of a stored row (an :class:`Event` or a tuple in :data:`COLUMNS`)."""
    if isinstance(row, Event):
        row = tuple(getattr(row, name) for name in COLUMNS)
    (
        seq,
        event_id,
        schema,
        recorded_at,
        release_id,
        action,
        subject,
        outcome,
        reason,
        details,
        rehearsal,
        actor,
        actor_evidence,
        prev_hash,
        _hash,
    ) = row
    record = record_bytes(
        seq=seq,
        event_id=event_id,
        schema=schema,
        recorded_at=recorded_at,
        release_id=release_id,
        action=action,
        subject=subject,
        outcome=outcome,
        reason=reason,
        details=details,
        rehearsal=bool(rehearsal),
        actor=actor,
        actor_evidence=actor_evidence,
    )
    return chain_hash(prev_hash, record)


# ---------------------------------------------------------------- verification

GAP = "GAP"
HASH_MISMATCH = "HASH_MISMATCH"
LINK_BROKEN = "LINK_BROKEN"
SEQ_MISMATCH = "SEQ_MISMATCH"
TRUNCATED = "TRUNCATED"
ANCHOR_MISMATCH = "ANCHOR_MISMATCH"
CLOCK_BACKWARDS = "CLOCK_BACKWARDS"


@dataclass(frozen=True)
class Finding:
    code: str
    seq: int
    message: str

    def __str__(self) -> str:
        return f"{self.code} at seq {self.seq}: {self.message}"


@dataclass(frozen=True)
class Checkpoint:
    """The chain head as last written outside the database."""

    seq: int
    hash: str


@dataclass
class VerifyReport:
    count: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS_HASH
    problem: Finding | None = None
    warnings: list[Finding] = field(default_factory=list)
    checkpoint: Checkpoint | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def verify_rows(
    rows: Iterable[tuple[Any, ...]], checkpoint: Checkpoint | None = None
) -> VerifyReport:
    """Walk stored rows (tuples in :data:`COLUMNS` order, ascending seq) and report the first
    problem with its seq, plus warnings (clock going backwards).

    Findings, in the order they are looked for on each row:

    - ``GAP``: a seq is missing (a row was deleted).
    - ``SEQ_MISMATCH``: a row sits at the wrong seq (rows swapped or moved): its ``prev_hash``
      names a row that is stored later, or seqs go backwards.
    - ``HASH_MISMATCH``: the row's content no longer produces its stored hash (edited).
    - ``LINK_BROKEN``: the row hashes correctly but the next row's ``prev_hash`` names another
      hash: the row was edited and its hash recomputed (reported at the rewritten row).
    - ``TRUNCATED``: the checkpoint names a seq beyond the last row (the tail was cut off).
    - ``ANCHOR_MISMATCH``: the row at the checkpoint's seq has another hash (the end was
      rewritten consistently).
    """
    report = VerifyReport(checkpoint=checkpoint)
    rows = rows if isinstance(rows, list) else list(rows)
    position = {row[14]: row[0] for row in rows}  # stored hash -> seq
    expected = 1
    prev_hash = GENESIS_HASH
    prev_time = ""
    for index, row in enumerate(rows):
        seq, recorded_at, stored_prev, stored_hash = row[0], row[3], row[13], row[14]
        if seq > expected:
            report.problem = Finding(GAP, expected, f"seq {expected} is missing (next is {seq})")
            return report
        if seq < expected:
            report.problem = Finding(
                SEQ_MISMATCH, seq, f"seq {seq} appears again after {expected - 1}"
            )
            return report
        if stored_prev != prev_hash:
            later = position.get(stored_prev)
            if later is not None and later > seq:
                report.problem = Finding(
                    SEQ_MISMATCH,
                    seq,
                    f"this row links to the row stored at seq {later}: rows were swapped or moved",
                )
                return report
        computed = row_hash(row)
        if computed != stored_hash:
            report.problem = Finding(
                HASH_MISMATCH, seq, "the record does not match its hash: it was edited"
            )
            return report
        if stored_prev != prev_hash:
            # This row is intact but does not follow the previous one: the previous row was
            # rewritten (with a recomputed hash) after this one was appended.
            # The row before this one is the bad one: the good part ends two rows back.
            report.count = max(index - 1, 0)
            report.head_seq = seq - 2 if index >= 2 else 0
            report.head_hash = rows[index - 2][14] if index >= 2 else GENESIS_HASH
            report.problem = Finding(
                LINK_BROKEN,
                seq - 1,
                f"seq {seq} was chained to a different seq {seq - 1}: seq {seq - 1} was rewritten",
            )
            return report
        if recorded_at < prev_time:
            report.warnings.append(
                Finding(CLOCK_BACKWARDS, seq, f"recorded at {recorded_at}, before {prev_time}")
            )
        prev_time = recorded_at
        prev_hash = stored_hash
        expected = seq + 1
        report.count = index + 1
        report.head_seq, report.head_hash = seq, stored_hash
    if checkpoint is not None and checkpoint.seq > 0:
        if checkpoint.seq > report.head_seq:
            report.problem = Finding(
                TRUNCATED,
                report.head_seq + 1,
                f"the checkpoint names seq {checkpoint.seq} but the log ends at "
                f"{report.head_seq}: events were removed from the end",
            )
            return report
        # The walk above proved seqs run 1..head without gaps, so seq n is at index n - 1.
        anchor = rows[checkpoint.seq - 1]
        if anchor[14] != checkpoint.hash:
            report.problem = Finding(
                ANCHOR_MISMATCH,
                checkpoint.seq,
                f"seq {checkpoint.seq} has hash {anchor[14][:12]}..., the checkpoint says "
                f"{checkpoint.hash[:12]}...: the log was rewritten up to here",
            )
    return report
