"""Canonical JSON, record bytes and redaction: pure functions, checked against RFC 8785."""

from __future__ import annotations

import json
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from cockpit.chain import (
    COLUMNS,
    MAX_SAFE_INT,
    _fast_row_hash,
    canonical,
    chain_hash,
    record_bytes,
    row_hash,
)
from cockpit.errors import EventRejected
from cockpit.events import Event
from cockpit.redact import check_details, redact

safe_ints = st.integers(min_value=-MAX_SAFE_INT, max_value=MAX_SAFE_INT)
texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
scalars = (
    st.none() | st.booleans() | safe_ints | texts | st.floats(allow_nan=False, allow_infinity=False)
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=20,
)


@given(json_values)
@settings(max_examples=400, deadline=None)
def test_canonical_equals_rfc8785(value: Any) -> None:
    assert canonical(value) == rfc8785.dumps(value)


@given(
    seq=st.integers(1, MAX_SAFE_INT),
    action=texts,
    actor=texts,
    subject=st.none() | texts,
    reason=st.none() | texts,
    release_id=st.none() | texts,
    rehearsal=st.booleans(),
    details=st.dictionaries(texts, json_values, max_size=4),
)
@settings(max_examples=300, deadline=None)
def test_record_bytes_equal_rfc8785_of_the_whole_record(
    seq: int,
    action: str,
    actor: str,
    subject: str | None,
    reason: str | None,
    release_id: str | None,
    rehearsal: bool,
    details: dict[str, Any],
) -> None:
    evidence = {"login": {"value": actor, "verified": True, "source": "uid"}}
    fields: dict[str, Any] = {
        "seq": seq,
        "event_id": "e",
        "schema": 1,
        "recorded_at": "2026-11-23T01:00:00.000000Z",
        "release_id": release_id,
        "action": action,
        "subject": subject,
        "outcome": None,
        "reason": reason,
        "rehearsal": rehearsal,
        "actor": actor,
    }
    stored = record_bytes(
        **fields, details=canonical(details).decode(), actor_evidence=canonical(evidence).decode()
    )
    assert stored == rfc8785.dumps({**fields, "details": details, "actor_evidence": evidence})


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"n": float("nan")}, "details.n: nan is not a number"),
        ({"n": float("-inf")}, "details.n: -inf is not a number"),
        ({"list": [1, 2**53]}, "details.list[1]: integer 9007199254740992 is outside ±2^53"),
        ({"x": {"y": -(2**64)}}, "details.x.y: integer -18446744073709551616 is outside"),
        ({1: "a"}, "details: key 1 must be a string"),
        ({"s": "\ud800"}, "details.s: text holds a lone surrogate"),
        ({"b": b"bytes"}, "details.b: a bytes cannot be recorded"),
    ],
)
def test_unrecordable_details_are_named(value: Any, message: str) -> None:
    with pytest.raises(EventRejected) as info:
        check_details(value)
    assert str(info.value).startswith(message)


def test_redact_removes_secrets_and_url_passwords() -> None:
    value = {
        "password": "p",
        "API_KEY": "k",
        "nested": [{"client_secret": "s", "ok": "fine"}],
        "dsn": "postgresql://app:pw@db:5432/x",
        "empty_token": "",
        "argv": ["psql", "-h", "db"],
    }
    out = redact(value)
    assert out == {
        "password": "[redacted]",
        "API_KEY": "[redacted]",
        "nested": [{"client_secret": "[redacted]", "ok": "fine"}],
        "dsn": "postgresql://app:***@db:5432/x",
        "empty_token": "",
        "argv": ["psql", "-h", "db"],
    }
    assert "pw" not in json.dumps(out)


def test_stored_columns_are_the_event_fields_in_order() -> None:
    assert tuple(Event.__dataclass_fields__) == COLUMNS


def test_free_text_masks_credentials_in_url_queries_too() -> None:
    from cockpit.redact import redact_text

    line = "GET http://127.0.0.1:9090/api/v1/query?query=up&Token=s3cr3t-value failed"
    assert "s3cr3t-value" not in redact_text(line)
    assert redact_text(line).endswith("?query=up&Token=*** failed")
    url = "postgresql://app:pw@db/x?sslmode=require&password=hunter22"
    assert redact_text(url) == "postgresql://app:***@db/x?sslmode=require&password=***"
    assert redact_text("https://example.com/?keyboard=1") == "https://example.com/?keyboard=1"


