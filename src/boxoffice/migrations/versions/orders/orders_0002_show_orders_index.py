"""orders: an index on (show_id, id) for a show's orders, newest first

The console lists a show's orders and exports them to CSV in keyset pages
(``WHERE show_id = ? AND id < ? ORDER BY id DESC``): without it each page of a large
show scans its event's orders.

Revision ID: orders_0002
Revises: orders_0001
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "orders_0002"
down_revision = "orders_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_orders_orders_show_id_id", "orders_orders", ["show_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_orders_orders_show_id_id", table_name="orders_orders")
