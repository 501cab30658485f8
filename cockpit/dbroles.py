"""Database roles the log can trust (PostgreSQL): who may append, and as whom.

In shared mode every insert is stamped by the server with ``session_user`` and its own clock
(migration 0002). This module makes that stamp mean something:

- :func:`grant_role` / :func:`revoke_role` give a LOGIN role exactly the privileges the cockpit
  needs (:data:`TABLE_PRIVILEGES`, ``EXECUTE`` on ``cockpit_lock_head()``, ``USAGE`` on the
  schema, ``CONNECT`` on the database) or take them away, and record which operator a role
  belongs to in ``operator_roles``; ``cockpit db grant|revoke`` run them as the database owner,
  in the same transaction as the event that records them. :func:`list_roles` says who may append.
- :func:`principal_findings` compares each event's database principal with its actor: an event
  appended by an operator's role whose actor names someone else is ``ACTOR_MISMATCH`` (alice's
  role cannot approve as bob), and a host clock far from the server's is a ``CLOCK_SKEW``
  warning. :meth:`cockpit.store.Store.verify` runs it beside the chain check.

A role revoked keeps its ``operator_roles`` row (and cannot log in), so the log's ``db_user``
keeps naming one operator and can be checked for ever; a role name is never handed to another
operator. Functions that change roles take a DB-API cursor (psycopg) inside the caller's
transaction; psycopg is imported where it is used.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cockpit.errors import AppendFailed, CockpitError, StoreError, UsageError
from cockpit.urls import redact_url
from cockpit.verify import Finding

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

ACTOR_MISMATCH = "ACTOR_MISMATCH"
CLOCK_SKEW = "CLOCK_SKEW"
# A host clock this far from the database's makes its recorded_at untrustworthy.
MAX_SKEW_SECONDS = 120.0
# Findings kept per code; beyond them one more finding counts the rest (bounded memory).
MAX_FINDINGS = 50

# What a cockpit (an operator's or the shared app role) needs, and nothing more.
TABLE_PRIVILEGES = (
    ("events", "SELECT, INSERT"),
    ("chain_head", "SELECT"),
    ("alembic_version", "SELECT"),
    ("leases", "SELECT, INSERT, UPDATE, DELETE"),
    ("step_output", "SELECT, INSERT"),
    ("operator_roles", "SELECT"),
    # Projections move with each append, in its transaction (cockpit.projections).
    ("release_summaries", "SELECT, INSERT, UPDATE, DELETE"),
    ("item_states", "SELECT, INSERT, UPDATE, DELETE"),
)
LOCK_FUNCTION = "cockpit_lock_head()"

# PostgreSQL's own limit is 63 bytes; ASCII only, so no case or encoding surprises in a URL.
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,62}")
_RESERVED = frozenset({"public", "none", "current_role", "current_user", "session_user", "user"})


def check_name(value: str, what: str) -> str:
    """``value`` if it is a safe name for a database role (or an operator owning one), else a
    one-line :class:`UsageError` naming ``what`` (the argument) and what to give instead."""
    if not _NAME.fullmatch(value) or value.lower() in _RESERVED or value.startswith("pg_"):
        raise UsageError(
            f"{what} {value!r}: not a safe database role name: use up to 63 letters, digits, "
            "'_', '.' or '-', starting with a letter or '_' (not 'pg_', not a reserved word)"
        )
    return value


def require_postgres(url: str) -> None:
    """Database roles exist on PostgreSQL only: one line (exit 2) for any other URL."""
    if not url.startswith("postgresql"):
        raise UsageError(
            f"{redact_url(url)}: database roles need PostgreSQL (shared mode); this log is "
            "SQLite, where whoever can write the file is every role: see docs/team.md"
        )


def password_from(variable: str | None) -> str | None:
    """The password in the environment variable ``variable`` (``None`` when none is named); an
    unset or empty variable is one line naming it. The value is never printed."""
    if variable is None:
        return None
    value = os.environ.get(variable, "")
    if not value:
        raise UsageError(
            f"--password-env {variable}: the variable is not set or empty; export the password "
            "in it first (it is never printed or recorded)"
        )
    return value


# ---------------------------------------------------------------- grant and revoke


@dataclass(frozen=True)
class Target:
    """A role as found before it is changed: who it is mapped to, whether it exists."""

    role: str
    exists: bool
    operator: str | None  # its operator_roles row, None when it has none
    appended: bool  # events carry it as their db_user


def _one(cursor: Any, query: Any, params: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
    cursor.execute(query, params)
    row = cursor.fetchone()
    return None if row is None else tuple(row)


def require_owner(cursor: Any, action: str) -> str:
    """The connected role, if it may ``action`` roles: a superuser, or a role with CREATEROLE
    that owns the cockpit's tables (or is a member of their owner). One line otherwise."""
    row = _one(
        cursor,
        "SELECT current_user, r.rolsuper, r.rolcreaterole, "
        "pg_has_role(current_user, c.relowner, 'USAGE'), pg_get_userbyid(c.relowner) "
        "FROM pg_roles r, pg_class c WHERE r.rolname = current_user "
        "AND c.oid = to_regclass('events')",
    )
    if row is None:
        raise UsageError.said("db.no_tables")
    me, superuser, createrole, owns, owner = row
    if superuser or (createrole and owns):
        return str(me)
    if not owns:
        raise UsageError(
            f"cannot {action} database roles as {me}: the cockpit's tables belong to {owner}; "
            "run this with the owner's URL (COCKPIT_DATABASE_URL)"
        )
    raise UsageError(
        f"cannot {action} database roles as {me}: it owns the tables but may not create roles; "
        f"a superuser can run `ALTER ROLE {me} CREATEROLE`"
    )