# Stored rows (COLUMNS order) and the hashes the chain gave them before its fast path: ASCII,
# every escape JSON has, a signature, non-ASCII and astral text (which take the exact path).
GOLDEN = [
    (
        (
            1,
            "00000000-0000-4000-8000-000000000001",
            1,
            "2026-11-23T01:00:00.000000Z",
            "r-1",
            "release.created",
            "1.0.0 release staging",
            "ok",
            None,
            '{"environment":"staging"}',
            True,
            "alice@bastion",
            '{"login":{"source":"uid","value":"alice","verified":true}}',
            "0" * 64,
            "x",
            None,
        ),
        "f730384b37889a25ed561405761fc1d108888004256d87dc20ebc57b7aadf55e",
    ),
    (
        (
            2,
            "e2",
            1,
            "2026-11-23T01:00:01.000000Z",
            None,
            "note",
            None,
            None,
            'quote " back \\ tab\t nl\n ctl\x01 del\x7f',
            "{}",
            False,
            "bob",
            "{}",
            "a" * 64,
            "x",
            "-----BEGIN SSH SIGNATURE-----\nabc\n-----END SSH SIGNATURE-----",
        ),
        "e03b8bdbbb386e4106762d61a76c3795315343814bd39aa5831e8054a18d39c6",
    ),
    (
        (
            3,
            "e3",
            1,
            "2026-11-23T01:00:02.000000Z",
            "r-ü",
            "note",
            "日本語 ok",
            None,
            "astral \U0001f600 emoji",
            '{"k":"é"}',
            0,
            "zoë",
            "{}",
            "b" * 64,
            "x",
        ),
        "5b0bab4c70f458f2323594c955293766e8614622a7b25705d9baae06058cdc31",
    ),
]


@pytest.mark.parametrize(("row", "digest"), GOLDEN)
def test_row_hash_golden_vectors(row: tuple[Any, ...], digest: str) -> None:
    assert row_hash(row) == digest
    assert row_hash(Event.from_row(row if len(row) == len(COLUMNS) else (*row, None))) == digest


@given(
    seq=st.integers(1, MAX_SAFE_INT),
    schema=st.integers(1, 3),
    strings=st.lists(texts, min_size=5, max_size=5),
    nullable=st.lists(st.none() | texts, min_size=5, max_size=5),
    rehearsal=st.sampled_from([True, False, 0, 1]),
    details=st.dictionaries(texts, json_values, max_size=4),
    prev=st.text("0123456789abcdef", min_size=64, max_size=64),
)
@settings(max_examples=500, deadline=None)
def test_the_fast_row_hash_hashes_the_exact_record_bytes(
    seq: int,
    schema: int,
    strings: list[str],
    nullable: list[str | None],
    rehearsal: bool,
    details: dict[str, Any],
    prev: str,
) -> None:
    event_id, recorded_at, action, actor, login = strings
    values: dict[str, Any] = dict(
        zip(("release_id", "subject", "outcome", "reason", "signature"), nullable, strict=True)
    ) | {
        "seq": seq,
        "event_id": event_id,
        "schema": schema,
        "recorded_at": recorded_at,
        "action": action,
        "details": canonical(details).decode(),
        "rehearsal": rehearsal,
        "actor": actor,
        "actor_evidence": canonical({"login": {"value": login, "verified": True}}).decode(),
        "prev_hash": prev,
        "hash": "",
    }
    row = tuple(values[c] for c in COLUMNS)
    recorded = {c: values[c] for c in COLUMNS if c not in ("prev_hash", "hash")}
    exact = chain_hash(prev, record_bytes(**recorded | {"rehearsal": bool(rehearsal)}))
    assert row_hash(row) == exact
    fast = _fast_row_hash(row)
    assert fast is None or fast == exact
    if all(s is None or s.isascii() for s in (*strings, *nullable)) and details == {}:
        assert fast == exact  # plain ASCII rows take the fast path
