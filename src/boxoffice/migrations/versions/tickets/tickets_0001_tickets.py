"""tickets: issued tickets with their codes and check-in

Revision ID: tickets_0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from boxoffice.migrations.types import Id, UTCDateTime

revision = "tickets_0001"
down_revision = None
branch_labels = ("tickets",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tickets_tickets",
        sa.Column("id", Id(), nullable=False),
        sa.Column("order_id", Id(), nullable=False),
        sa.Column("user_id", Id(), nullable=False),
        sa.Column("show_id", Id(), nullable=False),
        sa.Column("event_id", Id(), nullable=False),
        sa.Column("seller_id", Id(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("starts_at", UTCDateTime(), nullable=True),
        sa.Column("seat_id", sa.String(64), nullable=False),
        sa.Column("active_seat", sa.String(64), nullable=True),
        sa.Column("section", sa.String(64), nullable=False),
        sa.Column("row", sa.String(16), nullable=False),
        sa.Column("number", sa.String(16), nullable=False),
        sa.Column("grade", sa.String(32), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("issued_at", UTCDateTime(), nullable=False),
        sa.Column("checked_in_at", UTCDateTime(), nullable=True),
        sa.Column("checked_in_by", Id(), nullable=True),
        sa.Column("voided_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_tickets_tickets"),
        sa.UniqueConstraint(
            "show_id", "active_seat", name="uq_tickets_tickets_show_id_active_seat"
        ),
        sa.UniqueConstraint("code", name="uq_tickets_tickets_code"),
    )
    op.create_index("ix_tickets_tickets_order_id", "tickets_tickets", ["order_id"])
    op.create_index("ix_tickets_tickets_user_id", "tickets_tickets", ["user_id"])


def downgrade() -> None:
    op.drop_table("tickets_tickets")
