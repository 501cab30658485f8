"""Verification of the hash chain: walk stored rows and name the first bad seq and what is wrong.

:func:`verify_rows` checks that seqs run without gaps, that each row still hashes to its stored
hash and links to the row before, and that the head written outside the database (a
:class:`Checkpoint`) is still in the log. It reads plain tuples in :data:`cockpit.chain.COLUMNS`
order; :func:`verify_stored` adds the database's own chain head and the identity findings (each
signature checked against the allowed signers, and the events that must be signed and are not:
:func:`cockpit.identity.identity_findings`), for :meth:`cockpit.store.Store.verify`.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cockpit.chain import GENESIS_HASH, row_hash

if TYPE_CHECKING:
    from cockpit.identity import Signers

GAP = "GAP"
HASH_MISMATCH = "HASH_MISMATCH"
LINK_BROKEN = "LINK_BROKEN"
SEQ_MISMATCH = "SEQ_MISMATCH"
TRUNCATED = "TRUNCATED"
ANCHOR_MISMATCH = "ANCHOR_MISMATCH"
CLOCK_BACKWARDS = "CLOCK_BACKWARDS"
HEAD_MISMATCH = "HEAD_MISMATCH"


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
    # Events whose database principal disagrees with their actor (cockpit.dbroles).
    principals: list[Finding] = field(default_factory=list)
    # Who acted, as proven: signatures (BAD_SIGNATURE, UNKNOWN_SIGNER, SIGNER_MISMATCH,
    # UNSIGNED from cockpit.identity) and any other check of identity, each at its seq. Unlike
    # ``problem`` they do not stop the walk: every one is listed.
    identity: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.problem is None and not self.identity and not self.principals

    @property
    def findings(self) -> list[Finding]:
        """The chain's problem (if any) first, then the signature and principal findings."""
        return ([self.problem] if self.problem else []) + self.identity + self.principals


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


def verify_stored(
    rows: Callable[[], list[tuple[Any, ...]]],
    head: tuple[int, str],
    checkpoint: Checkpoint | None = None,
    head_after: Callable[[], tuple[int, str]] | None = None,
    *,
    signers: Signers | None = None,
) -> VerifyReport:
    """Verify the rows ``rows()`` loads against ``checkpoint`` and, as a second anchor, the
    database's own chain ``head`` (seq and hash, read before the rows so a concurrent append
    cannot look like a cut tail). ``head_after()`` reads the head again after the rows: a head
    behind the last row was moved back (``HEAD_MISMATCH``; an honest head only grows). Then
    every signature against ``signers``."""
    from cockpit.identity import identity_findings

    head_seq, head_hash = head
    # Loading a long log makes millions of small objects; the collector scanning them
    # again and again would double the time to verify.
    enabled = gc.isenabled()
    gc.disable()
    try:
        loaded = rows()
        report = verify_rows(loaded, checkpoint)
        report.identity.extend(Finding(*found) for found in identity_findings(loaded, signers))
    finally:
        if enabled:
            gc.enable()
    if report.problem is None and head_seq > report.head_seq:
        report.problem = Finding(
            TRUNCATED,
            report.head_seq + 1,
            f"the chain head says seq {head_seq} but the log ends at {report.head_seq}: "
            "events were removed from the end",
        )
    elif report.problem is None and head_seq == report.head_seq and head_hash != report.head_hash:
        report.problem = Finding(
            ANCHOR_MISMATCH,
            head_seq,
            "the chain head records another hash for this seq: the end was rewritten",
        )
    recheck = report.problem is None and head_after is not None
    after = head_after()[0] if recheck and head_after is not None else report.head_seq
    if after < report.head_seq:
        report.problem = Finding(
            HEAD_MISMATCH,
            after + 1,
            f"the chain head says seq {after} but the log goes on to "
            f"{report.head_seq}: the head was moved back (appends are refused until it is "
            "put right)",
        )
    return report
