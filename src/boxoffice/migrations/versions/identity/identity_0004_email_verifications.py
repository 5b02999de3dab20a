"""identity: e-mail verification links, also confirming a change of e-mail (only a hash of
each link's secret)

Revision ID: identity_0004
Revises: identity_0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from boxoffice.migrations.types import Id, UTCDateTime

revision = "identity_0004"
down_revision = "identity_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identity_email_verifications",
        sa.Column("id", Id(), nullable=False),
        sa.Column("user_id", Id(), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("changes_email", sa.Boolean(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_identity_email_verifications"),
        sa.UniqueConstraint("token_hash", name="uq_identity_email_verifications_token_hash"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["identity_users.id"],
            ondelete="CASCADE",
            name="fk_identity_email_verifications_user_id_identity_users",
        ),
    )
    op.create_index(
        "ix_identity_email_verifications_user_id", "identity_email_verifications", ["user_id"]
    )


def downgrade() -> None:
    op.drop_index(
        "ix_identity_email_verifications_user_id", table_name="identity_email_verifications"
    )
    op.drop_table("identity_email_verifications")
