"""Scale: indexes on what is queried, and the release summaries projection.

- Indexes: ``events(action)`` (the lookup of releases and of acknowledged breaks) and
  ``events(release_id, seq)`` (a release's events in order, its last N for the dashboard),
  which replaces ``events(release_id)``.
- ``release_summaries``: one row per release, derived from its events in the same transaction as
  each append (:mod:`cockpit.projections`); never a second truth: rebuilt from the log by
  ``cockpit db rebuild`` and compared with the fold by ``cockpit audit verify``. Filled here from
  the events already in the log.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_seq = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    from cockpit.projections import rebuild_with

    op.create_index("ix_events_action", "events", ["action"])
    op.create_index("ix_events_release_seq", "events", ["release_id", "seq"])
    op.drop_index("ix_events_release_id", "events")  # the one above serves its queries
    op.create_table(
        "release_summaries",
        sa.Column("release_id", sa.String(64), primary_key=True),
        sa.Column("plan", sa.Text(), nullable=False),
        sa.Column("environment", sa.String(255), nullable=False),
        sa.Column("version", sa.String(255), nullable=False),
        sa.Column("t0", sa.String(64), nullable=False),
        sa.Column("zone", sa.String(64), nullable=False),
        sa.Column("rehearsal", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("created_seq", _seq, nullable=False),
        sa.Column("last_seq", _seq, nullable=False),
        sa.Column("last_action", sa.String(64), nullable=False),
        sa.Column("event_count", _seq, nullable=False),
    )
    op.create_index("ix_release_summaries_created_seq", "release_summaries", ["created_seq"])
    bind = op.get_bind()
    cursor = bind.connection.driver_connection.cursor()  # type: ignore[union-attr]
    # The summaries only: item_states comes in 0004.
    rebuild_with(cursor, "?" if bind.dialect.name == "sqlite" else "%s", items=False)
    cursor.close()


def downgrade() -> None:
    raise SystemExit("the event log is never downgraded: it would destroy the audit trail")
