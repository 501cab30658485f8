"""Alembic environment of the demo application: the database URL comes from the environment
variable ``DEMOAPP_DATABASE_URL`` (SQLite or PostgreSQL), never from a file."""

from __future__ import annotations

import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import create_engine, pool

URL_ENV = "DEMOAPP_DATABASE_URL"

if context.config.config_file_name is not None:
    # "Running upgrade A -> B" lines on stderr, as the operator watches the step.
    fileConfig(context.config.config_file_name, disable_existing_loggers=False)

url = os.environ.get(URL_ENV, "").strip()
if not url:
    raise SystemExit(f"{URL_ENV} is not set: export the database URL of the demo application")

if context.is_offline_mode():
    # `alembic upgrade A:B --sql`: the SQL is printed, nothing is connected.
    context.configure(url=url, literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()
else:
    connect_args = {"connect_timeout": 10} if url.startswith("postgresql") else {}
    engine = create_engine(url, poolclass=pool.NullPool, connect_args=connect_args)
    with engine.connect() as connection:
        context.configure(connection=connection, transactional_ddl=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