def _target(cursor: Any, role: str, me: str) -> Target:
    """What ``role`` is now; refuses a role that must never be an operator's or the app's:
    a superuser, the tables' owner or a member of it, or the role running this."""
    row = _one(
        cursor,
        "SELECT r.rolsuper, pg_has_role(r.oid, c.relowner, 'MEMBER') "
        "FROM pg_roles r, pg_class c WHERE r.rolname = %s AND c.oid = to_regclass('events')",
        (role,),
    )
    if row is not None and (row[0] or row[1] or role == me):
        raise UsageError(
            f"role {role}: a superuser, the tables' owner or a member of it (or you) can bypass "
            "the log's guards, so it cannot be an operator's or the app's role; pick another "
            "with --role"
        )
    mapped = _one(cursor, "SELECT operator FROM operator_roles WHERE role = %s", (role,))
    appended = _one(cursor, "SELECT 1 FROM events WHERE db_user = %s LIMIT 1", (role,))
    return Target(
        role,
        exists=row is not None,
        operator=None if mapped is None else str(mapped[0]),
        appended=appended is not None,
    )


def _privileges(cursor: Any, role: str, *, give: bool) -> None:
    """Take every privilege on the cockpit's objects from ``role``; with ``give``, then grant
    exactly :data:`TABLE_PRIVILEGES` and the rest (a re-grant repairs anything added by hand).
    ``CONNECT`` is granted too: a hardened database has taken it from PUBLIC."""
    from psycopg import sql

    row = _one(
        cursor,
        "SELECT current_database(), n.nspname FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass('events')",
    )
    assert row is not None  # require_owner found the table
    database, schema = (sql.Identifier(str(name)) for name in row)
    objects: list[tuple[sql.Composable, str]] = [
        (sql.SQL("TABLE {}").format(sql.Identifier(t)), r) for t, r in TABLE_PRIVILEGES
    ]
    objects += [
        (sql.SQL("FUNCTION " + LOCK_FUNCTION), "EXECUTE"),
        (sql.SQL("SCHEMA {}").format(schema), "USAGE"),
        (sql.SQL("DATABASE {}").format(database), "CONNECT"),
    ]
    who = sql.Identifier(role)
    for what, _ in objects:
        cursor.execute(sql.SQL("REVOKE ALL ON {} FROM {}").format(what, who))
    for what, rights in objects if give else ():
        cursor.execute(sql.SQL("GRANT {} ON {} TO {}").format(sql.SQL(rights), what, who))


def grant_role(
    cursor: Any,
    role: str,
    operator: str | None,
    *,
    password: str | None,
    granted_by: str,
) -> str:
    """Make ``role`` a LOGIN role with exactly the cockpit's privileges, for ``operator`` (its
    ``operator_roles`` row) or shared by many (``operator=None``: no row; identity stays
    claimed). The password, when given, is sent as a SCRAM verifier made by libpq, never in
    clear (a statement log or pg_stat_statements would keep it). Granting again repairs the
    privileges and moves ``granted_at``. Returns ``"created"`` or ``"updated"``."""
    with _refused(f"grant role {role}"):
        return _grant(cursor, role, operator, password, granted_by)


