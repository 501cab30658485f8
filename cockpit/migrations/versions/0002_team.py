"""Team mode: signatures, the database's own word on who and when, leases, shared step output.

- ``events.signature``: an SSH signature (``ssh-keygen -Y sign``, armored) over the event's
  signed bytes; part of the hashed record when present.
- ``events.db_user`` / ``events.db_time``: stamped by the server on PostgreSQL (``session_user``
  and its own clock) by a trigger the inserting role cannot bypass; not part of the hash (the
  client cannot know them), compared with the actor by ``cockpit audit verify``.
- The chain head moves only through the append path: a trigger on ``events`` checks that each
  new row follows the head and moves it; on PostgreSQL a direct UPDATE/DELETE of ``chain_head``
  is refused, and roles lock the head through ``cockpit_lock_head()`` (SECURITY DEFINER), so an
  operator role needs no write privilege on it. Each append NOTIFYs ``cockpit_events``.
- ``leases``: who drives a release (mutable state; every change is also an event).
- ``step_output``: a running step's output in chunks, for followers on other hosts (NOTIFY
  ``cockpit_output``).
- ``operator_roles``: database roles made for one operator each (``cockpit db grant NAME``).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_seq = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# SECURITY DEFINER functions run with the owner's rights whoever calls them; the search path is
# pinned to the one in force when the migration ran, so a caller cannot shadow the tables.
_PG_FUNCTIONS = [
    """
CREATE OR REPLACE FUNCTION cockpit_lock_head() RETURNS TABLE (seq bigint, hash varchar)
LANGUAGE sql SECURITY DEFINER SET search_path FROM CURRENT AS $$
    SELECT h.seq, h.hash FROM chain_head h WHERE h.id = 1 FOR UPDATE
$$
""",
    """
CREATE OR REPLACE FUNCTION cockpit_events_append() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    head_seq bigint;
    head_hash varchar;
BEGIN
    SELECT h.seq, h.hash INTO head_seq, head_hash FROM chain_head h WHERE h.id = 1 FOR UPDATE;
    IF NEW.seq IS DISTINCT FROM head_seq + 1 OR NEW.prev_hash IS DISTINCT FROM head_hash THEN
        RAISE EXCEPTION 'cockpit events: seq % does not follow the chain head (seq %)',
            NEW.seq, head_seq USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    NEW.db_user := session_user;
    NEW.db_time := to_char(clock_timestamp() AT TIME ZONE 'UTC',
                           'YYYY-MM-DD"T"HH24:MI:SS.US"Z"');
    UPDATE chain_head SET seq = NEW.seq, hash = NEW.hash WHERE id = 1;
    PERFORM pg_notify('cockpit_events',
                      NEW.seq::text || ' ' || coalesce(NEW.release_id, ''));
    RETURN NEW;
END
$$
""",
    """
CREATE OR REPLACE FUNCTION cockpit_chain_head_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF pg_trigger_depth() < 2 THEN
        RAISE EXCEPTION 'the cockpit chain head moves only when an event is appended: % refused',
            TG_OP USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$
""",
    """
CREATE OR REPLACE FUNCTION cockpit_output_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('cockpit_output', NEW.release_id || ' ' || NEW.intent_seq::text);
    RETURN NEW;
END
$$
""",
]

_PG_TRIGGERS = [
    # Only the roles `cockpit db grant` makes (and the owner) may hold the head's lock.
    "REVOKE EXECUTE ON FUNCTION cockpit_lock_head() FROM PUBLIC",
    "CREATE TRIGGER events_append BEFORE INSERT ON events "
    "FOR EACH ROW EXECUTE FUNCTION cockpit_events_append()",
    "CREATE TRIGGER chain_head_guard BEFORE UPDATE OR DELETE ON chain_head "
    "FOR EACH ROW EXECUTE FUNCTION cockpit_chain_head_guard()",
    "CREATE TRIGGER chain_head_no_truncate BEFORE TRUNCATE ON chain_head "
    "FOR EACH STATEMENT EXECUTE FUNCTION cockpit_events_append_only()",
    "CREATE TRIGGER step_output_notify AFTER INSERT ON step_output "
    "FOR EACH ROW EXECUTE FUNCTION cockpit_output_notify()",
    "ALTER TABLE events ENABLE ALWAYS TRIGGER events_append",
    "ALTER TABLE chain_head ENABLE ALWAYS TRIGGER chain_head_guard",
    "ALTER TABLE chain_head ENABLE ALWAYS TRIGGER chain_head_no_truncate",
]

_SQLITE_TRIGGERS = [
    # A file's owner can drop these; they keep honest writers in one chain, like PostgreSQL's.
    "CREATE TRIGGER events_follow_head BEFORE INSERT ON events "
    "WHEN NEW.seq IS NOT (SELECT seq + 1 FROM chain_head WHERE id = 1) "
    "OR NEW.prev_hash IS NOT (SELECT hash FROM chain_head WHERE id = 1) "
    "BEGIN SELECT RAISE(ABORT, 'cockpit events: a new event must follow the chain head'); END",
    "CREATE TRIGGER events_move_head AFTER INSERT ON events "
    "BEGIN UPDATE chain_head SET seq = NEW.seq, hash = NEW.hash WHERE id = 1; END",
]


def upgrade() -> None:
    op.add_column("events", sa.Column("signature", sa.Text(), nullable=True))
    op.add_column("events", sa.Column("db_user", sa.String(255), nullable=True))
    op.add_column("events", sa.Column("db_time", sa.String(32), nullable=True))
    op.create_table(
        "leases",
        sa.Column("release_id", sa.String(64), primary_key=True),
        sa.Column("holder", sa.String(255), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(36), nullable=False),
        sa.Column("since", sa.String(32), nullable=False),
        # Seconds since the epoch (the database's clock on PostgreSQL), compared in SQL.
        sa.Column("heartbeat_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
    )
    op.create_table(
        "step_output",
        sa.Column("release_id", sa.String(64), primary_key=True),
        sa.Column("intent_seq", _seq, primary_key=True, autoincrement=False),
        sa.Column("chunk", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("item_id", sa.String(128), nullable=False),
        sa.Column("written_at", sa.String(32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
    )
    op.create_table(
        "operator_roles",
        sa.Column("role", sa.String(63), primary_key=True),
        sa.Column("operator", sa.String(255), nullable=False),
        sa.Column("granted_at", sa.String(32), nullable=False),
        sa.Column("granted_by", sa.String(255), nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        for statement in _PG_FUNCTIONS + _PG_TRIGGERS:
            op.execute(statement)
    else:
        for statement in _SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade() -> None:
    raise SystemExit("the event log is never downgraded: it would destroy the audit trail")
