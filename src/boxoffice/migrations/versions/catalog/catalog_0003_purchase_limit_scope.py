"""catalog: an event's purchase limit counts per show or across all its shows

Revision ID: catalog_0003
Revises: catalog_0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "catalog_0003"
down_revision = "catalog_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "catalog_events",
        sa.Column("purchase_limit_scope", sa.String(8), nullable=False, server_default="show"),
    )


def downgrade() -> None:
    op.drop_column("catalog_events", "purchase_limit_scope")