def _grant(
    cursor: Any, role: str, operator: str | None, password: str | None, granted_by: str
) -> str:
    from psycopg import sql

    me = require_owner(cursor, "grant")
    found = _target(cursor, role, me)
    if operator is not None and found.operator not in (None, operator):
        raise UsageError(
            f"role {role} belongs to operator {found.operator}: a role is never handed to "
            "another operator (the log's db_user keeps naming them); pick another with --role"
        )
    if operator is not None and found.operator is None and found.appended:
        raise UsageError(
            f"role {role} has appended as a shared role: its events would all be checked "
            f"against {operator}; give {operator} a role of their own with --role"
        )
    if operator is None and found.operator is not None:
        raise UsageError(
            f"role {role} belongs to operator {found.operator}; a shared role needs a name of "
            "its own"
        )
    who = sql.Identifier(role)
    verb = "ALTER" if found.exists else "CREATE"
    cursor.execute(sql.SQL(verb + " ROLE {} LOGIN").format(who))
    if password is not None:
        verifier = cursor.connection.pgconn.encrypt_password(
            password.encode("utf-8"), role.encode("utf-8"), b"scram-sha-256"
        )
        cursor.execute(
            sql.SQL("ALTER ROLE {} PASSWORD {}").format(who, sql.Literal(verifier.decode()))
        )
    _privileges(cursor, role, give=True)
    if operator is not None:
        cursor.execute(
            "INSERT INTO operator_roles (role, operator, granted_at, granted_by) "
            "VALUES (%s, %s, to_char(clock_timestamp() AT TIME ZONE 'UTC', "
            '\'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\'), %s) '
            "ON CONFLICT (role) DO UPDATE SET granted_at = EXCLUDED.granted_at, "
            "granted_by = EXCLUDED.granted_by",
            (role, operator, granted_by),
        )
    return "updated" if found.exists else "created"


def revoke_role(cursor: Any, role: str) -> str | None:
    """Take the cockpit's privileges and LOGIN from ``role``. Its ``operator_roles`` row stays,
    so its events are still checked against its operator. Returns that operator (``None`` for a
    shared role)."""
    from psycopg import sql

    with _refused(f"revoke role {role}"):
        me = require_owner(cursor, "revoke")
        found = _target(cursor, role, me)
        if not found.exists:
            raise UsageError.said("db.no_role", role=role)
        _privileges(cursor, role, give=False)
        cursor.execute(sql.SQL("ALTER ROLE {} NOLOGIN").format(sql.Identifier(role)))
        return found.operator


@contextmanager
def _refused(what: str, error: type[CockpitError] = AppendFailed) -> Iterator[None]:
    """The database refusing a statement: one line, exit 1. In a grant or revoke the caller's
    transaction (with its event) is rolled back, so nothing was done."""
    import psycopg

    try:
        yield
    except psycopg.Error as exc:
        reason = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise error(f"cannot {what}: the database refused ({reason}); nothing was done") from None


# ---------------------------------------------------------------- who may append


@dataclass(frozen=True)
class RoleRow:
    """One role that may append, or did: ``kind`` is ``operator`` (its own operator),
    ``shared`` (identity claimed), ``owner`` or ``superuser``."""

    role: str
    kind: str
    operator: str | None
    granted_at: str | None
    granted_by: str | None
    can_login: bool
    can_append: bool


def list_roles(cursor: Any) -> list[RoleRow]:
    """Every role in ``operator_roles`` and every other role that may insert events (the
    shared app role, the owner, superusers), by name."""
    with _refused("list the roles", StoreError):
        return _list_roles(cursor)


