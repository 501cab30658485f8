"""A tiny sample application shipped with the cockpit: a ``datasets`` table with its own Alembic
migrations (``migrations/``, three revisions) and a small HTTP service (:mod:`.server`) answering
``GET /health`` and ``GET /api/v1/datasets``, as the seed's dataset service does.

``cockpit demo`` deploys it to its staging environment with the local step kinds (Alembic, shell,
HTTP checks), and the tests use it against SQLite and a real PostgreSQL. Its migrations are run
as the application's own command: :func:`alembic_command`, with the database URL in the
environment variable :data:`DATABASE_URL_ENV`.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ALEMBIC_INI = HERE / "alembic.ini"
# The environment variable the migrations and the server read the database URL from.
DATABASE_URL_ENV = "DEMOAPP_DATABASE_URL"
# The revisions of migrations/versions, oldest first.
REVISIONS = ("0001_datasets", "0002_owner", "0003_seed")
HEAD = REVISIONS[-1]


def alembic_command() -> list[str]:
    """The argv that runs the demo application's migrations (``alembic.command`` in the demo's
    cockpit.toml): this interpreter's Alembic with the shipped ``alembic.ini``."""
    return [sys.executable, "-m", "alembic", "-c", str(ALEMBIC_INI)]
