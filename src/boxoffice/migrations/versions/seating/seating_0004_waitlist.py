"""seating: the sold-out waitlist (one entry per show and fan, offered returned seats)

Revision ID: seating_0004
Revises: seating_0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from boxoffice.migrations.types import Id, UTCDateTime

revision = "seating_0004"
down_revision = "seating_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "seating_waitlist",
        sa.Column("id", Id(), nullable=False),
        sa.Column("show_id", Id(), nullable=False),
        sa.Column("user_id", Id(), nullable=False),
        sa.Column("grade", sa.String(32), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("joined_at", UTCDateTime(), nullable=False),
        sa.Column("hold_id", Id(), nullable=True),
        sa.Column("offered_at", UTCDateTime(), nullable=True),
        sa.Column("offer_expires_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_seating_waitlist"),
        sa.UniqueConstraint("show_id", "user_id", name="uq_seating_waitlist_show_id_user_id"),
    )
    op.create_index(
        "ix_seating_waitlist_show_id_status_joined_at",
        "seating_waitlist",
        ["show_id", "status", "joined_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_seating_waitlist_show_id_status_joined_at", table_name="seating_waitlist")
    op.drop_table("seating_waitlist")
