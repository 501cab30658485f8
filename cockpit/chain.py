"""The bytes an event is hashed over, and the hash chain that links each row to the one before.

An event's hash is ``SHA-256(DOMAIN || prev_hash || canonical JSON of the record)`` where the
canonical JSON follows RFC 8785 (JCS). The record holds every column but ``prev_hash`` (which is
hashed just before it) and ``hash`` itself, ``seq`` included, so a row moved to another seq no
longer matches its hash. Pure functions over stored columns: :mod:`cockpit.events` builds records
with them, :mod:`cockpit.verify` walks the chain with them.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from json.encoder import encode_basestring as _encode_string
from typing import Any

from cockpit.errors import EventRejected

DOMAIN = b"release-cockpit/event/v1\x00"
GENESIS_HASH = "0" * 64
MAX_SAFE_INT = 2**53 - 1

# Column order used by the store when it reads rows back as plain tuples (the fields of
# cockpit.events.Event, in order; a test holds them equal).
COLUMNS = (
    "seq",
    "event_id",
    "schema",
    "recorded_at",
    "release_id",
    "action",
    "subject",
    "outcome",
    "reason",
    "details",
    "rehearsal",
    "actor",
    "actor_evidence",
    "prev_hash",
    "hash",
    # Last, so the positions above stay; hashed only when present (see record_bytes).
    "signature",
)


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
    signature: str | None = None,
) -> bytes:
    """The canonical JSON of one record, built from stored columns.

    ``details`` and ``actor_evidence`` are already canonical JSON text (they were produced by
    :func:`canonical` at append), so they are spliced in as they are: the bytes equal RFC 8785
    of the whole record, and verifying does not re-parse them. Keys are in JCS order (all ASCII).
    ``signature`` (an SSH signature, :mod:`cockpit.signing`) is a key of the record only when the
    event carries one, so the bytes of every unsigned event are what they were before signing.
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
        + ("" if signature is None else ',"signature":' + d(signature))
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


def row_hash(row: Any) -> str:
    """Recompute the hash of a stored row: a tuple in :data:`COLUMNS` order, or an
    :class:`cockpit.events.Event` (anything else with the columns as attributes)."""
    if type(row) is not tuple or len(row) != len(COLUMNS):
        if not isinstance(row, Sequence):
            row = tuple(getattr(row, name) for name in COLUMNS)
        if len(row) != len(COLUMNS):
            row = (*row, None)
    fast = _fast_row_hash(row)
    return fast if fast is not None else _exact_row_hash(row)


_enc = _encode_string
_sha256 = hashlib.sha256
_DOMAIN = DOMAIN.decode("ascii")
_SIGNATURE = ',"signature":'


def _fast_row_hash(row: tuple[Any, ...]) -> str | None:
    """:func:`chain_hash` of :func:`record_bytes` in one formatting, for rows whose every
    column is ASCII text (nearly all): JSON escaping of ASCII text is then what :func:`_dump`
    does, and UTF-8 is ASCII. ``None`` for any other row (the exact path takes it)."""
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
        signature,
    ) = row
    if type(seq) is not int or type(schema) is not int:
        return None
    if type(prev_hash) is not str or type(details) is not str or type(actor_evidence) is not str:
        return None
    try:
        text = (
            f'{_DOMAIN}{prev_hash}{{"action":{_enc(action)},"actor":{_enc(actor)},'
            f'"actor_evidence":{actor_evidence},"details":{details},'
            f'"event_id":{_enc(event_id)},'
            f'"outcome":{"null" if outcome is None else _enc(outcome)},'
            f'"reason":{"null" if reason is None else _enc(reason)},'
            f'"recorded_at":{_enc(recorded_at)},"rehearsal":{"true" if rehearsal else "false"},'
            f'"release_id":{"null" if release_id is None else _enc(release_id)},'
            f'"schema":{schema},"seq":{seq}'
            f"{'' if signature is None else _SIGNATURE + _enc(signature)}"
            f',"subject":{"null" if subject is None else _enc(subject)}}}'
        )
    except TypeError:  # text columns holding something else: the exact path says what
        return None
    if not text.isascii():
        return None
    return _sha256(text.encode("ascii")).hexdigest()


def _exact_row_hash(row: Sequence[Any]) -> str:
    values = dict(zip(COLUMNS, row, strict=True))
    prev_hash = values.pop("prev_hash")
    del values["hash"]
    values["rehearsal"] = bool(values["rehearsal"])
    return chain_hash(prev_hash, record_bytes(**values))
