"""tickets: the reminders sent (one per holder per show)

Revision ID: tickets_0003
Revises: tickets_0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from boxoffice.migrations.types import Id, UTCDateTime

revision = "tickets_0003"
down_revision = "tickets_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tickets_show_reminders",
        sa.Column("show_id", Id(), nullable=False),
        sa.Column("user_id", Id(), nullable=False),
        sa.Column("reminded_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("show_id", "user_id", name="pk_tickets_show_reminders"),
    )


def downgrade() -> None:
    op.drop_table("tickets_show_reminders")
