"""Add the owner column to datasets.

Revision ID: 0002_owner
Revises: 0001_datasets
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_owner"
down_revision = "0001_datasets"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("datasets", sa.Column("owner", sa.String(100), nullable=True))


def downgrade() -> None:
    # SQLite drops a column natively since 3.35.
    op.drop_column("datasets", "owner")
