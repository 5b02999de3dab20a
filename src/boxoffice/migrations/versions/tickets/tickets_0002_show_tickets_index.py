"""tickets: an index on (show_id, id) for a show's attendees in issue order

The console lists a show's attendees and exports them to CSV in keyset pages
(``WHERE show_id = ? AND id > ? ORDER BY id``).

Revision ID: tickets_0002
Revises: tickets_0001
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "tickets_0002"
down_revision = "tickets_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_tickets_tickets_show_id_id", "tickets_tickets", ["show_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_tickets_tickets_show_id_id", table_name="tickets_tickets")
