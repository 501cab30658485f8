"""Where the event log lives: the database URL in force (the environment, then the file, then
SQLite in the user data directory, with ``COCKPIT_DATABASE_PASSWORD`` added) and the file the
chain head is written to after each append.
"""

from __future__ import annotations

import os
from pathlib import Path

from cockpit.config.credentials import check_database_url_variable
from cockpit.config.loader import LoadedConfig, user_data_dir
from cockpit.urls import url_password, without_password


def database_url(loaded: LoadedConfig) -> str:
    """The database URL in force: ``COCKPIT_DATABASE_URL``, then the file, then SQLite in the
    user data directory. ``COCKPIT_DATABASE_PASSWORD`` is added to a URL without one."""
    url = check_database_url_variable() or loaded.config.database.url
    if not url:
        return "sqlite:///" + str(user_data_dir() / "cockpit.db")
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        relative = url.removeprefix("sqlite:///")
        if relative and relative != ":memory:":
            url = "sqlite:///" + str(loaded.resolve(relative))
    password = os.environ.get("COCKPIT_DATABASE_PASSWORD")
    if password and not url_password(url):
        from sqlalchemy.engine import make_url

        url = make_url(url).set(password=password).render_as_string(hide_password=False)
    return url


def checkpoint_path(loaded: LoadedConfig, db_url: str) -> Path:
    """Where the chain head is written: ``audit.checkpoint``, else beside the SQLite file, else
    in the user data directory (named after the database so two logs never share one)."""
    if loaded.config.audit.checkpoint:
        return loaded.resolve(loaded.config.audit.checkpoint)
    if db_url.startswith("sqlite:///"):
        db_file = Path(db_url.removeprefix("sqlite:///"))
        return db_file.with_name(db_file.name + ".checkpoint.json")
    import hashlib

    # Named after the URL without any password, so ~/.pgpass and COCKPIT_DATABASE_PASSWORD
    # users of one database share one checkpoint.
    digest = hashlib.sha256(without_password(db_url).encode()).hexdigest()[:12]
    return user_data_dir() / f"checkpoint-{digest}.json"
