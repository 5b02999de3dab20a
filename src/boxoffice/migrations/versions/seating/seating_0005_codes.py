"""seating: presale codes and vouchers, their redemptions (the audit), and the hold's code

Revision ID: seating_0005
Revises: seating_0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from boxoffice.migrations.types import Id, UTCDateTime

revision = "seating_0005"
down_revision = "seating_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("seating_holds", sa.Column("code_id", Id(), nullable=True))
    op.create_table(
        "seating_codes",
        sa.Column("id", Id(), nullable=False),
        sa.Column("event_id", Id(), nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("batch_id", Id(), nullable=True),
        sa.Column("presale_opens_at", UTCDateTime(), nullable=True),
        sa.Column("ticket_type_id", Id(), nullable=True),
        sa.Column("amount_off", sa.Integer(), nullable=True),
        sa.Column("percent_off", sa.Integer(), nullable=True),
        sa.Column("max_uses", sa.Integer(), nullable=True),
        sa.Column("max_uses_per_user", sa.Integer(), nullable=True),
        sa.Column("valid_from", UTCDateTime(), nullable=True),
        sa.Column("valid_until", UTCDateTime(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("claims", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_seating_codes"),
        sa.UniqueConstraint("event_id", "code", name="uq_seating_codes_event_id_code"),
    )
    op.create_index("ix_seating_codes_batch_id", "seating_codes", ["batch_id"])
    op.create_table(
        "seating_code_redemptions",
        sa.Column("id", Id(), nullable=False),
        sa.Column("code_id", Id(), nullable=False),
        sa.Column("user_id", Id(), nullable=False),
        sa.Column("hold_id", Id(), nullable=False),
        sa.Column("order_id", Id(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("discount", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("spent_at", UTCDateTime(), nullable=True),
        sa.Column("released_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_seating_code_redemptions"),
    )
    op.create_index(
        "ix_seating_code_redemptions_code_id_user_id",
        "seating_code_redemptions",
        ["code_id", "user_id"],
    )
    op.create_index("ix_seating_code_redemptions_hold_id", "seating_code_redemptions", ["hold_id"])
    op.create_index(
        "ix_seating_code_redemptions_order_id", "seating_code_redemptions", ["order_id"]
    )


def downgrade() -> None:
    op.drop_table("seating_code_redemptions")
    op.drop_index("ix_seating_codes_batch_id", table_name="seating_codes")
    op.drop_table("seating_codes")
    op.drop_column("seating_holds", "code_id")
