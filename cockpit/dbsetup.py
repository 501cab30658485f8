"""Database engines for the event store, and the store's wording of database errors.

SQLite (the embedded default) gets WAL, ``synchronous=FULL``, a busy timeout and foreign keys on
every connection, and takes over transaction control so an append can say ``BEGIN IMMEDIATE``
(pass ``immediate=True`` as an execution option). PostgreSQL gets a recycled pool and a connect
timeout. SQLAlchemy is imported when an engine is made, so importing this module stays light.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from cockpit.errors import StoreError, UsageError
from cockpit.urls import redact_url

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine


def with_driver(url: str) -> str:
    """A plain ``postgresql://`` (or ``postgres://``) URL, as libpq and psql take it, with the
    driver the cockpit ships (``postgresql+psycopg://``): SQLAlchemy alone would look for
    psycopg2, which is not installed. Any other URL as it is."""
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            return "postgresql+psycopg://" + url.removeprefix(plain)
    return url


def make_engine(
    url: str, *, busy_timeout_ms: int, sqlite_pragmas: dict[str, Any], read_only: bool = False
) -> Engine:
    """An engine for ``url``; ``sqlite_pragmas`` are extra pragmas set on each SQLite
    connection (tests use ``max_page_count`` to simulate a full disk). ``read_only`` opens the
    log for reading only (see :func:`read_only_sqlite_url`); PostgreSQL then runs every
    transaction read-only."""
    from sqlalchemy import create_engine, event
    from sqlalchemy.exc import SQLAlchemyError

    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        if read_only:
            url = read_only_sqlite_url(path)
        elif path and path != ":memory:":
            try:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError.said("err.mkdir", path=path, cause=exc.strerror) from None
        engine = create_engine(url, connect_args={"timeout": busy_timeout_ms / 1000})
        # Setting the journal mode writes to the file: a read-only log keeps the one it has.
        journal = {} if read_only else {"journal_mode": "WAL", "synchronous": "FULL"}
        pragmas = {
            **journal,
            "busy_timeout": busy_timeout_ms,
            "foreign_keys": "ON",
            **sqlite_pragmas,
        }

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            # Take over transaction control so appends can say BEGIN IMMEDIATE.
            dbapi_conn.isolation_level = None
            cursor = dbapi_conn.cursor()
            for key, value in pragmas.items():
                cursor.execute(f"PRAGMA {key}={value}")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            immediate = conn.get_execution_options().get("immediate", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    try:
        # No pre-ping: it costs a round trip per append; a dropped connection fails the
        # append cleanly (nothing is done) and the next one reconnects.
        args: dict[str, Any] = {"connect_timeout": 10}
        if read_only:
            args["options"] = "-c default_transaction_read_only=on"
        return create_engine(url, pool_recycle=300, connect_args=args)
    except (SQLAlchemyError, ImportError) as exc:
        raise StoreError.said("err.db_cannot_use", url=redact_url(url), cause=exc) from None


def read_only_sqlite_url(path: str) -> str:
    """SQLAlchemy's URL of :func:`read_only_uri`."""
    return f"sqlite:///{read_only_uri(path)}&uri=true"


def read_only_uri(path: str) -> str:
    """SQLite's read-only URI for the log at ``path``: nothing is created or written.

    A copy an auditor made read-only (no write bit on the file or its directory, or not
    writable for us) is also opened ``immutable``: SQLite then makes no ``-wal``/``-shm`` files
    beside it, which a read-only WAL database would otherwise need. A live log (writable) is
    opened ``mode=ro`` only, so a cockpit appending meanwhile is seen through its locks.
    A missing file is bad input (exit 2): there is no log to read.
    """
    import os
    from urllib.parse import quote

    file = Path(path)
    if not path or path == ":memory:" or not file.is_file():
        raise UsageError.said("err.no_log", path=path or ":memory:")
    frozen = any(
        not os.access(p, os.W_OK) or not os.stat(p).st_mode & 0o222 for p in (file, file.parent)
    )
    flags = "mode=ro&immutable=1" if frozen else "mode=ro"
    return f"file:{quote(str(file.resolve()))}?{flags}"


def first_line(exc: BaseException) -> str:
    """The first line of an error's message (the driver's own, under SQLAlchemy's wrapper)."""
    original = getattr(exc, "orig", None)
    message = str(original if original is not None else exc).strip() or type(exc).__name__
    return message.splitlines()[0]


def from_driver(exc: BaseException) -> bool:
    """The error is the database's: raised by SQLAlchemy or a driver (sqlite3, psycopg)."""
    return type(exc).__module__.split(".")[0] in {"sqlalchemy", "sqlite3", "psycopg", "psycopg2"}


def missing_table(exc: Exception) -> bool:
    """The database says a table is not there (no schema yet)."""
    message = str(getattr(exc, "orig", exc)).lower()
    return "no such table" in message or "does not exist" in message