def _list_roles(cursor: Any) -> list[RoleRow]:
    cursor.execute(
        "SELECT coalesce(o.role, r.rolname), o.operator, o.granted_at, o.granted_by, "
        "coalesce(r.rolcanlogin, false), "
        "coalesce(has_table_privilege(r.oid, 'events', 'INSERT'), false), "
        "coalesce(r.rolsuper, false), "
        "coalesce(r.oid = (SELECT relowner FROM pg_class "
        "WHERE oid = to_regclass('events')), false) "
        "FROM operator_roles o FULL JOIN pg_roles r ON r.rolname = o.role "
        "WHERE o.role IS NOT NULL OR (left(r.rolname, 3) <> 'pg_' "
        "AND has_table_privilege(r.oid, 'events', 'INSERT')) ORDER BY 1"
    )
    out = []
    for role, operator, at, by, login, append, superuser, owner in cursor.fetchall():
        if operator is not None:
            kind = "operator"
        else:
            kind = "owner" if owner else "superuser" if superuser else "shared"
        out.append(RoleRow(role, kind, operator, at, by, bool(login), bool(append)))
    return out


# ---------------------------------------------------------------- verify


def _moment(text: str | None) -> datetime | None:
    try:
        return None if text is None else datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


class _Bounded:
    """At most :data:`MAX_FINDINGS` findings of one code, then one that counts the rest."""

    def __init__(self, code: str) -> None:
        self.code = code
        self.kept: list[Finding] = []
        self.more = 0
        self.last = 0

    def add(self, seq: int, message: str) -> None:
        if len(self.kept) < MAX_FINDINGS:
            self.kept.append(Finding(self.code, seq, message))
        else:
            self.more += 1
            self.last = seq

    def findings(self) -> list[Finding]:
        if not self.more:
            return self.kept
        rest = f"and {self.more} more events like it up to seq {self.last}"
        return [*self.kept, Finding(self.code, self.last, rest)]


def principal_findings(
    rows: Iterable[tuple[Any, ...]], roles: Mapping[str, str]
) -> tuple[list[Finding], list[Finding]]:
    """Check each event's database principal: ``rows`` are ``(seq, actor, db_user, db_time,
    recorded_at)`` in seq order (streamed: one at a time), ``roles`` maps an operator's
    database role to the operator. Returns the problems (``ACTOR_MISMATCH``: the event was
    appended by an operator's role but its actor's name, ``actor.rsplit("@", 1)[0]``, is
    someone else) and the warnings (``CLOCK_SKEW``: the appending host's ``recorded_at`` is
    more than :data:`MAX_SKEW_SECONDS` from the server's ``db_time``)."""
    mismatches, skews = _Bounded(ACTOR_MISMATCH), _Bounded(CLOCK_SKEW)
    for seq, actor, db_user, db_time, recorded_at in rows:
        owner = roles.get(db_user) if db_user is not None else None
        if owner is not None and str(actor).rsplit("@", 1)[0] != owner:
            mismatches.add(
                seq,
                f"appended by database role {db_user}, which belongs to {owner}, but the actor "
                f"is {actor}: recorded in someone else's name",
            )
        host, server = _moment(recorded_at), _moment(db_time)
        if host is not None and server is not None:
            apart = abs((host - server).total_seconds())
            if apart > MAX_SKEW_SECONDS:
                skews.add(
                    seq,
                    f"recorded at {recorded_at} by the host, {db_time} by the database: "
                    f"{apart:.0f} s apart (the host's clock is off; trust db_time)",
                )
    return mismatches.findings(), skews.findings()


def check_principals(
    connect: Callable[[], AbstractContextManager[Connection]], upto: int, *, after: int = 0
) -> tuple[list[Finding], list[Finding]]:
    """:func:`principal_findings` over the events up to seq ``upto`` that the database stamped
    (``db_user`` set: PostgreSQL, migration 0002), read through ``connect()`` (the store's) in
    one transaction, streamed in batches by a server-side cursor: bounded memory whatever the
    log's length."""
    with connect() as conn, conn.begin():
        roles = {str(r): str(o) for r, o in conn.exec_driver_sql(_ROLES)}
        streamed = conn.execution_options(stream_results=True, yield_per=5_000)
        rows = streamed.exec_driver_sql(_STAMPED, {"upto": upto, "after": after})
        return principal_findings((tuple(row) for row in rows), roles)


_ROLES = "SELECT role, operator FROM operator_roles"
_STAMPED = (
    "SELECT seq, actor, db_user, db_time, recorded_at FROM events "
    "WHERE db_user IS NOT NULL AND seq > %(after)s AND seq <= %(upto)s ORDER BY seq"
)
