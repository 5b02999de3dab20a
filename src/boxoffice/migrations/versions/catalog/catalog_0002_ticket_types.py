"""catalog: ticket types (several prices per grade, each with a window, a cap and a note)

Revision ID: catalog_0002
Revises: catalog_0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from boxoffice.migrations.types import Id, UTCDateTime

revision = "catalog_0002"
down_revision = "catalog_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "catalog_ticket_types",
        sa.Column("id", Id(), nullable=False),
        sa.Column("event_id", Id(), nullable=False),
        sa.Column("grade", sa.String(32), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("available_from", UTCDateTime(), nullable=True),
        sa.Column("available_until", UTCDateTime(), nullable=True),
        sa.Column("quantity_cap", sa.Integer(), nullable=True),
        sa.Column("eligibility_note", sa.String(300), nullable=True),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_catalog_ticket_types"),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["catalog_events.id"],
            ondelete="CASCADE",
            name="fk_catalog_ticket_types_event_id_catalog_events",
        ),
    )
    op.create_index("ix_catalog_ticket_types_event_id", "catalog_ticket_types", ["event_id"])


def downgrade() -> None:
    op.drop_index("ix_catalog_ticket_types_event_id", table_name="catalog_ticket_types")
    op.drop_table("catalog_ticket_types")
