"""identity: users, refresh tokens, social accounts, seller profiles

Revision ID: identity_0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from boxoffice.migrations.types import Id, UTCDateTime

revision = "identity_0001"
down_revision = None
branch_labels = ("identity",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identity_users",
        sa.Column("id", Id(), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("phone", sa.String(32), nullable=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("locale", sa.String(8), nullable=False),
        sa.Column("email_verified", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_identity_users"),
        sa.UniqueConstraint("email", name="uq_identity_users_email"),
    )
    op.create_table(
        "identity_refresh_tokens",
        sa.Column("id", Id(), nullable=False),
        sa.Column("user_id", Id(), nullable=False),
        sa.Column("family_id", Id(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("issued_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("spent_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_identity_refresh_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_identity_refresh_tokens_token_hash"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["identity_users.id"],
            ondelete="CASCADE",
            name="fk_identity_refresh_tokens_user_id_identity_users",
        ),
    )
    op.create_index("ix_identity_refresh_tokens_family", "identity_refresh_tokens", ["family_id"])
    op.create_table(
        "identity_social_accounts",
        sa.Column("id", Id(), nullable=False),
        sa.Column("user_id", Id(), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_identity_social_accounts"),
        sa.UniqueConstraint(
            "provider", "subject", name="uq_identity_social_accounts_provider_subject"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["identity_users.id"],
            ondelete="CASCADE",
            name="fk_identity_social_accounts_user_id_identity_users",
        ),
    )
    op.create_table(
        "identity_seller_profiles",
        sa.Column("user_id", Id(), nullable=False),
        sa.Column("business_name", sa.String(200), nullable=False),
        sa.Column("business_number", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("user_id", name="pk_identity_seller_profiles"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["identity_users.id"],
            ondelete="CASCADE",
            name="fk_identity_seller_profiles_user_id_identity_users",
        ),
    )


def downgrade() -> None:
    op.drop_table("identity_seller_profiles")
    op.drop_table("identity_social_accounts")
    op.drop_table("identity_refresh_tokens")
    op.drop_table("identity_users")
