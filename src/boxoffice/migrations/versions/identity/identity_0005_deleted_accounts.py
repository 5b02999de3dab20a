"""identity: when an account was deleted (its personal data erased, the row kept so
orders and tickets keep pointing at someone)

Revision ID: identity_0005
Revises: identity_0004
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from boxoffice.migrations.types import UTCDateTime

revision = "identity_0005"
down_revision = "identity_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("identity_users", sa.Column("deleted_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column("identity_users", "deleted_at")
