"""orders: refunds of some lines of an order (``orders_refund_lines``, lines' refunded units)

Orders refunded before this revision are booked as if every unit of every line went back
with their refund; refunds still pending get their lines too, so that their completion or
refusal settles the same units.

Revision ID: orders_0004
Revises: orders_0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from boxoffice.migrations.types import Id

revision = "orders_0004"
down_revision = "orders_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "orders_lines",
        sa.Column("refunded_quantity", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_table(
        "orders_refund_lines",
        sa.Column("id", Id(), primary_key=True),
        sa.Column(
            "refund_id",
            Id(),
            sa.ForeignKey("orders_refunds.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "line_id", Id(), sa.ForeignKey("orders_lines.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("ref", sa.String(64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("fee", sa.BigInteger(), nullable=False),
        sa.Column("ticket_ids", sa.Text(), nullable=True),
    )
    op.create_index("ix_orders_refund_lines_refund_id", "orders_refund_lines", ["refund_id"])
    # Before this revision a refund returned the whole order: its lines were all refunded.
    op.execute(
        "UPDATE orders_lines SET refunded_quantity = quantity WHERE order_id IN ("
        "SELECT id FROM orders_orders WHERE status IN ('refunded', 'partially_refunded')) "
        "OR order_id IN (SELECT order_id FROM orders_refunds "
        "WHERE status = 'pending' AND kind <> 'automatic')"
    )
    op.execute(
        "INSERT INTO orders_refund_lines "
        "(id, refund_id, line_id, position, kind, ref, quantity, amount, fee, ticket_ids) "
        "SELECT l.id, r.id, l.id, l.position, l.kind, l.ref, l.quantity, l.amount, 0, NULL "
        "FROM orders_refunds r JOIN orders_lines l ON l.order_id = r.order_id "
        "WHERE r.status = 'pending' AND r.kind <> 'automatic'"
    )


def downgrade() -> None:
    op.drop_index("ix_orders_refund_lines_refund_id", "orders_refund_lines")
    op.drop_table("orders_refund_lines")
    op.drop_column("orders_lines", "refunded_quantity")
