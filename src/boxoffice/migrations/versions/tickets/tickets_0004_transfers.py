"""tickets: transfers of a ticket to another account (one pending per ticket, all kept)

Revision ID: tickets_0004
Revises: tickets_0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from boxoffice.migrations.types import Id, UTCDateTime

revision = "tickets_0004"
down_revision = "tickets_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tickets_transfers",
        sa.Column("id", Id(), nullable=False),
        sa.Column("ticket_id", Id(), nullable=False),
        sa.Column("show_id", Id(), nullable=False),
        sa.Column("from_user_id", Id(), nullable=False),
        sa.Column("to_email", sa.String(254), nullable=False),
        sa.Column("to_user_id", Id(), nullable=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("pending_key", Id(), nullable=True),
        sa.Column("new_ticket_id", Id(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_tickets_transfers"),
        sa.UniqueConstraint("pending_key", name="uq_tickets_transfers_pending_key"),
    )
    op.create_index("ix_tickets_transfers_ticket_id", "tickets_transfers", ["ticket_id"])
    op.create_index("ix_tickets_transfers_from_user_id", "tickets_transfers", ["from_user_id"])
    op.create_index("ix_tickets_transfers_to_email", "tickets_transfers", ["to_email"])


def downgrade() -> None:
    op.drop_table("tickets_transfers")
