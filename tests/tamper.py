"""What an attacker with write access to the database could do, for the tamper tests.

The append-only triggers are dropped or disabled first, as someone with file or superuser access
could; the point of the chain and the checkpoint is to notice what happens next.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from cockpit.events import COLUMNS, row_hash
from cockpit.store import Store


def run(store: Store, *statements: tuple[str, dict[str, Any]] | str) -> None:
    with store.engine.connect() as conn, conn.begin():
        if store.is_sqlite:
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS events_no_update")
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS events_no_delete")
        else:
            conn.exec_driver_sql("ALTER TABLE events DISABLE TRIGGER USER")
            conn.exec_driver_sql("ALTER TABLE chain_head DISABLE TRIGGER USER")
        for statement in statements:
            sql, params = (statement, {}) if isinstance(statement, str) else statement
            conn.execute(text(sql), params)
        if not store.is_sqlite:
            # The attacker leaves the append path working, so the log keeps growing after them.
            for table, trigger in _PG_TRIGGERS:
                conn.exec_driver_sql(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {trigger}")


_PG_TRIGGERS = (
    ("events", "events_no_update_delete"),
    ("events", "events_no_truncate"),
    ("events", "events_append"),
    ("chain_head", "chain_head_guard"),
    ("chain_head", "chain_head_no_truncate"),
)


def row(store: Store, seq: int) -> tuple[Any, ...]:
    return next(r for r in store.rows() if r[0] == seq)


def rewrite(store: Store, seq: int, *, rehash: bool, **changes: Any) -> None:
    """Change columns of the row at ``seq``; with ``rehash`` also store its recomputed hash."""
    values = dict(zip(COLUMNS, row(store, seq), strict=True)) | changes
    if rehash:
        values["hash"] = row_hash(tuple(values[c] for c in COLUMNS))
    sets = ", ".join(f"{c} = :{c}" for c in values if c != "seq")
    run(store, (f"UPDATE events SET {sets} WHERE seq = :seq", values))


def cut_tail(store: Store, keep: int) -> None:
    """Delete every event after ``keep`` and move the chain head back to match, as a careful
    attacker would; only the checkpoint outside the database can tell."""
    run(
        store,
        ("DELETE FROM events WHERE seq > :keep", {"keep": keep}),
        (
            "UPDATE chain_head SET seq = :keep, hash = (SELECT hash FROM events WHERE seq = :keep)",
            {"keep": keep},
        ),
    )
