"""Reading a SQLite log with the standard library's driver, without SQLAlchemy.

Every read of the store (the projections, events, the chain head, the schema revision, a verify)
goes through one DB-API connection in one read transaction (:meth:`cockpit.store.Store.reading`).
On a SQLite file that connection is :mod:`sqlite3`'s own, the driver SQLAlchemy's engine would
wrap anyway: the same SQL, the same rows, the same busy timeout, read-only URIs for a store
opened read-only. SQLAlchemy's import (about 90 ms) is then paid only by what writes or migrates,
never by an operator who opens the cockpit to look, nor by ``release list`` or ``audit verify``.

What this does not read (``:memory:``, a URI, a file not made yet: the first open creates and
migrates it) goes through the engine as before.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator

from cockpit.dbsetup import first_line, read_only_uri
from cockpit.errors import StoreError
from cockpit.urls import redact_url


def file_path(url: str) -> str | None:
    """The file a plain ``sqlite:///PATH`` URL names (made or not); ``None`` for anything else
    (another database, ``:memory:``, a URI with options)."""
    if not url.startswith("sqlite:///"):
        return None
    path = url.removeprefix("sqlite:///")
    if not path or path == ":memory:" or path.startswith("file:") or "?" in path:
        return None
    return path


def readable_file(url: str) -> str | None:
    """The path of the existing SQLite file a ``sqlite:///`` URL names, for the standard
    library's driver; ``None`` for anything else (:func:`file_path`, or a file not made yet)."""
    path = file_path(url)
    return path if path is not None and os.path.isfile(path) else None


@contextlib.contextmanager
def snapshot(
    path: str, url: str, *, read_only: bool, busy_timeout_ms: int
) -> Iterator[sqlite3.Connection]:
    """A connection to the log at ``path`` inside one read transaction (``BEGIN``, then rolled
    back: nothing is written), closed after; ``busy_timeout_ms`` is the driver's timeout, as the
    engine sets it. A store opened read-only reads through SQLite's read-only URI
    (:func:`cockpit.dbsetup.read_only_uri`). The database being unavailable (locked past the
    busy timeout, unreadable) is said as the engine's connection says it."""
    try:
        db = sqlite3.connect(
            read_only_uri(path) if read_only else path,
            uri=read_only,
            timeout=busy_timeout_ms / 1000,
            isolation_level=None,
            check_same_thread=False,
        )
        with contextlib.closing(db):
            # Reads the file's header: a file that is not a database says so here, raised as
            # the driver's own error, as the engine's first statement on a connection would.
            db.execute("PRAGMA schema_version")
            db.execute("BEGIN")
            try:
                yield db
            finally:
                with contextlib.suppress(sqlite3.Error):
                    db.execute("ROLLBACK")
    except sqlite3.OperationalError as exc:
        raise StoreError.said(
            "err.db_unavailable", url=redact_url(url), cause=first_line(exc)
        ) from None
