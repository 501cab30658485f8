"""The store's schema: which revision the database is at, bringing it up to date, and refusing
a database newer than this cockpit. Alembic is imported only when a migration runs
(:mod:`cockpit.migrations`).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from cockpit import sqliteread
from cockpit.dbsetup import first_line, from_driver, missing_table
from cockpit.errors import StoreError, UsageError
from cockpit.urls import redact_url

if TYPE_CHECKING:
    from cockpit.store import Store

# The newest migration shipped in cockpit/migrations/versions (a test keeps them equal).
SCHEMA_HEAD = "0004"
# Every revision this code knows, oldest first; a database at any other one is newer than us.
SCHEMA_REVISIONS = ("0001", "0002", "0003", "0004")


def current_revision(store: Store) -> str | None:
    """The schema revision in the database, ``None`` when it has no schema yet (or, for a
    SQLite store, no file yet: its first open makes it)."""
    path = sqliteread.file_path(store.url)
    if path is not None and not store.read_only and not os.path.exists(path):
        return None
    with store.reading() as raw:
        cursor = raw.cursor()
        try:
            cursor.execute("SELECT version_num FROM alembic_version")
            row = cursor.fetchone()
        except Exception as exc:
            if not from_driver(exc):
                raise
            if missing_table(exc):
                return None
            raise StoreError.said(
                "err.schema_version", url=redact_url(store.url), cause=first_line(exc)
            ) from None
        finally:
            cursor.close()
    return str(row[0]) if row else None


def bring_up(store: Store) -> None:
    """Bring the schema up to date when needed. A read-only store only checks there is a log it
    can read (exit 2 when there is none)."""
    current = current_revision(store)
    if store.read_only and current is None:
        raise UsageError.said("err.no_log_empty", url=redact_url(store.url))
    if store.read_only and current != SCHEMA_HEAD:
        raise StoreError.said(
            "db.read_other", url=redact_url(store.url), at=current, ours=SCHEMA_HEAD
        )
    if current != SCHEMA_HEAD:
        upgrade(store)


def upgrade(store: Store, revision: str = "head") -> None:
    from sqlalchemy.exc import DBAPIError, OperationalError

    from cockpit.migrations import run_upgrade

    current = current_revision(store)
    if current is not None and current not in SCHEMA_REVISIONS:
        raise StoreError.said("db.newer", url=redact_url(store.url), at=current, ours=SCHEMA_HEAD)
    try:
        with store._connect(write=True) as conn:
            run_upgrade(conn, revision)
    except (OperationalError, DBAPIError) as exc:
        raise StoreError.said(
            "db.migration", url=redact_url(store.url), cause=first_line(exc)
        ) from None
