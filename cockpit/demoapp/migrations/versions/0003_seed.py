"""Index datasets by name (unique) and seed the first rows.

Revision ID: 0003_seed
Revises: 0002_owner
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_seed"
down_revision = "0002_owner"
branch_labels = None
depends_on = None

SEED = [
    {"name": "census-2020", "size_bytes": 7_340_032, "owner": "data-platform"},
    {"name": "weather-hourly", "size_bytes": 52_428_800, "owner": "climate"},
    {"name": "sales-eu", "size_bytes": 1_048_576, "owner": "finance"},
]


def upgrade() -> None:
    op.create_index("ix_datasets_name", "datasets", ["name"], unique=True)
    datasets = sa.table(
        "datasets",
        sa.column("name", sa.String),
        sa.column("size_bytes", sa.BigInteger),
        sa.column("owner", sa.String),
    )
    op.bulk_insert(datasets, SEED)


def downgrade() -> None:
    datasets = sa.table("datasets", sa.column("name", sa.String))
    op.execute(datasets.delete().where(datasets.c.name.in_([row["name"] for row in SEED])))
    op.drop_index("ix_datasets_name", table_name="datasets")
