"""seating: a hold keeps its seats as they were sold to it (place, grade, price)

The order placed from a hold, and the tickets issued when it is paid, are made from what
the hold recorded, without reading the seats again; the price is the one the buyer was
shown when holding.

Revision ID: seating_0002
Revises: seating_0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "seating_0002"
down_revision = "seating_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("seating_holds", sa.Column("seats", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("seating_holds", "seats")
