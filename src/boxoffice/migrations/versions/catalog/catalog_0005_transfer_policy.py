"""catalog: an event's ticket-transfer policy, and whether buyers need a verified e-mail

Holders may give a ticket to another account (tickets' transfers); the event's seller
allows it or not, and closes it so many hours before each show. Existing events allow
transfers until the show starts. The seller may also require a verified e-mail to place
an order (identity's e-mail verification); existing events do not. A show moved to
another time lets its buyers cancel without a fee until ``free_refund_until``.

Revision ID: catalog_0005
Revises: catalog_0004
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from boxoffice.migrations.types import UTCDateTime

revision = "catalog_0005"
down_revision = "catalog_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "catalog_events",
        sa.Column("transfers_allowed", sa.Boolean(), nullable=False, server_default=sa.true()),
    )
    op.add_column(
        "catalog_events",
        sa.Column("transfer_cutoff_hours", sa.Integer(), nullable=False, server_default="0"),
    )
    op.add_column(
        "catalog_events",
        sa.Column(
            "requires_verified_email", sa.Boolean(), nullable=False, server_default=sa.false()
        ),
    )

    op.add_column("catalog_shows", sa.Column("free_refund_until", UTCDateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column("catalog_shows", "free_refund_until")
    op.drop_column("catalog_events", "requires_verified_email")
    op.drop_column("catalog_events", "transfer_cutoff_hours")
    op.drop_column("catalog_events", "transfers_allowed")
