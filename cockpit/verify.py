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
    # How many processes walked the log (two for a long SQLite log: cockpit.logsplit).
    processes: int = 1

    @property
    def ok(self) -> bool:
        return self.problem is None and not self.identity and not self.principals

    @property
    def findings(self) -> list[Finding]:
        """The chain's problem (if any) first, then the signature and principal findings."""
        return ([self.problem] if self.problem else []) + self.identity + self.principals


def verify_rows(
    rows: Iterable[tuple[Any, ...]],
    checkpoint: Checkpoint | None = None,
    *,
    start: tuple[int, str] = (0, GENESIS_HASH),
    seq_of: Callable[[str], int | None] | None = None,
    hash_at: Callable[[int], str | None] | None = None,
    on_row: Callable[[tuple[Any, ...]], object] | None = None,
    start_time: str = "",
) -> VerifyReport:
    """Walk stored rows (tuples in :data:`COLUMNS` order, ascending seq) and report the first
    problem with its seq, plus warnings (clock going backwards). The rows may be a stream: only
    the last two are kept (bounded memory).

    ``start`` is the (seq, hash) the walk continues from: the genesis for a full verify, the
    head a previous run verified for an incremental one (the rows are then those after it).
    ``seq_of(hash)`` says where a hash is stored (looked up only when a row does not link to the
    one before; given a list, it is found there); ``hash_at(seq)`` the stored hash at a seq
    before ``start`` (the checkpoint's, on an incremental run). ``on_row`` sees each row that
    verified (the identity and projection checks ride along the same pass). ``start_time`` is
    the ``recorded_at`` of the row at ``start`` (the clock check goes on from it).

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
    if seq_of is None and isinstance(rows, list):
        listed = rows
        seq_of = lambda digest: next((r[0] for r in listed if r[14] == digest), None)  # noqa: E731
    start_seq, prev_hash = start
    report.head_seq, report.head_hash = start
    expected = start_seq + 1
    prev_time = start_time
    # (seq, hash) of the row before the last verified one, for LINK_BROKEN's good part.
    before = start if start_seq == 0 else (start_seq - 1, "")
    anchor_hash: str | None = None
    for row in rows:
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
            later = seq_of(stored_prev) if seq_of is not None else None
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
            report.count = max(report.count - 1, 0)
            report.head_seq, report.head_hash = (
                (seq - 2, before[1]) if seq >= 3 else (0, GENESIS_HASH)
            )
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
        if checkpoint is not None and seq == checkpoint.seq:
            anchor_hash = stored_hash
        if on_row is not None:
            on_row(row)
        prev_time = recorded_at
        before = (report.head_seq, report.head_hash)
        prev_hash = stored_hash
        expected = seq + 1
        report.count += 1
        report.head_seq, report.head_hash = seq, stored_hash
    check_anchor(report, checkpoint, anchor_hash, start_seq, hash_at)
    return report


def check_anchor(
    report: VerifyReport,
    checkpoint: Checkpoint | None,
    anchor_hash: str | None,
    start_seq: int = 0,
    hash_at: Callable[[int], str | None] | None = None,
) -> None:
    """After an intact walk, the checkpoint's checks (``TRUNCATED``, ``ANCHOR_MISMATCH``);
    ``anchor_hash`` is the hash the walk saw at the checkpoint's seq."""
    if checkpoint is not None and checkpoint.seq > 0:
        if checkpoint.seq > report.head_seq:
            report.problem = Finding(
                TRUNCATED,
                report.head_seq + 1,
                f"the checkpoint names seq {checkpoint.seq} but the log ends at "
                f"{report.head_seq}: events were removed from the end",
            )
            return
        if checkpoint.seq <= start_seq:
            anchor_hash = hash_at(checkpoint.seq) if hash_at is not None else checkpoint.hash
        if anchor_hash != checkpoint.hash:
            shown = (anchor_hash or "")[:12]
            report.problem = Finding(
                ANCHOR_MISMATCH,
                checkpoint.seq,
                f"seq {checkpoint.seq} has hash {shown}..., the checkpoint says "
                f"{checkpoint.hash[:12]}...: the log was rewritten up to here",
            )


def verify_stored(
    rows: Callable[[], Iterable[tuple[Any, ...]]],
    head: tuple[int, str],
    checkpoint: Checkpoint | None = None,
    head_after: Callable[[], tuple[int, str]] | None = None,
    *,
    signers: Signers | None = None,
    start: tuple[int, str] = (0, GENESIS_HASH),
    environments: dict[str, str] | None = None,
    seq_of: Callable[[str], int | None] | None = None,
    hash_at: Callable[[int], str | None] | None = None,
    on_row: Callable[[tuple[Any, ...]], object] | None = None,
) -> VerifyReport:
    """Verify the rows ``rows()`` yields (a stream is fine) against ``checkpoint`` and, as a
    second anchor, the database's own chain ``head`` (seq and hash, read before the rows so a
    concurrent append cannot look like a cut tail). ``head_after()`` reads the head again after
    the rows: a head behind the last row was moved back (``HEAD_MISMATCH``; an honest head only
    grows). Every signature is checked against ``signers`` in the same pass. ``start``,
    ``seq_of``, ``hash_at`` and ``on_row`` are :func:`verify_rows`'; ``environments`` (release
    id -> environment) the releases created before ``start``, for the signing rules."""
    from cockpit.identity import IdentityCheck

    identity = IdentityCheck(signers, environments)

    def each(row: tuple[Any, ...]) -> None:
        identity.row(row)
        if on_row is not None:
            on_row(row)

    # Reading a long log makes millions of small objects; the collector scanning them
    # again and again would double the time to verify.
    enabled = gc.isenabled()
    gc.disable()
    try:
        report = verify_rows(
            rows(), checkpoint, start=start, seq_of=seq_of, hash_at=hash_at, on_row=each
        )
        report.identity.extend(Finding(*found) for found in identity.findings)
    finally:
        if enabled:
            gc.enable()
    check_head(report, head, head_after)
    return report


def check_head(
    report: VerifyReport,
    head: tuple[int, str],
    head_after: Callable[[], tuple[int, str]] | None = None,
) -> None:
    """After the walk, the database's own chain head against the last row (``TRUNCATED``,
    ``ANCHOR_MISMATCH``), and read again (``HEAD_MISMATCH``): :func:`verify_stored`'s."""
    head_seq, head_hash = head
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
