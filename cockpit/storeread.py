"""The event store's connection and its reads: the engine (SQLAlchemy, made on first use, for
writes and migrations), one read transaction as a DB-API connection (:meth:`StoreReads.reading`:
the standard library's ``sqlite3`` on a SQLite file, :mod:`cockpit.sqliteread`), and the reads
built on it (the chain head, events, rows, the projections). :class:`cockpit.store.Store`
is these plus the schema, appends and the checkpoint.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from cockpit import sqliteread
from cockpit.checkpoint import read_verified
from cockpit.dbsetup import first_line, make_engine
from cockpit.errors import AppendFailed, StoreError
from cockpit.events import COLUMNS, GENESIS_HASH, Event
from cockpit.projections import Release
from cockpit.projections import read as read_releases
from cockpit.urls import redact_url

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

    from cockpit.identity import Signers

_SELECT_COLUMNS = ", ".join(COLUMNS)
_T = TypeVar("_T")


class StoreReads:
    """The connection and the reads of :class:`cockpit.store.Store` (whose fields these are)."""

    url: str
    checkpoint_file: Path | None
    busy_timeout_ms: int
    sqlite_pragmas: dict[str, Any]
    read_only: bool
    signers: Signers | None
    _engine: Engine | None

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = self._create_engine()
        return self._engine

    def _create_engine(self) -> Engine:
        return make_engine(
            self.url,
            busy_timeout_ms=self.busy_timeout_ms,
            sqlite_pragmas=self.sqlite_pragmas,
            read_only=self.read_only,
        )

    @contextlib.contextmanager
    def _connect(self, *, write: bool = False) -> Iterator[Connection]:
        from sqlalchemy.exc import OperationalError

        try:
            with self.engine.connect() as conn:
                if write:
                    conn = conn.execution_options(immediate=True)
                yield conn
        except OperationalError as exc:
            raise StoreError.said(
                "err.db_unavailable", url=redact_url(self.url), cause=first_line(exc)
            ) from None

    # ------------------------------------------------------------ read

    def head(self) -> tuple[int, str]:
        return self.read_with(lambda cursor, _mark: head_of(cursor, empty=(0, GENESIS_HASH)))

    @property
    def _mark(self) -> str:
        return "?" if self.is_sqlite else "%s"

    def rows(self) -> list[tuple[Any, ...]]:
        """Every stored row as a plain tuple in :data:`COLUMNS` order, ascending seq."""

        def read(cursor: Any, _mark: str) -> list[tuple[Any, ...]]:
            cursor.execute(f"SELECT {_SELECT_COLUMNS} FROM events ORDER BY seq")
            return [tuple(r) for r in cursor.fetchall()]

        return self.read_with(read)

    def releases(self, release_id: str | None = None) -> list[Release]:
        """Every release (or the one named) from the projection, in creation order: one row a
        release whatever the log's length. Notes are left out (:func:`fold` has them)."""
        return self.read_with(lambda cursor, mark: read_releases(cursor, mark, release_id))

    def read_with(self, read: Callable[[Any, str], _T]) -> _T:
        """``read(cursor, mark)`` in one read transaction (:meth:`reading`): several reads
        that see one state of the database."""
        with self.reading() as raw:
            cursor = raw.cursor()
            try:
                return read(cursor, self._mark)
            finally:
                cursor.close()

    @contextlib.contextmanager
    def reading(self) -> Iterator[Any]:
        """One read transaction that sees a single state of the database, as a DB-API
        connection (``cursor()``; parameters marked ``?`` on SQLite, ``%s`` on PostgreSQL):
        REPEATABLE READ READ ONLY on PostgreSQL; on a SQLite file the standard library's own
        driver, so reading never imports SQLAlchemy (:mod:`cockpit.sqliteread`)."""
        path = sqliteread.readable_file(self.url)
        if path is not None:
            with sqliteread.snapshot(
                path, self.url, read_only=self.read_only, busy_timeout_ms=self.busy_timeout_ms
            ) as db:
                yield db
            return
        with self._connect() as conn, conn.begin():
            if not self.is_sqlite:
                conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            yield conn.connection.driver_connection

    def events(
        self,
        *,
        release_id: str | None = None,
        after_seq: int = 0,
        limit: int | None = None,
        last: int | None = None,
        actions: tuple[str, ...] = (),
    ) -> list[Event]:
        """Events in seq order, optionally for one release, of some actions, after a seq, or
        only the last N."""
        mark = self._mark
        where = [f"seq > {mark}"]
        params: list[Any] = [after_seq]
        if release_id is not None:
            where.append(f"release_id = {mark}")
            params.append(release_id)
        if actions:
            where.append(f"action IN ({', '.join([mark] * len(actions))})")
            params += actions
        order = "DESC" if last else "ASC"
        sql = (
            f"SELECT {_SELECT_COLUMNS} FROM events WHERE {' AND '.join(where)} ORDER BY seq {order}"
        )
        if last or limit:
            sql += f" LIMIT {mark}"
            params.append(last or limit)

        def read(cursor: Any, _mark: str) -> list[Event]:
            cursor.execute(sql, params)
            return [Event.from_row(tuple(r)) for r in cursor.fetchall()]

        rows = self.read_with(read)
        return rows[::-1] if last else rows

    def last_verified(self) -> tuple[int, str] | None:
        """The (seq, hash) a verify of this log last found intact (remembered beside the
        checkpoint), for a verify that reads only what is new."""
        if self.checkpoint_file is None:
            return None
        found = read_verified(self.checkpoint_file)
        return None if found is None else (found.seq, found.hash)


def head_of(cursor: Any, *, empty: tuple[int, str] | None = None) -> tuple[int, str]:
    """The chain head as ``cursor`` sees it; ``empty`` when there is no head row (else
    :class:`AppendFailed`)."""
    cursor.execute("SELECT seq, hash FROM chain_head WHERE id = 1")
    row = cursor.fetchone()
    if row is not None:
        return int(row[0]), str(row[1])
    if empty is None:
        raise AppendFailed.said("db.no_head")
    return empty
