"""notifications: log of sent e-mails

Revision ID: notifications_0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from boxoffice.migrations.types import Id, UTCDateTime

revision = "notifications_0001"
down_revision = None
branch_labels = ("notifications",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notifications_emails",
        sa.Column("id", Id(), nullable=False),
        sa.Column("template", sa.String(40), nullable=False),
        sa.Column("event_id", Id(), nullable=False),
        sa.Column("user_id", Id(), nullable=True),
        sa.Column("to_address", sa.String(320), nullable=False),
        sa.Column("locale", sa.String(8), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("message_id", sa.String(200), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_notifications_emails"),
        sa.UniqueConstraint(
            "template", "event_id", name="uq_notifications_emails_template_event_id"
        ),
    )
    op.create_index("ix_notifications_emails_user_id", "notifications_emails", ["user_id"])


def downgrade() -> None:
    op.drop_table("notifications_emails")
