"""The item states projection: the facts of each checklist item, one row per (release, item).

- An index on ``events(release_id, action, seq)``: the few events of one kind a release's
  reads fetch (its notes, the committee's approvals), however long its history.
- ``item_states``: what a release's events say about each item (its status as they leave it,
  who decided it last, when, the seq of that decision and whether it is signed, the open intent,
  a failed check's ``seen``/``expected``, and each approval and void of a gate as JSON), derived
  in the same transaction as each append (:mod:`cockpit.itemfacts`). Never a verdict: which
  approvals count depends on the reader's allowed signers (:mod:`cockpit.itemstate`). Rebuilt
  from the log by ``cockpit db rebuild``, compared with the fold by ``cockpit audit verify``.
  Filled here from the events already in the log. On PostgreSQL the roles already granted
  the cockpit's privileges (``cockpit db grant``: those that may write ``release_summaries``)
  are granted the same on ``item_states``, so they go on appending after the upgrade.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_seq = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    from cockpit.projections import rebuild_with

    op.create_index("ix_events_release_action", "events", ["release_id", "action", "seq"])
    op.create_table(
        "item_states",
        sa.Column("release_id", sa.String(64), primary_key=True),
        sa.Column("item_id", sa.String(128), primary_key=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("decided_by", sa.String(255), nullable=True),
        sa.Column("decided_at", sa.String(32), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("seq", _seq, nullable=False),
        sa.Column("signed", sa.Boolean(), nullable=False),
        sa.Column("open_intent", _seq, nullable=True),
        sa.Column("intent_seq", _seq, nullable=True),
        sa.Column("seen", sa.Text(), nullable=True),
        sa.Column("expected", sa.Text(), nullable=True),
        sa.Column("votes", sa.Text(), nullable=False),
    )
    bind = op.get_bind()
    cursor = bind.connection.driver_connection.cursor()  # type: ignore[union-attr]
    rebuild_with(cursor, "?" if bind.dialect.name == "sqlite" else "%s", summaries=False)
    cursor.close()
    if bind.dialect.name == "postgresql":
        granted = bind.exec_driver_sql(
            "SELECT DISTINCT r.rolname FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a "
            "JOIN pg_roles r ON r.oid = a.grantee WHERE c.oid = 'release_summaries'::regclass "
            "AND a.privilege_type = 'INSERT' AND a.grantee <> c.relowner"
        )
        for (role,) in granted.fetchall():
            quoted = '"' + str(role).replace('"', '""') + '"'
            op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON item_states TO {quoted}")


def downgrade() -> None:
    raise SystemExit("the event log is never downgraded: it would destroy the audit trail")
