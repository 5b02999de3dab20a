"""notifications: sellers' webhook endpoints, their deliveries and each attempt

Revision ID: notifications_0002
Revises: notifications_0001
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from boxoffice.migrations.types import Id, UTCDateTime

revision = "notifications_0002"
down_revision = "notifications_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notifications_webhook_endpoints",
        sa.Column("id", Id(), nullable=False),
        sa.Column("seller_id", Id(), nullable=False),
        sa.Column("url", sa.String(500), nullable=False),
        sa.Column("events", sa.String(200), nullable=False),
        sa.Column("secret", sa.String(100), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failure_streak", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("disabled_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_notifications_webhook_endpoints"),
    )
    op.create_index(
        "ix_notifications_webhook_endpoints_seller_id",
        "notifications_webhook_endpoints",
        ["seller_id"],
    )
    op.create_table(
        "notifications_webhook_deliveries",
        sa.Column("id", Id(), nullable=False),
        sa.Column("endpoint_id", Id(), nullable=False),
        sa.Column("event_id", Id(), nullable=False),
        sa.Column("event_type", sa.String(40), nullable=False),
        sa.Column("aggregate_id", Id(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("delivered_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_notifications_webhook_deliveries"),
        sa.UniqueConstraint(
            "endpoint_id",
            "event_id",
            name="uq_notifications_webhook_deliveries_endpoint_id_event_id",
        ),
    )
    op.create_index(
        "ix_notifications_webhook_deliveries_endpoint_id_aggregate_id",
        "notifications_webhook_deliveries",
        ["endpoint_id", "aggregate_id"],
    )
    op.create_table(
        "notifications_webhook_attempts",
        sa.Column("id", Id(), nullable=False),
        sa.Column("delivery_id", Id(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(300), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_notifications_webhook_attempts"),
    )
    op.create_index(
        "ix_notifications_webhook_attempts_delivery_id",
        "notifications_webhook_attempts",
        ["delivery_id"],
    )


def downgrade() -> None:
    op.drop_table("notifications_webhook_attempts")
    op.drop_table("notifications_webhook_deliveries")
    op.drop_table("notifications_webhook_endpoints")
