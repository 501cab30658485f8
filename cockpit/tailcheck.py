"""A broken chain stops growing: the check of the tail an append links to, and acknowledged breaks.

Before each append batch, inside its transaction, :func:`tail_finding` looks at what the new rows
will link to, cheaply (two rows and one lookup, whatever the log's length): the chain head row
agrees with the last row, the last row still hashes to its stored hash and links to the row
before it, and the row at the checkpoint's seq still has the checkpoint's hash. A deletion or
edit deeper in the log is found by ``cockpit audit verify``, which walks all of it. A break found
here refuses the append (:func:`refuse_unless_acknowledged`) until an operator has investigated
and recorded an acknowledged break (``cockpit audit acknowledge --seq N --reason ...``): an
``audit.break_acknowledged`` event naming the first bad seq and the finding. The batch carrying
that event is let through, and so is every later append while the break at that seq is the one
found. Findings use the codes and seqs of :mod:`cockpit.verify`, so the seq ``audit verify``
names is the one to acknowledge.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from cockpit.chain import COLUMNS, GENESIS_HASH, row_hash
from cockpit.errors import AppendFailed
from cockpit.verify import (
    ANCHOR_MISMATCH,
    GAP,
    HASH_MISMATCH,
    HEAD_MISMATCH,
    LINK_BROKEN,
    TRUNCATED,
    Checkpoint,
    Finding,
)
from cockpit.vocabulary import AUDIT_BREAK_ACKNOWLEDGED

_SELECT_COLUMNS = ", ".join(COLUMNS)


def tail_finding(
    cursor: Any, mark: str, head: tuple[int, str], anchor: Checkpoint | None
) -> Finding | None:
    """What is wrong with the tail an append would link to, ``None`` when it is intact.
    ``cursor`` is a DB-API cursor, ``mark`` its parameter mark, ``head`` the chain head row's
    seq and hash, ``anchor`` the checkpoint last written."""
    head_seq, head_hash = head
    cursor.execute(f"SELECT {_SELECT_COLUMNS} FROM events ORDER BY seq DESC LIMIT 2")
    rows = [tuple(r) for r in cursor.fetchall()]
    last_seq = int(rows[0][0]) if rows else 0
    if head_seq > last_seq:
        return Finding(
            TRUNCATED,
            last_seq + 1,
            f"the chain head says seq {head_seq} but the log ends at {last_seq}",
        )
    if head_seq < last_seq:  # named as `audit verify` names it
        return Finding(
            HEAD_MISMATCH,
            head_seq + 1,
            f"the chain head says seq {head_seq} but the log goes on to {last_seq}: the head "
            "was moved back",
        )
    if rows:
        found = _last_rows_finding(rows, head_hash)
        if found is not None:
            return found
    if anchor is None:
        return None
    if anchor.seq > head_seq:
        return Finding(
            TRUNCATED,
            head_seq + 1,
            f"the checkpoint names seq {anchor.seq} but the log ends at {head_seq}",
        )
    cursor.execute(f"SELECT hash FROM events WHERE seq = {mark}", (anchor.seq,))
    row = cursor.fetchone()
    if row is None or row[0] != anchor.hash:
        return Finding(
            ANCHOR_MISMATCH,
            anchor.seq,
            f"seq {anchor.seq} no longer has the hash in the checkpoint: the log was rewritten",
        )
    return None


def _last_rows_finding(rows: Sequence[tuple[Any, ...]], head_hash: str) -> Finding | None:
    last = rows[0]
    seq = int(last[0])
    if last[14] != head_hash:
        return Finding(
            ANCHOR_MISMATCH, seq, "the chain head records another hash for this seq: rewritten"
        )
    if row_hash(last) != last[14]:
        return Finding(HASH_MISMATCH, seq, "the record does not match its hash: it was edited")
    if seq == 1:
        if last[13] != GENESIS_HASH:
            return Finding(LINK_BROKEN, 1, "seq 1 does not start the chain")
        return None
    before = rows[1] if len(rows) > 1 else None
    if before is None or int(before[0]) != seq - 1:
        missing = int(before[0]) + 1 if before is not None else 1
        return Finding(GAP, missing, f"seq {missing} is missing (next is {seq})")
    if before[14] != last[13]:
        return Finding(
            LINK_BROKEN,
            seq - 1,
            f"seq {seq} was chained to a different seq {seq - 1}: seq {seq - 1} was rewritten",
        )
    return None


def acknowledged_seqs(cursor: Any, mark: str) -> set[int]:
    """The seqs of every break acknowledged in the log (off the hot path: only once a break is
    found)."""
    cursor.execute(f"SELECT details FROM events WHERE action = {mark}", (AUDIT_BREAK_ACKNOWLEDGED,))
    seqs = set()
    for (details,) in cursor.fetchall():
        seq = json.loads(details).get("seq")
        if type(seq) is int:
            seqs.add(seq)
    return seqs


def refuse_unless_acknowledged(
    finding: Finding, cursor: Any, mark: str, batch_acks: Sequence[Any]
) -> None:
    """Raise :class:`AppendFailed` naming the seq and what to run, unless the break at
    ``finding.seq`` is acknowledged in the log or by an event of this batch."""
    if finding.seq in batch_acks or finding.seq in acknowledged_seqs(cursor, mark):
        return
    raise AppendFailed.said(
        "db.broken", seq=finding.seq, code=finding.code, message=finding.message
    )
