"""orders: a payment's method and the provider's receipt page (Toss's ``receipt.url``)

Revision ID: orders_0003
Revises: orders_0002
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "orders_0003"
down_revision = "orders_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("orders_payments", sa.Column("method", sa.String(32), nullable=True))
    op.add_column("orders_payments", sa.Column("receipt_url", sa.String(500), nullable=True))


def downgrade() -> None:
    op.drop_column("orders_payments", "receipt_url")
    op.drop_column("orders_payments", "method")
