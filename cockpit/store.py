"""The event store: SQLite (embedded default) or PostgreSQL (shared), append-only. Appends are
serialised so the chain never forks: SQLite takes ``BEGIN IMMEDIATE`` (WAL,
``synchronous=FULL``, a busy timeout), PostgreSQL locks the one-row ``chain_head`` through
``cockpit_lock_head()``; the database's own trigger moves the head. The schema comes from the
Alembic migrations shipped in ``cockpit/migrations`` and is brought up to date when the store
opens (:mod:`cockpit.storeschema`); the whole-log check is :mod:`cockpit.logcheck`. After each
append batch the new head is written to a checkpoint file outside the database
(:mod:`cockpit.checkpoint`). Engines and their connection settings come from
:mod:`cockpit.dbsetup`; the record, its hash and verification from :mod:`cockpit.events`; the
check of the tail an append links to (a broken chain stops growing until the break is
acknowledged) from :mod:`cockpit.tailcheck`; the connection and the reads (on a SQLite file
through the standard library's driver) from :mod:`cockpit.storeread`. A store opened
``read_only`` (``cockpit audit verify|export``) never migrates or writes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cockpit import storeschema
from cockpit.checkpoint import CheckpointFile, read_checkpoint
from cockpit.dbsetup import first_line, with_driver
from cockpit.errors import AppendFailed, StoreError, UsageError
from cockpit.events import (
    COLUMNS,
    SCHEMA_VERSION,
    Checkpoint,
    Event,
    Finding,
    NewEvent,
    VerifyReport,
    canonical,
    chain_hash,
    new_event_id,
    now_utc,
    record_bytes,
    redact,
    redact_text,
    validate_new,
)
from cockpit.identity import Signers
from cockpit.operator import Operator
from cockpit.projections import apply as project
from cockpit.projections import rebuild_with as rebuild_projection
from cockpit.secrets import Masker, process_masker
from cockpit.signing import signed_bytes
from cockpit.storeread import _SELECT_COLUMNS, StoreReads, head_of
from cockpit.storeschema import SCHEMA_HEAD, SCHEMA_REVISIONS
from cockpit.tailcheck import refuse_unless_acknowledged, tail_finding
from cockpit.urls import redact_url
from cockpit.vocabulary import AUDIT_BREAK_ACKNOWLEDGED

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

__all__ = ["SCHEMA_HEAD", "SCHEMA_REVISIONS", "Store", "open_store", "read_checkpoint"]


@dataclass
class Store(StoreReads):
    """The event log behind one database URL.

    ``sqlite_pragmas`` are extra pragmas set on each SQLite connection (tests use
    ``max_page_count`` to simulate a full disk). ``masker`` masks known secret values in every
    event's subject, reason and details (default: this process's, :mod:`cockpit.secrets`).
    ``read_only`` opens the log for reading only: no migration, no checkpoint, no append.
    ``signers`` (:class:`cockpit.identity.Signers`, set by :class:`cockpit.session.Session`) is
    what signatures are checked against, by the checklist's fold and by :meth:`verify`.
    """

    url: str
    checkpoint_file: Path | None = None
    busy_timeout_ms: int = 10_000
    sqlite_pragmas: dict[str, Any] = field(default_factory=dict)
    masker: Masker = field(default_factory=process_masker, repr=False)
    read_only: bool = False
    # The allowed signers (and [identity]'s rules) signatures are checked against, set by the
    # session: the fold (four-eyes) and verify read them from here.
    signers: Signers | None = field(default=None, repr=False)
    _engine: Engine | None = field(default=None, init=False, repr=False)
    _checkpoint: CheckpointFile | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.url = with_driver(self.url)  # every reader of store.url sees the driver's URL

    def close(self) -> None:
        if self._checkpoint is not None:
            self._checkpoint.close()
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    # ------------------------------------------------------------ schema

    def current_revision(self) -> str | None:
        """The schema revision in the database, ``None`` when it has no schema yet."""
        return storeschema.current_revision(self)

    def open(self) -> Store:
        """Bring the schema up to date when needed (:func:`cockpit.storeschema.bring_up`)."""
        storeschema.bring_up(self)
        return self

    def upgrade(self, revision: str = "head") -> None:
        storeschema.upgrade(self, revision)

    # ------------------------------------------------------------ append

    def append(self, new: NewEvent, operator: Operator) -> Event:
        """Record one event and return it as stored. Raises :class:`AppendFailed` when the log
        cannot be written; then nothing was recorded and the caller must not act."""
        return self.append_many([new], operator)[0]

    def append_many(
        self,
        batch: Sequence[NewEvent],
        operator: Operator,
        *,
        also: Callable[[Any], object] | None = None,
    ) -> list[Event]:
        """Record events in one transaction (all or none), then write the checkpoint. An event
        asked to be ``signed`` is signed with the operator's key first, outside the lock.
        ``also(cursor)`` runs in that transaction after the rows are inserted: the change the
        events record (``cockpit db grant``, a lease) commits with them or not at all; an
        :class:`AppendFailed` or a
        :class:`UsageError` it raises is passed on as it is."""
        prepared, mask = [], self.masker.mask
        evidence = canonical(operator.evidence()).decode("utf-8")
        for new in batch:
            validate_new(new)
            if operator.acting_as is not None and not new.rehearsal:
                raise AppendFailed.said(
                    "db.acting_as", name=operator.acting_as.value, action=new.action
                )
            masked = redact(self.masker.mask_value(dict(new.details)))
            fields: dict[str, Any] = {
                "event_id": new_event_id(),
                "schema": SCHEMA_VERSION,
                "release_id": new.release_id,
                "action": new.action,
                "subject": None if new.subject is None else redact_text(mask(new.subject)),
                "outcome": new.outcome,
                "reason": None if new.reason is None else redact_text(mask(new.reason)),
                "details": canonical(masked).decode("utf-8"),
                "rehearsal": bool(new.rehearsal),
                "actor": operator.actor,
                "actor_evidence": evidence,
            }
            # Signing may wait on an agent: never while holding the head.
            fields["signature"] = self._signature(new, operator, signed_bytes(fields))
            prepared.append(fields)
        acks = [n.details.get("seq") for n in batch if n.action == AUDIT_BREAK_ACKNOWLEDGED]
        stored: list[Event] = []
        try:
            with self._connect(write=True) as conn, conn.begin():
                head_seq, head_hash = self._lock_head(conn)
                cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
                mark = "?" if self.is_sqlite else "%s"
                anchor = self._read_own_checkpoint()
                found = tail_finding(cursor, mark, (head_seq, head_hash), anchor)
                if found is not None:
                    refuse_unless_acknowledged(found, cursor, mark, acks)
                rows = []
                for fields in prepared:
                    head_seq += 1
                    values = {"seq": head_seq, "recorded_at": now_utc(), **fields}
                    digest = chain_hash(head_hash, record_bytes(**values))
                    values["prev_hash"], values["hash"] = head_hash, digest
                    stored.append(Event(**values))
                    rows.append(tuple(values[c] for c in COLUMNS))
                    head_hash = digest
                # The hot path goes straight to the driver: SQLAlchemy's statement machinery
                # costs more than the insert itself at a thousand appends a second. The
                # database's trigger checks each row follows the head and moves the head
                # (migration 0002): nothing else may write it.
                marks = ", ".join([mark] * len(COLUMNS))
                cursor.executemany(f"INSERT INTO events ({_SELECT_COLUMNS}) VALUES ({marks})", rows)
                # The projections move with the rows, in this transaction (cockpit.projections).
                project(cursor, mark, stored)
                if also is not None:
                    also(cursor)
                cursor.close()
        except (AppendFailed, UsageError):
            raise
        except Exception as exc:  # any failure to write means: refuse, nothing was done
            raise AppendFailed.said("db.append_failed", cause=first_line(exc)) from None
        if stored and self.checkpoint_file is not None:
            # An acknowledged break moves the checkpoint onto the chain as it now is.
            self.write_checkpoint(Checkpoint(stored[-1].seq, stored[-1].hash), force=bool(acks))
        return stored

    def _signature(self, new: NewEvent, operator: Operator, data: bytes) -> str | None:
        """The event's signature: required when it is ``signed`` (no key, or a key that cannot
        sign, refuses the append); otherwise made whenever the operator has a key the allowed
        signers know as them, so everything they do is proven, and left out (a claim) when that
        key cannot sign now."""
        if new.signed:
            return operator.sign(data, new.action)
        signers = self.signers
        if signers is None or operator.signing_key is None:
            return None
        if operator.signing_problem(signers) is not None:
            return None
        try:
            return operator.sign(data, new.action)
        except AppendFailed:
            return None

    def _lock_head(self, conn: Connection) -> tuple[int, str]:
        """The chain head, locked for this transaction: on PostgreSQL through
        ``cockpit_lock_head()`` (an operator role may read the head but not write it, and
        ``FOR UPDATE`` would need write rights); SQLite's ``BEGIN IMMEDIATE`` already holds
        the database."""
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            if self.is_sqlite:
                return head_of(cursor)
            cursor.execute("SELECT seq, hash FROM cockpit_lock_head()")
            row = cursor.fetchone()
            if row is None:
                raise AppendFailed.said("db.no_head")
            return int(row[0]), str(row[1])
        finally:
            cursor.close()

    def tail_finding(self) -> Finding | None:
        """What an append would find wrong with the tail now (see :mod:`cockpit.tailcheck`)."""

        def read(cursor: Any, mark: str) -> Finding | None:
            return tail_finding(cursor, mark, head_of(cursor), self._read_own_checkpoint())

        return self.read_with(read)

    def _read_own_checkpoint(self) -> Checkpoint | None:
        anchor = self._checkpoint_out()
        return None if anchor is None else anchor.read()

    def _checkpoint_out(self) -> CheckpointFile | None:
        """The checkpoint file, opened on first use; ``None`` when the store has none."""
        if self.checkpoint_file is None:
            return None
        if self._checkpoint is None:
            self._checkpoint = CheckpointFile(self.checkpoint_file, self.url)
        return self._checkpoint

    @contextlib.contextmanager
    def write_ahead(
        self,
        intent: NewEvent,
        operator: Operator,
        *,
        done: str,
        failed: str,
        cancelled: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Record ``intent`` first, run the body, then record ``done`` or ``failed`` (or
        ``cancelled`` when given and the body stopped on request: an exception whose
        ``outcome`` is ``"cancelled"``).

        If the intent cannot be recorded the body never runs. The body may fill the yielded dict
        with details for the outcome event (exit codes, SHAs). A crash between the two leaves
        the intent without an outcome: the action shows as interrupted, never as done.
        """
        first = self.append(intent, operator)
        outcome: dict[str, Any] = {}
        try:
            yield outcome
        except BaseException as exc:
            stopped = cancelled is not None and getattr(exc, "outcome", None) == "cancelled"
            self.append(
                NewEvent(
                    action=cancelled if stopped and cancelled else failed,
                    release_id=intent.release_id,
                    subject=intent.subject,
                    outcome="cancelled" if stopped else "failed",
                    rehearsal=intent.rehearsal,
                    details={"intent_seq": first.seq, "error": first_line(exc), **outcome},
                ),
                operator,
            )
            raise
        self.append(
            NewEvent(
                action=done,
                release_id=intent.release_id,
                subject=intent.subject,
                outcome="ok",
                rehearsal=intent.rehearsal,
                details={"intent_seq": first.seq, **outcome},
            ),
            operator,
        )

    # ------------------------------------------------------------ checkpoint

    def write_checkpoint(self, head: Checkpoint, *, force: bool = False) -> None:
        """Write the head to the checkpoint file, never moving it backwards when several
        processes append at once (see :meth:`CheckpointFile.write`)."""
        anchor = self._checkpoint_out()
        if anchor is not None:
            anchor.write(head, force=force)

    def rebuild_projections(self) -> int:
        """Derive the projections again from the log (``cockpit db rebuild``), in one
        transaction that holds the chain head, so no append interleaves; the number of
        releases."""
        from sqlalchemy.exc import DBAPIError, OperationalError

        try:
            with self._connect(write=True) as conn, conn.begin():
                self._lock_head(conn)
                cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
                count = rebuild_projection(cursor, self._mark)
                cursor.close()
                return count
        except (OperationalError, DBAPIError) as exc:
            raise StoreError.said(
                "db.rebuild", url=redact_url(self.url), cause=first_line(exc)
            ) from None

    def verify(
        self, checkpoint: Checkpoint | None = None, *, since: tuple[int, str] | None = None
    ) -> VerifyReport:
        """Verify the whole log, or only what is new ``since`` a verified (seq, hash)
        (:func:`cockpit.logcheck.verify_log`)."""
        from cockpit.logcheck import verify_log

        return verify_log(self, checkpoint, since=since)


def open_store(url: str, checkpoint_file: Path | None = None, **kwargs: Any) -> Store:
    """A store with its schema brought up to date."""
    return Store(url, checkpoint_file=checkpoint_file, **kwargs).open()
