"""orders: orders, lines, payments, refunds, webhook receipts

Revision ID: orders_0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from boxoffice.migrations.types import Id, UTCDateTime

revision = "orders_0001"
down_revision = None
branch_labels = ("orders",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "orders_orders",
        sa.Column("id", Id(), nullable=False),
        sa.Column("user_id", Id(), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("provider", sa.String(16), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("ticket_amount", sa.BigInteger(), nullable=False),
        sa.Column("ticket_count", sa.Integer(), nullable=False),
        sa.Column("refunded_amount", sa.BigInteger(), nullable=False),
        sa.Column("fee", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("show_id", Id(), nullable=True),
        sa.Column("event_id", Id(), nullable=True),
        sa.Column("seller_id", Id(), nullable=True),
        sa.Column("hold_id", Id(), nullable=True),
        sa.Column("delivery", sa.Text(), nullable=True),
        sa.Column("checkout", sa.Text(), nullable=True),
        sa.Column("idempotency_key", sa.String(255), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("failure_reason", sa.String(500), nullable=True),
        sa.Column("cancel_reason", sa.String(500), nullable=True),
        sa.Column("confirming_since", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("paid_at", UTCDateTime(), nullable=True),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_orders_orders"),
        sa.UniqueConstraint(
            "user_id", "idempotency_key", name="uq_orders_orders_user_id_idempotency_key"
        ),
        sa.UniqueConstraint("hold_id", name="uq_orders_orders_hold_id"),
    )
    op.create_index("ix_orders_orders_status_expires_at", "orders_orders", ["status", "expires_at"])
    op.create_index("ix_orders_orders_event_id_status", "orders_orders", ["event_id", "status"])
    op.create_table(
        "orders_lines",
        sa.Column("id", Id(), nullable=False),
        sa.Column("order_id", Id(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("ref", sa.String(64), nullable=False),
        sa.Column("description", sa.String(200), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_orders_lines"),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders_orders.id"],
            ondelete="CASCADE",
            name="fk_orders_lines_order_id_orders_orders",
        ),
    )
    op.create_index("ix_orders_lines_order_id", "orders_lines", ["order_id"])
    op.create_table(
        "orders_payments",
        sa.Column("id", Id(), nullable=False),
        sa.Column("order_id", Id(), nullable=False),
        sa.Column("provider", sa.String(16), nullable=False),
        sa.Column("reference", sa.String(200), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("captured_amount", sa.BigInteger(), nullable=False),
        sa.Column("refunded_amount", sa.BigInteger(), nullable=False),
        sa.Column("failure_code", sa.String(64), nullable=True),
        sa.Column("failure_message", sa.String(500), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("approved_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_orders_payments"),
        sa.UniqueConstraint("provider", "reference", name="uq_orders_payments_provider_reference"),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders_orders.id"],
            ondelete="CASCADE",
            name="fk_orders_payments_order_id_orders_orders",
        ),
    )
    op.create_index("ix_orders_payments_order_id", "orders_payments", ["order_id"])
    op.create_index(
        "ix_orders_payments_status_updated_at", "orders_payments", ["status", "updated_at"]
    )
    op.create_table(
        "orders_refunds",
        sa.Column("id", Id(), nullable=False),
        sa.Column("order_id", Id(), nullable=False),
        sa.Column("payment_id", Id(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("fee", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("claim", sa.String(64), nullable=True),
        sa.Column("failure_code", sa.String(64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("completed_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_orders_refunds"),
        sa.UniqueConstraint("claim", name="uq_orders_refunds_claim"),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders_orders.id"],
            ondelete="CASCADE",
            name="fk_orders_refunds_order_id_orders_orders",
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["orders_payments.id"],
            ondelete="CASCADE",
            name="fk_orders_refunds_payment_id_orders_payments",
        ),
    )
    op.create_index(
        "ix_orders_refunds_status_created_at", "orders_refunds", ["status", "created_at"]
    )
    op.create_table(
        "orders_webhook_receipts",
        sa.Column("transmission_id", sa.String(128), nullable=False),
        sa.Column("provider", sa.String(16), nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("reference", sa.String(200), nullable=True),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("transmission_id", name="pk_orders_webhook_receipts"),
    )


def downgrade() -> None:
    op.drop_table("orders_webhook_receipts")
    op.drop_table("orders_refunds")
    op.drop_table("orders_payments")
    op.drop_table("orders_lines")
    op.drop_table("orders_orders")
