"""Checking a stored log as a whole: the chain, its anchors, signatures, database principals and
the projections, streamed in bounded memory; or only what is new since a verified head.

:meth:`cockpit.store.Store.verify` calls :func:`verify_log`. The rows are read in one read
transaction that sees a single state of the database (REPEATABLE READ on PostgreSQL; SQLite's
WAL reader already does), through a cursor that streams (server-side on PostgreSQL), so a log of
a million events never sits in memory. The walk itself is :func:`cockpit.verify.verify_stored`.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cockpit import sqliteread
from cockpit.chain import COLUMNS, GENESIS_HASH
from cockpit.checkpoint import write_verified
from cockpit.dbroles import check_principals
from cockpit.projections import ReleaseFold, first_difference, items_difference
from cockpit.projections import read as read_releases
from cockpit.verify import (
    ANCHOR_MISMATCH,
    Checkpoint,
    Finding,
    VerifyReport,
    check_head,
    verify_stored,
)

if TYPE_CHECKING:
    from cockpit.logsplit import Half
    from cockpit.store import Store

_SELECT_COLUMNS = ", ".join(COLUMNS)
_BATCH = 5_000


def verify_log(
    store: Store, checkpoint: Checkpoint | None = None, *, since: tuple[int, str] | None = None
) -> VerifyReport:
    """Verify the chain against ``checkpoint`` and, as a second anchor, the database's own
    chain head (read first, so a concurrent append cannot look like a cut tail, and again
    after, so a head moved back is seen); every signature against the store's signers. On
    PostgreSQL, also each event's database principal against its actor
    (:func:`cockpit.dbroles.check_principals`).

    A full run also checks the projections equal the fold (``PROJECTION_MISMATCH`` names the
    first difference). ``since`` (the seq and hash a previous run verified) verifies only the
    rows after it: what the dashboard does each time the log grows; a row edited before
    ``since`` is found by the next full run. An intact result is remembered beside the
    checkpoint (:meth:`cockpit.store.Store.last_verified`)."""
    head = store.head()
    start = since or (0, GENESIS_HASH)
    mark = "?" if store.is_sqlite else "%s"
    folded = ReleaseFold(notes=False, items=since is None)
    half = None if since else _fork_half(store, head, checkpoint, folded)
    with contextlib.ExitStack() as stack:
        if half is not None:
            stack.callback(half.stop)
        cursor, streaming = stack.enter_context(_snapshot(store))
        projected = read_releases(cursor, mark)

        def seq_of(digest: str) -> int | None:
            cursor.execute(f"SELECT seq FROM events WHERE hash = {mark}", (digest,))
            found = cursor.fetchone()
            return None if found is None else int(found[0])

        def hash_at(seq: int) -> str | None:
            cursor.execute(f"SELECT hash FROM events WHERE seq = {mark}", (seq,))
            found = cursor.fetchone()
            return None if found is None else str(found[0])

        report = None
        if half is not None:
            report = _join(store, half, streaming, head, checkpoint, folded, seq_of, hash_at)
        if report is None:
            folded = ReleaseFold(notes=False, items=since is None)
            report = verify_stored(
                lambda: _stream(streaming, mark, start[0]),
                head,
                checkpoint,
                head_after=store.head,
                signers=store.signers,
                start=start,
                environments={r.id: r.environment for r in projected} if since else None,
                seq_of=seq_of,
                hash_at=hash_at,
                on_row=None if since else folded.add_row,
            )
        if since and since[0] and report.problem is None and hash_at(since[0]) != since[1]:
            # The row the run started from must still be the one verified then.
            report.problem = Finding(
                ANCHOR_MISMATCH,
                since[0],
                f"seq {since[0]} no longer has the hash verified before: the log was "
                "rewritten; run `cockpit audit verify`",
            )
        if since is None and report.problem is None:
            report.problem = first_difference(projected, folded.releases) or items_difference(
                cursor, mark, folded
            )

    if not store.is_sqlite:
        report.principals, skews = check_principals(store._connect, report.head_seq, after=start[0])
        report.warnings += skews
    remember = not store.read_only and store.checkpoint_file is not None
    if report.ok and report.head_seq and remember:
        assert store.checkpoint_file is not None
        write_verified(
            store.checkpoint_file, Checkpoint(report.head_seq, report.head_hash), store.url
        )
    return report


def _fork_half(
    store: Store, head: tuple[int, str], checkpoint: Checkpoint | None, folded: ReleaseFold
) -> Half | None:
    """For a full verify of a long SQLite log, the child that walks its second half
    (:class:`cockpit.logsplit.Half`), forked before this process opens its read transaction;
    ``None`` when one process walks the log."""
    file = sqliteread.readable_file(store.url)
    if file is None:
        return None
    path = str(Path(file).resolve())  # (as SQLite names its main database)
    from cockpit.logsplit import Half, can_split

    if not can_split(path, head[0]):
        return None
    return Half.start(path, head[0], checkpoint, store.signers, folded)


def _join(
    store: Store,
    half: Half,
    streaming: Any,
    head: tuple[int, str],
    checkpoint: Checkpoint | None,
    folded: ReleaseFold,
    seq_of: Callable[[str], int | None],
    hash_at: Callable[[int], str | None],
) -> VerifyReport | None:
    """This process's half of the walk joined with the child's
    (:func:`cockpit.logsplit.verify_split`), then the chain head's checks; ``None`` when one
    process must walk the log."""
    from cockpit.logsplit import verify_split

    enabled = gc.isenabled()
    gc.disable()  # as verify_stored does
    try:
        report = verify_split(half, streaming, checkpoint, store.signers, folded, seq_of, hash_at)
    finally:
        if enabled:
            gc.enable()
    if report is not None:
        check_head(report, head, store.head)
    return report


def _stream(cursor: Any, mark: str, after: int) -> Iterator[tuple[Any, ...]]:
    """The rows after seq ``after`` through ``cursor``, fetched in batches."""
    cursor.execute(
        f"SELECT {_SELECT_COLUMNS} FROM events WHERE seq > {mark} ORDER BY seq", (after,)
    )
    while batch := cursor.fetchmany(_BATCH):
        yield from batch


@contextlib.contextmanager
def _snapshot(store: Store) -> Iterator[tuple[Any, Any]]:
    """One read transaction that sees a single state of the database, with two cursors: a
    plain one, and one that streams (server-side on PostgreSQL)."""
    with store.reading() as raw:
        plain = raw.cursor()
        streaming = raw.cursor() if store.is_sqlite else raw.cursor(name="cockpit_rows")
        try:
            yield plain, streaming
        finally:
            streaming.close()
            plain.close()
