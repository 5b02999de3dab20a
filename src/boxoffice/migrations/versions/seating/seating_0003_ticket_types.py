"""seating: the ticket type a seat is held or sold at, and a lock row per (show, type)

A capped type's claims on one show queue on their lock row; the seats of that type taken
now are then counted (docs/selling.md).

Revision ID: seating_0003
Revises: seating_0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from boxoffice.migrations.types import Id

revision = "seating_0003"
down_revision = "seating_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("seating_seats", sa.Column("ticket_type_id", Id(), nullable=True))
    op.create_index(
        "ix_seating_seats_show_id_ticket_type_id", "seating_seats", ["show_id", "ticket_type_id"]
    )
    op.create_table(
        "seating_ticket_type_locks",
        sa.Column("show_id", Id(), nullable=False),
        sa.Column("ticket_type_id", Id(), nullable=False),
        sa.Column("claims", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("show_id", "ticket_type_id", name="pk_seating_ticket_type_locks"),
    )


def downgrade() -> None:
    op.drop_table("seating_ticket_type_locks")
    op.drop_index("ix_seating_seats_show_id_ticket_type_id", table_name="seating_seats")
    op.drop_column("seating_seats", "ticket_type_id")
