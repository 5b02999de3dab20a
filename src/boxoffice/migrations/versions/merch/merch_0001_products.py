"""merch: products, variants (SKU, stock), images, stock audit, reservations, per-user units

Revision ID: merch_0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from boxoffice.migrations.types import Id, UTCDateTime

revision = "merch_0001"
down_revision = None
branch_labels = ("merch",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "merch_products",
        sa.Column("id", Id(), nullable=False),
        sa.Column("event_id", Id(), nullable=False),
        sa.Column("seller_id", Id(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("price", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("max_per_user", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_merch_products"),
    )
    op.create_index("ix_merch_products_event_id", "merch_products", ["event_id"])

    op.create_table(
        "merch_variants",
        sa.Column("id", Id(), nullable=False),
        sa.Column("product_id", Id(), nullable=False),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("option", sa.String(100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("stock", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_merch_variants"),
        sa.UniqueConstraint("sku", name="uq_merch_variants_sku"),
        sa.CheckConstraint("stock >= 0", name="ck_merch_variants_stock_nonnegative"),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["merch_products.id"],
            ondelete="CASCADE",
            name="fk_merch_variants_product_id_merch_products",
        ),
    )
    op.create_index("ix_merch_variants_product_id", "merch_variants", ["product_id"])

    op.create_table(
        "merch_product_images",
        sa.Column("id", Id(), nullable=False),
        sa.Column("product_id", Id(), nullable=False),
        sa.Column("url", sa.String(1000), nullable=False),
        sa.Column("thumbnail_url", sa.String(1000), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("thumbnail_key", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(32), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_merch_product_images"),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["merch_products.id"],
            ondelete="CASCADE",
            name="fk_merch_product_images_product_id_merch_products",
        ),
    )
    op.create_index("ix_merch_product_images_product_id", "merch_product_images", ["product_id"])

    op.create_table(
        "merch_stock_adjustments",
        sa.Column("id", Id(), nullable=False),
        sa.Column("product_id", Id(), nullable=False),
        sa.Column("variant_id", Id(), nullable=False),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("delta", sa.Integer(), nullable=False),
        sa.Column("stock_after", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("actor_id", Id(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_merch_stock_adjustments"),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["merch_products.id"],
            ondelete="CASCADE",
            name="fk_merch_stock_adjustments_product_id_merch_products",
        ),
        sa.ForeignKeyConstraint(
            ["variant_id"],
            ["merch_variants.id"],
            ondelete="CASCADE",
            name="fk_merch_stock_adjustments_variant_id_merch_variants",
        ),
    )
    op.create_index(
        "ix_merch_stock_adjustments_product_id", "merch_stock_adjustments", ["product_id"]
    )

    op.create_table(
        "merch_reservations",
        sa.Column("id", Id(), nullable=False),
        sa.Column("order_id", Id(), nullable=False),
        sa.Column("user_id", Id(), nullable=False),
        sa.Column("product_id", Id(), nullable=False),
        sa.Column("variant_id", Id(), nullable=False),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_merch_reservations"),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["merch_products.id"],
            name="fk_merch_reservations_product_id_merch_products",
        ),
        sa.ForeignKeyConstraint(
            ["variant_id"],
            ["merch_variants.id"],
            name="fk_merch_reservations_variant_id_merch_variants",
        ),
    )
    op.create_index("ix_merch_reservations_order_id", "merch_reservations", ["order_id"])
    op.create_index(
        "ix_merch_reservations_status_expires_at", "merch_reservations", ["status", "expires_at"]
    )

    op.create_table(
        "merch_user_product_units",
        sa.Column("user_id", Id(), nullable=False),
        sa.Column("product_id", Id(), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "product_id", name="pk_merch_user_product_units"),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["merch_products.id"],
            ondelete="CASCADE",
            name="fk_merch_user_product_units_product_id_merch_products",
        ),
    )


def downgrade() -> None:
    op.drop_table("merch_user_product_units")
    op.drop_table("merch_reservations")
    op.drop_table("merch_stock_adjustments")
    op.drop_table("merch_product_images")
    op.drop_table("merch_variants")
    op.drop_table("merch_products")
