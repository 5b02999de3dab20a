"""platform: transactional outbox

Revision ID: platform_0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from boxoffice.migrations.types import Id, UTCDateTime

revision = "platform_0001"
down_revision = None
branch_labels = ("platform",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "platform_outbox",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("event_id", Id(), nullable=False),
        sa.Column("topic", sa.String(120), nullable=False),
        sa.Column("event_type", sa.String(80), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("aggregate_id", sa.String(64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("published_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("seq", name="pk_platform_outbox"),
        sa.UniqueConstraint("event_id", name="uq_platform_outbox_event_id"),
    )
    op.create_index("ix_platform_outbox_topic", "platform_outbox", ["topic"])
    op.create_index("ix_platform_outbox_aggregate_id", "platform_outbox", ["aggregate_id"])
    op.create_index("ix_platform_outbox_published_at", "platform_outbox", ["published_at"])


def downgrade() -> None:
    op.drop_table("platform_outbox")
