"""``cockpit init``, ``cockpit config check|schema`` and ``cockpit db
upgrade|current|grant|revoke|roles``: write a starter config, check it or print its schema, look
after the cockpit's own database schema, and (PostgreSQL) the roles that may append to the log.
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
        raise UsageError.said("err.exists", path=target)
    target = output_path(cmd.args.path, "--path")
    starter = resources.files("cockpit").joinpath("starter.toml").read_text(encoding="utf-8")
    write_output(target, starter, "--path")
    cmd.say("cli.wrote_config", path=target)
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
        raise ConfigError.said("err.db_url", url=redact_url(url), cause=first) from None


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


def cmd_db_rebuild(cmd: Command) -> int:
    from cockpit.config import redact_url

    count = cmd.session.store.rebuild_projections()
    where = redact_url(cmd.session.db_url)
    cmd.print(f"{where}: projections rebuilt from the log ({count} releases)")
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


def cmd_db_grant(cmd: Command) -> int:
    """Give an operator a database role of their own (or make a shared one), as the owner, in
    the same transaction as the ``db.role_granted`` event that records it."""
    from sqlalchemy.engine import make_url

    from cockpit import dbroles
    from cockpit.config import redact_url
    from cockpit.events import NewEvent
    from cockpit.vocabulary import DB_ROLE_GRANTED

    args, url = cmd.args, cmd.session.db_url
    dbroles.require_postgres(url)
    if args.shared and args.role:
        raise UsageError.said("err.shared_role")
    operator = None if args.shared else dbroles.check_name(args.name, "NAME")
    role = dbroles.check_name(args.role or args.name, "--role" if args.role else "NAME")
    password = dbroles.password_from(args.password_env)
    actor = cmd.session.operator
    privileges = {table: rights for table, rights in dbroles.TABLE_PRIVILEGES}
    event = NewEvent(
        action=DB_ROLE_GRANTED,
        subject=role,
        outcome="ok",
        details={
            "role": role,
            "operator": operator,
            "password_set": password is not None,
            "privileges": privileges | {dbroles.LOCK_FUNCTION: "EXECUTE"},
        },
    )
    done: list[str] = []

    def grant(cursor: Any) -> None:
        done.append(
            dbroles.grant_role(cursor, role, operator, password=password, granted_by=actor.actor)
        )

    ev = cmd.session.store.append_many([event], actor, also=grant)[0]
    whom = f"operator {operator}: its events must name {operator}" if operator else "shared use"
    cmd.print(f"role {role} {done[0]} for {whom} (event #{ev.seq})")
    login = make_url(url).set(username=role, password=None).render_as_string()
    cmd.print(f"  connect as: {redact_url(login)}")
    return 0


def cmd_db_revoke(cmd: Command) -> int:
    """Take a role's privileges and login away, recorded as ``db.role_revoked``."""
    from cockpit import dbroles
    from cockpit.events import NewEvent
    from cockpit.vocabulary import DB_ROLE_REVOKED

    dbroles.require_postgres(cmd.session.db_url)
    role = dbroles.check_name(cmd.args.name, "NAME")
    event = NewEvent(action=DB_ROLE_REVOKED, subject=role, outcome="ok", details={"role": role})
    owner: list[str | None] = []
    ev = cmd.session.store.append_many(
        [event],
        cmd.session.operator,
        also=lambda cursor: owner.append(dbroles.revoke_role(cursor, role)),
    )[0]
    kept = f"; its events stay checked against {owner[0]}" if owner[0] else ""
    cmd.print(f"role {role} revoked: no login, no privileges (event #{ev.seq}){kept}")
    return 0


def cmd_db_roles(cmd: Command) -> int:
    """Every role that may append to the log, or did as an operator's."""
    from cockpit import dbroles
    from cockpit.store import Store

    dbroles.require_postgres(cmd.session.db_url)
    store = Store(cmd.session.db_url, read_only=True).open()
    with store.engine.connect() as conn, conn.begin():
        roles = dbroles.list_roles(conn.connection.driver_connection.cursor())  # type: ignore[union-attr]
    if cmd.args.json:
        cmd.print(json.dumps([vars(r) for r in roles], indent=2))
        return 0
    cmd.print(f"{'ROLE':<20} {'KIND':<9} {'OPERATOR':<16} APPEND LOGIN GRANTED")
    for r in roles:
        granted = f"{r.granted_at} by {r.granted_by}" if r.granted_at else "-"
        cmd.print(
            f"{r.role:<20} {r.kind:<9} {r.operator or '-':<16} "
            f"{'yes' if r.can_append else 'no':<6} {'yes' if r.can_login else 'no':<5} {granted}"
        )
    return 0


def register(sub: Any) -> None:
    """``init``, ``config check|schema`` and ``db upgrade|current|grant|revoke|roles``."""
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
    add(db_sub, "rebuild", cmd_db_rebuild, "derive the projections again from the event log")
    p = add(
        db_sub,
        "grant",
        cmd_db_grant,
        "give operator NAME a PostgreSQL role of their own (run as the database owner)",
    )
    p.add_argument("name", metavar="NAME", help="the operator (their login name on the bastion)")
    p.add_argument("--role", metavar="ROLE", help="the role's name (default: NAME)")
    p.add_argument(
        "--password-env",
        metavar="VAR",
        help="set the role's password from this environment variable (never printed)",
    )
    p.add_argument(
        "--shared",
        action="store_true",
        help="NAME is a role shared by several operators (the app role): identity only claimed",
    )
    p = add(db_sub, "revoke", cmd_db_revoke, "take a role's login and privileges away")
    p.add_argument("name", metavar="NAME", help="the role")
    p = add(db_sub, "roles", cmd_db_roles, "list the roles that may append to the log")
    p.add_argument("--json", action="store_true", help="machine-readable list")
