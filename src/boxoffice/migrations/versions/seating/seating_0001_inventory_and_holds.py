"""seating: show inventories, seats, holds, per-(show, user) buyer locks

Revision ID: seating_0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from boxoffice.migrations.types import Id, UTCDateTime

revision = "seating_0001"
down_revision = None
branch_labels = ("seating",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "seating_shows",
        sa.Column("show_id", Id(), nullable=False),
        sa.Column("event_id", Id(), nullable=False),
        sa.Column("seat_count", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("show_id", name="pk_seating_shows"),
    )
    op.create_table(
        "seating_seats",
        sa.Column("show_id", Id(), nullable=False),
        sa.Column("seat_id", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("section", sa.String(64), nullable=False),
        sa.Column("row", sa.String(16), nullable=False),
        sa.Column("number", sa.String(16), nullable=False),
        sa.Column("grade", sa.String(32), nullable=False),
        sa.Column("x", sa.Float(), nullable=True),
        sa.Column("y", sa.Float(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("hold_id", Id(), nullable=True),
        sa.Column("holder_id", Id(), nullable=True),
        sa.Column("hold_expires_at", UTCDateTime(), nullable=True),
        sa.Column("order_id", Id(), nullable=True),
        sa.PrimaryKeyConstraint("show_id", "seat_id", name="pk_seating_seats"),
    )
    op.create_index("ix_seating_seats_hold_id", "seating_seats", ["hold_id"])
    op.create_index("ix_seating_seats_show_id_holder_id", "seating_seats", ["show_id", "holder_id"])
    op.create_table(
        "seating_holds",
        sa.Column("id", Id(), nullable=False),
        sa.Column("show_id", Id(), nullable=False),
        sa.Column("user_id", Id(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("seat_ids", sa.Text(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("end_reason", sa.String(32), nullable=True),
        sa.Column("order_id", Id(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_seating_holds"),
    )
    op.create_index("ix_seating_holds_status_expires_at", "seating_holds", ["status", "expires_at"])
    op.create_index("ix_seating_holds_show_id_user_id", "seating_holds", ["show_id", "user_id"])
    op.create_table(
        "seating_buyer_locks",
        sa.Column("show_id", Id(), nullable=False),
        sa.Column("user_id", Id(), nullable=False),
        sa.Column("claims", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("show_id", "user_id", name="pk_seating_buyer_locks"),
    )


def downgrade() -> None:
    op.drop_table("seating_buyer_locks")
    op.drop_index("ix_seating_holds_show_id_user_id", table_name="seating_holds")
    op.drop_index("ix_seating_holds_status_expires_at", table_name="seating_holds")
    op.drop_table("seating_holds")
    op.drop_index("ix_seating_seats_show_id_holder_id", table_name="seating_seats")
    op.drop_index("ix_seating_seats_hold_id", table_name="seating_seats")
    op.drop_table("seating_seats")
    op.drop_table("seating_shows")
