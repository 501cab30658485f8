"""``cockpit init``, ``cockpit config check|schema`` and ``cockpit db upgrade|current``: write a
starter config, check it or print its schema, and look after the cockpit's own database schema.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cockpit.cli.base import Command, add, output_path, write_output
from cockpit.errors import UsageError


def cmd_init(cmd: Command) -> int:
    from importlib import resources

    target = Path(cmd.args.path)
    if target.exists() and not target.is_dir() and not cmd.args.force:
        raise UsageError(f"{target}: already exists (use --force to overwrite)")
    target = output_path(cmd.args.path, "--path")
    starter = resources.files("cockpit").joinpath("starter.toml").read_text(encoding="utf-8")
    write_output(target, starter, "--path")
    cmd.print(f"wrote {target}: edit it, then run `cockpit config check`")
    return 0


def cmd_config_check(cmd: Command) -> int:
    loaded = cmd.session.loaded
    envs = ", ".join(sorted(loaded.config.environments)) or "none"
    where = loaded.path or "no config file: embedded default"
    from cockpit.config import redact_url

    _check_url(cmd.session.db_url)
    cmd.print(f"{where}: ok")
    cmd.print(f"  environments: {envs}")
    cmd.print(f"  database:     {redact_url(cmd.session.db_url)}")
    cmd.print(f"  checkpoint:   {cmd.session.checkpoint_file}")
    return 0


def _check_url(url: str) -> None:
    """The database URL names a database SQLAlchemy knows (no connection is made)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from cockpit.config import redact_url
    from cockpit.errors import ConfigError

    try:
        make_url(url).get_dialect()
    except (SQLAlchemyError, ValueError, ImportError) as exc:
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise ConfigError(
            f"database URL {redact_url(url)}: not a database URL ({first}); "
            "use one like sqlite:///cockpit.db or postgresql+psycopg://user@host/db"
        ) from None


def cmd_config_schema(cmd: Command) -> int:
    from cockpit.config import json_schema

    cmd.print(json.dumps(json_schema(), indent=2))
    return 0


def cmd_db_upgrade(cmd: Command) -> int:
    from cockpit.config import redact_url
    from cockpit.store import Store

    store = Store(cmd.session.db_url, checkpoint_file=cmd.session.checkpoint_file)
    before = store.current_revision()
    store.upgrade()
    after = store.current_revision()
    state = "already up to date" if before == after else f"upgraded {before or 'empty'} -> {after}"
    cmd.print(f"{redact_url(cmd.session.db_url)}: {state}")
    return 0


def cmd_db_current(cmd: Command) -> int:
    from cockpit.config import redact_url
    from cockpit.store import SCHEMA_HEAD, SCHEMA_REVISIONS, Store

    current = Store(cmd.session.db_url).current_revision()
    if current == SCHEMA_HEAD:
        state = "up to date"
    elif current is not None and current not in SCHEMA_REVISIONS:
        state = f"NEWER than this cockpit ({SCHEMA_HEAD}): upgrade the cockpit"
    else:
        state = f"behind (head is {SCHEMA_HEAD}): run `cockpit db upgrade`"
    cmd.print(
        f"{redact_url(cmd.session.db_url)}: revision {current or 'none (empty database)'}, {state}"
    )
    return 0 if current == SCHEMA_HEAD else 1


def register(sub: Any) -> None:
    """``init``, ``config check|schema`` and ``db upgrade|current``."""
    p = add(sub, "init", cmd_init, "write a commented starter cockpit.toml")
    p.add_argument("--path", default="cockpit.toml", help="where to write it")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")

    config = sub.add_parser("config", help="check the config or print its JSON Schema")
    config_sub = config.add_subparsers(dest="subcommand", metavar="SUBCOMMAND", required=True)
    add(config_sub, "check", cmd_config_check, "validate cockpit.toml")
    add(config_sub, "schema", cmd_config_schema, "print a JSON Schema of cockpit.toml")

    db = sub.add_parser("db", help="the cockpit's own database schema")
    db_sub = db.add_subparsers(dest="subcommand", metavar="SUBCOMMAND", required=True)
    add(db_sub, "upgrade", cmd_db_upgrade, "apply the shipped migrations")
    add(db_sub, "current", cmd_db_current, "show the schema revision")
