"""catalog: an event's waiting line can be paused by its seller

The console's live dashboard pauses and resumes admitting (the dispatcher reads it through
the sale info on its next tick); existing events are not paused.

Revision ID: catalog_0004
Revises: catalog_0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "catalog_0004"
down_revision = "catalog_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "catalog_events",
        sa.Column("queue_paused", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    op.drop_column("catalog_events", "queue_paused")
