"""A full verify of a long SQLite log in two processes: each walks half of the seqs.

Each row's link (its ``prev_hash`` and record give its stored hash) is checked on its own once
the stored hashes are read, so the walk splits: this process walks seqs ``1..m``, a forked
child opens the database read-only and walks ``m+1..`` from the stored hash at ``m``, with its
own signature check (seeded with the releases created up to ``m``) and a fold of its half
(:class:`HalfFold`, merged into this one's). The halves are joined only when both are intact and
meet at the seam (this half ends at ``m`` with the very hash the child started from); anything
else (a finding, a seam that does not meet, a child that failed) returns ``None`` and the caller
walks the whole log in one process, which names the first bad seq exactly as it always has.
:func:`cockpit.logcheck.verify_log` uses it for a full verify from the command line.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote

from cockpit.chain import COLUMNS
from cockpit.events import Event
from cockpit.identity import IdentityCheck
from cockpit.projections import _CHANGING, ReleaseFold
from cockpit.verify import Checkpoint, Finding, VerifyReport, check_anchor, verify_rows
from cockpit.vocabulary import RELEASE_CREATED

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from cockpit.identity import Signers

# Below this many rows one process walks the log (forking costs more than it saves).
SPLIT_AT = 200_000
_SELECT = f"SELECT {', '.join(COLUMNS)} FROM events"


class HalfFold(ReleaseFold):
    """The fold of the rows after a seq, without the releases created before it: their events
    are kept aside (a count, the last seq and action, the events that change more) and carried
    into the earlier half's fold by :meth:`merge_into`, through its own :meth:`add`.

    ``later``: also keep the rows a fold of per-item state (a fold's ``items``, which needs
    each item's earlier events) may use, those of a release with a subject or creating it,
    for :meth:`merge_into` to feed it after the earlier half's."""

    def __init__(self, *, later: bool = False) -> None:
        super().__init__(notes=False)
        # release id -> [count of plain events, last seq, last action, changing events]
        self.earlier: dict[str, list[Any]] = {}
        self.later: list[tuple[Any, ...]] | None = [] if later else None

    def add_row(self, row: Any) -> None:
        release_id, action = row[4], row[5]
        later = self.later
        if later is not None and release_id is not None and (action == RELEASE_CREATED or row[6]):
            later.append(tuple(row))
        if release_id is None or release_id in self.releases or action == RELEASE_CREATED:
            super().add_row(row)
            return
        kept = self.earlier.get(release_id)
        if kept is None:
            kept = self.earlier[release_id] = [0, 0, "", []]
        if action in _CHANGING:
            kept[3].append(Event.from_row(row))
        else:
            kept[0] += 1
        kept[1], kept[2] = row[0], action

    def merge_into(self, fold: ReleaseFold) -> None:
        """``fold`` (of the rows before) becomes the fold of both halves."""
        for release_id, (count, last_seq, last_action, changing) in self.earlier.items():
            if release_id in self.releases:
                continue  # created again in this half: what came before is dropped
            for event in changing:
                fold.add(event)
            release = fold.releases.get(release_id)
            if release is not None:
                release.event_count += count
                release.last_seq, release.last_action = last_seq, last_action
        for release_id, release in self.releases.items():
            fold.releases.pop(release_id, None)
            fold.releases[release_id] = release
        items: Any = getattr(fold, "items", None)
        for row in self.later if items is not None and self.later is not None else ():
            items.add_row(row)


# The least time the child is given to answer after this process walked its half.
CHILD_PATIENCE_S = 30.0


def alone() -> bool:
    """No other thread runs in this process (fork copies only the calling thread: a lock held
    by another one would stay held in the child)."""
    return threading.active_count() == 1


def can_split(path: str, rows: int) -> bool:
    """A log in a file, long enough, and this process alone (:func:`alone`)."""
    return bool(path) and rows >= SPLIT_AT and alone()


class Half:
    """The child walking the rows after ``seam``, forked by :meth:`start` while this process
    holds no lock on the database (before its read transaction: the child's SQLite starts from
    a state that owns nothing)."""

    def __init__(self, process: Any, receive: Connection, seam: int) -> None:
        self.process, self.receive, self.seam = process, receive, seam

    @classmethod
    def start(
        cls,
        path: str,
        head_seq: int,
        checkpoint: Checkpoint | None,
        signers: Signers | None,
        fold: ReleaseFold,
    ) -> Half:
        import gc
        import multiprocessing

        seam = head_seq // 2
        context = multiprocessing.get_context("fork")
        receive, send = context.Pipe(duplex=False)
        later = getattr(fold, "items", None) is not None
        process = context.Process(
            target=_walk_after, args=(path, seam, checkpoint, signers, later, send), daemon=True
        )
        enabled = gc.isenabled()
        gc.disable()  # the child walks with the collector off, as verify_stored does
        try:
            process.start()
        finally:
            if enabled:
                gc.enable()
        send.close()
        return cls(process, receive, seam)

    def result(self, timeout: float) -> Any:
        """What the child sent (``None`` when it found it could not walk, or sent nothing
        within ``timeout`` seconds: the caller then walks the log in one process)."""
        try:
            if not self.receive.poll(timeout):
                return None
            return self.receive.recv()
        except EOFError:
            return None

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.receive.close()


def verify_split(
    half: Half,
    cursor: Any,
    checkpoint: Checkpoint | None,
    signers: Signers | None,
    fold: ReleaseFold,
    seq_of: Callable[[str], int | None],
    hash_at: Callable[[int], str | None],
) -> VerifyReport | None:
    """The walk of the rows up to ``half.seam`` through ``cursor`` (this process's snapshot)
    joined with the child's; ``fold`` gets every row's fold. ``None`` when the caller must walk
    the log in one process."""
    seam = half.seam
    began = time.monotonic()
    first, anchor = _walk(cursor, 0, seam, None, checkpoint, signers, fold, seq_of, hash_at)
    # The child walks as many rows: far longer than this half took means it is stuck.
    patience = max(CHILD_PATIENCE_S, 4 * (time.monotonic() - began))
    intact = first.problem is None and first.head_seq == seam
    rest = half.result(patience) if intact else None
    half.stop()
    if rest is None:
        return None
    start_hash, second, anchor_after, identity, later = rest
    if second.problem is not None or start_hash != first.head_hash:
        return None
    first.processes = 2
    first.count += second.count
    first.head_seq, first.head_hash = second.head_seq, second.head_hash
    first.warnings += second.warnings
    first.identity += [Finding(*found) for found in identity]
    later.merge_into(fold)
    check_anchor(first, checkpoint, anchor if anchor is not None else anchor_after)
    return first


def _walk(
    cursor: Any,
    after: int,
    until: int | None,
    start: tuple[int, str, str] | None,
    checkpoint: Checkpoint | None,
    signers: Signers | None,
    fold: ReleaseFold,
    seq_of: Callable[[str], int | None],
    hash_at: Callable[[int], str | None],
    environments: dict[str, str] | None = None,
) -> tuple[VerifyReport, str | None]:
    """:func:`verify_rows` over the rows after ``after`` (up to ``until``), with the identity
    check and ``fold`` riding along; the report and the hash seen at the checkpoint's seq."""
    identity = IdentityCheck(signers, environments)
    check, add = identity.row, fold.add_row

    def each(row: tuple[Any, ...]) -> None:
        check(row)
        add(row)

    seq, digest, time = start if start is not None else (0, "0" * 64, "")
    report = verify_rows(
        _rows(cursor, after, until),
        None,
        start=(seq, digest),
        start_time=time,
        seq_of=seq_of,
        hash_at=hash_at,
        on_row=each,
    )
    report.identity = [Finding(*found) for found in identity.findings]
    # The hash at the checkpoint's seq, when this half holds it (in the same snapshot).
    held = checkpoint is not None and seq < checkpoint.seq <= report.head_seq
    return report, hash_at(checkpoint.seq) if held and checkpoint is not None else None


def _rows(cursor: Any, after: int, until: int | None) -> Iterable[tuple[Any, ...]]:
    """The rows after ``after`` (up to ``until``): the cursor itself, stepped row by row (a
    generator's ``yield from`` would close it when the walk stops early)."""
    if until is None:
        cursor.execute(f"{_SELECT} WHERE seq > ? ORDER BY seq", (after,))
    else:
        cursor.execute(f"{_SELECT} WHERE seq > ? AND seq <= ? ORDER BY seq", (after, until))
    return cast("Iterable[tuple[Any, ...]]", cursor)


def _walk_after(
    path: str,
    seam: int,
    checkpoint: Checkpoint | None,
    signers: Signers | None,
    later: bool,
    send: Connection,
) -> None:
    """The child: walk the rows after ``seam`` in a read transaction of its own and send
    (hash at the seam, report, hash at the checkpoint's seq, identity findings, fold)."""
    result: Any = None
    try:
        db = sqlite3.connect(f"file:{quote(path)}?mode=ro", uri=True, isolation_level=None)
        db.execute("BEGIN")
        cursor, lookup = db.cursor(), db.cursor()
        found = lookup.execute(
            "SELECT hash, recorded_at FROM events WHERE seq = ?", (seam,)
        ).fetchone()
        if found is not None:
            environments = _environments(lookup, seam)

            def seq_of(digest: str) -> int | None:
                got = lookup.execute("SELECT seq FROM events WHERE hash = ?", (digest,)).fetchone()
                return None if got is None else int(got[0])

            def hash_at(seq: int) -> str | None:
                got = lookup.execute("SELECT hash FROM events WHERE seq = ?", (seq,)).fetchone()
                return None if got is None else str(got[0])

            half = HalfFold(later=later)
            report, anchor = _walk(
                cursor,
                seam,
                None,
                (seam, found[0], found[1]),
                checkpoint,
                signers,
                half,
                seq_of,
                hash_at,
                environments,
            )
            identity = [(f.code, f.seq, f.message) for f in report.identity]
            report.identity = []
            result = (found[0], report, anchor, identity, half)
        db.close()
    except Exception:  # any failure: the parent walks the log in one process
        result = None
    send.send(result)
    send.close()


def _environments(cursor: Any, seam: int) -> dict[str, str]:
    """Each release's environment as created up to ``seam`` (what the signature check of the
    rows before has learnt; :class:`cockpit.identity.IdentityCheck`)."""
    cursor.execute(
        "SELECT release_id, details FROM events WHERE action = ? AND seq <= ? "
        "AND release_id IS NOT NULL ORDER BY seq",
        (RELEASE_CREATED, seam),
    )
    return {rid: str(json.loads(details).get("environment", "")) for rid, details in cursor}
