"""seating: box-office seats (a seat the seller holds back is "blocked", with a reason)

Revision ID: seating_0006
Revises: seating_0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "seating_0006"
down_revision = "seating_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("seating_seats", sa.Column("blocked_for", sa.String(32), nullable=True))


def downgrade() -> None:
    op.drop_column("seating_seats", "blocked_for")
