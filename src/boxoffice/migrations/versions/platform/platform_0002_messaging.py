"""platform: processed event ids, scheduled retries, dead letters

Revision ID: platform_0002
Revises: platform_0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from boxoffice.migrations.types import Id, UTCDateTime

revision = "platform_0002"
down_revision = "platform_0001"
branch_labels = None
depends_on = None


def _event_columns() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("consumer", sa.String(80), nullable=False),
        sa.Column("event_id", Id(), nullable=False),
        sa.Column("topic", sa.String(120), nullable=False),
        sa.Column("event_type", sa.String(80), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("aggregate_id", sa.String(64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "platform_processed_events",
        sa.Column("consumer", sa.String(80), nullable=False),
        sa.Column("event_id", Id(), nullable=False),
        sa.Column("processed_at", UTCDateTime(), nullable=False),
        sa.Column("claim", Id(), nullable=True),
        sa.Column("claimed_until", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("consumer", "event_id", name="pk_platform_processed_events"),
    )
    op.create_index(
        "ix_platform_processed_events_processed_at", "platform_processed_events", ["processed_at"]
    )
    op.create_table(
        "platform_retries",
        sa.Column("id", Id(), nullable=False),
        *_event_columns(),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("last_error", sa.String(500), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_platform_retries"),
        sa.UniqueConstraint("consumer", "event_id", name="uq_platform_retries_consumer_event_id"),
    )
    op.create_index("ix_platform_retries_due_at", "platform_retries", ["due_at"])
    op.create_table(
        "platform_dead_letters",
        sa.Column("id", Id(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        *_event_columns(),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(500), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("failed_at", UTCDateTime(), nullable=False),
        sa.Column("retried_at", UTCDateTime(), nullable=True),
        sa.Column("retried_by", Id(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_platform_dead_letters"),
        sa.UniqueConstraint(
            "consumer", "event_id", name="uq_platform_dead_letters_consumer_event_id"
        ),
    )
    op.create_index("ix_platform_dead_letters_status", "platform_dead_letters", ["status"])
    op.create_index("ix_platform_dead_letters_failed_at", "platform_dead_letters", ["failed_at"])


def downgrade() -> None:
    op.drop_table("platform_dead_letters")
    op.drop_table("platform_retries")
    op.drop_table("platform_processed_events")
