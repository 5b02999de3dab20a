"""catalog: categories (seeded), venues and seat maps, events, grades, shows, images, view flushes

Revision ID: catalog_0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from boxoffice.migrations.types import Id, UTCDateTime

revision = "catalog_0001"
down_revision = None
branch_labels = ("catalog",)
depends_on = None

CATEGORIES = [
    ("concert", "Concert", 10),
    ("musical", "Musical", 20),
    ("theatre", "Theatre", 30),
    ("classical", "Classical", 40),
    ("sports", "Sports", 50),
    ("exhibition", "Exhibition", 60),
    ("family", "Family", 70),
    ("festival", "Festival", 80),
]


def upgrade() -> None:
    categories = op.create_table(
        "catalog_categories",
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code", name="pk_catalog_categories"),
    )
    op.bulk_insert(
        categories,
        [{"code": c, "name": n, "position": p, "active": True} for c, n, p in CATEGORIES],
    )
    op.create_table(
        "catalog_venues",
        sa.Column("id", Id(), nullable=False),
        sa.Column("seller_id", Id(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("address", sa.String(300), nullable=False),
        sa.Column("seat_count", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_catalog_venues"),
    )
    op.create_table(
        "catalog_venue_sections",
        sa.Column("id", Id(), nullable=False),
        sa.Column("venue_id", Id(), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("grade", sa.String(32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_catalog_venue_sections"),
        sa.UniqueConstraint("venue_id", "name", name="uq_catalog_venue_sections_venue_id_name"),
        sa.ForeignKeyConstraint(
            ["venue_id"],
            ["catalog_venues.id"],
            ondelete="CASCADE",
            name="fk_catalog_venue_sections_venue_id_catalog_venues",
        ),
    )
    op.create_table(
        "catalog_venue_seats",
        sa.Column("id", Id(), nullable=False),
        sa.Column("venue_id", Id(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("section", sa.String(64), nullable=False),
        sa.Column("row", sa.String(16), nullable=False),
        sa.Column("number", sa.String(16), nullable=False),
        sa.Column("grade", sa.String(32), nullable=False),
        sa.Column("x", sa.Float(), nullable=True),
        sa.Column("y", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_catalog_venue_seats"),
        sa.UniqueConstraint(
            "venue_id",
            "section",
            "row",
            "number",
            name="uq_catalog_venue_seats_venue_id_section_row_number",
        ),
        sa.ForeignKeyConstraint(
            ["venue_id"],
            ["catalog_venues.id"],
            ondelete="CASCADE",
            name="fk_catalog_venue_seats_venue_id_catalog_venues",
        ),
    )
    op.create_index(
        "ix_catalog_venue_seats_venue_id_position", "catalog_venue_seats", ["venue_id", "position"]
    )
    op.create_table(
        "catalog_events",
        sa.Column("id", Id(), nullable=False),
        sa.Column("seller_id", Id(), nullable=False),
        sa.Column("venue_id", Id(), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("sale_opens_at", UTCDateTime(), nullable=False),
        sa.Column("sale_closes_at", UTCDateTime(), nullable=False),
        sa.Column("max_tickets_per_user", sa.Integer(), nullable=False),
        sa.Column("hold_minutes", sa.Integer(), nullable=False),
        sa.Column("queue_enabled", sa.Boolean(), nullable=False),
        sa.Column("queue_admit_per_second", sa.Float(), nullable=False),
        sa.Column("queue_max_active", sa.Integer(), nullable=False),
        sa.Column("queue_pre_queue_minutes", sa.Integer(), nullable=False),
        sa.Column("cancellation_policy", sa.Text(), nullable=False),
        sa.Column("first_starts_at", UTCDateTime(), nullable=True),
        sa.Column("last_starts_at", UTCDateTime(), nullable=True),
        sa.Column("view_count", sa.BigInteger(), nullable=False),
        sa.Column("cancel_reason", sa.String(500), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("published_at", UTCDateTime(), nullable=True),
        sa.Column("cancelled_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_catalog_events"),
        sa.ForeignKeyConstraint(
            ["venue_id"], ["catalog_venues.id"], name="fk_catalog_events_venue_id_catalog_venues"
        ),
        sa.ForeignKeyConstraint(
            ["category"],
            ["catalog_categories.code"],
            name="fk_catalog_events_category_catalog_categories",
        ),
    )
    op.create_index(
        "ix_catalog_events_status_first_starts_at_id",
        "catalog_events",
        ["status", "first_starts_at", "id"],
    )
    op.create_index("ix_catalog_events_seller_id", "catalog_events", ["seller_id"])
    op.create_table(
        "catalog_event_grades",
        sa.Column("id", Id(), nullable=False),
        sa.Column("event_id", Id(), nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_catalog_event_grades"),
        sa.UniqueConstraint("event_id", "code", name="uq_catalog_event_grades_event_id_code"),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["catalog_events.id"],
            ondelete="CASCADE",
            name="fk_catalog_event_grades_event_id_catalog_events",
        ),
    )
    op.create_table(
        "catalog_shows",
        sa.Column("id", Id(), nullable=False),
        sa.Column("event_id", Id(), nullable=False),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("seat_count", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_catalog_shows"),
        sa.UniqueConstraint("event_id", "starts_at", name="uq_catalog_shows_event_id_starts_at"),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["catalog_events.id"],
            ondelete="CASCADE",
            name="fk_catalog_shows_event_id_catalog_events",
        ),
    )
    op.create_table(
        "catalog_event_images",
        sa.Column("id", Id(), nullable=False),
        sa.Column("event_id", Id(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("thumbnail_key", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(32), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_catalog_event_images"),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["catalog_events.id"],
            ondelete="CASCADE",
            name="fk_catalog_event_images_event_id_catalog_events",
        ),
    )
    op.create_index(
        "ix_catalog_event_images_event_id_kind", "catalog_event_images", ["event_id", "kind"]
    )
    op.create_table(
        "catalog_view_flushes",
        sa.Column("batch_id", sa.String(64), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("views", sa.BigInteger(), nullable=False),
        sa.Column("flushed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("batch_id", name="pk_catalog_view_flushes"),
    )


def downgrade() -> None:
    for table in (
        "catalog_view_flushes",
        "catalog_event_images",
        "catalog_shows",
        "catalog_event_grades",
        "catalog_events",
        "catalog_venue_seats",
        "catalog_venue_sections",
        "catalog_venues",
        "catalog_categories",
    ):
        op.drop_table(table)
