"""Alembic migrations of the cockpit's own database, shipped inside the package.

Alembic is imported only here, and only when the schema is out of date or an operator runs
``cockpit db upgrade``.
"""

from __future__ import annotations

from typing import Any


def _config(connection: Any) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "cockpit:migrations")
    config.attributes["connection"] = connection
    return config


def run_upgrade(connection: Any, revision: str = "head") -> None:
    """Upgrade the database behind ``connection`` (an open SQLAlchemy connection)."""
    from alembic import command

    command.upgrade(_config(connection), revision)


def script_head() -> str:
    """The newest revision shipped in ``versions/``."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_config(None)).get_current_head()
    return str(head)
