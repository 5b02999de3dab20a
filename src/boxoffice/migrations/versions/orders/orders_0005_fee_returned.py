"""orders: a refund may give back fees its order kept at earlier refunds (a cancelled show)

Revision ID: orders_0005
Revises: orders_0004
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "orders_0005"
down_revision = "orders_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "orders_refunds",
        sa.Column("fee_returned", sa.BigInteger(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_column("orders_refunds", "fee_returned")
