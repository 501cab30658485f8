"""Alembic environment: always run with a connection handed in by :mod:`cockpit.store`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

connection = context.config.attributes.get("connection")
if connection is None:
    raise SystemExit("cockpit migrations run through `cockpit db upgrade`, not the alembic CLI")

context.configure(connection=connection, transactional_ddl=True)
with context.begin_transaction():
    if connection.dialect.name == "postgresql":
        # Two cockpits starting at once on a new database: one migrates, the other waits.
        connection.execute(text("SELECT pg_advisory_xact_lock(7406215399)"))
    context.run_migrations()
