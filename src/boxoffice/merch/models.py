"""merch's tables (prefix ``merch_``)."""

from __future__ import annotations

from typing import Annotated

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from boxoffice.platform.db import Base, Id, IdColumn, IdKey, UTCTime, owned_by
from boxoffice.platform.media import StoredImageColumns

# A row that belongs to one product and is deleted with it.
OwnedByProduct = Annotated[str, owned_by("merch_products.id")]


class Product(Base):
    """Goods sold for one event by that event's seller."""

    __tablename__ = "merch_products"
    __table_args__ = (Index("ix_merch_products_event_id", "event_id"),)

    id: Mapped[IdKey]
    event_id: Mapped[IdColumn]  # catalog's event (no cross-context FK)
    seller_id: Mapped[IdColumn]
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text())
    price: Mapped[int] = mapped_column(Integer())  # minor units of ``currency``
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16))
    max_per_user: Mapped[int | None] = mapped_column(Integer())
    created_at: Mapped[UTCTime]
    updated_at: Mapped[UTCTime]


class Variant(Base):
    """One SKU of a product (a size, a colour) with its own stock.

    ``stock`` counts the units still free to reserve; the check constraint is the last
    guard behind the conditional decrement.
    """

    __tablename__ = "merch_variants"
    __table_args__ = (
        CheckConstraint("stock >= 0", name="stock_nonnegative"),
        Index("ix_merch_variants_product_id", "product_id"),
    )

    id: Mapped[IdKey]
    product_id: Mapped[OwnedByProduct]
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    option: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer())
    stock: Mapped[int] = mapped_column(Integer())
    created_at: Mapped[UTCTime]


class ProductImage(StoredImageColumns, Base):
    __tablename__ = "merch_product_images"
    __table_args__ = (Index("ix_merch_product_images_product_id", "product_id"),)

    id: Mapped[IdKey]
    product_id: Mapped[OwnedByProduct]
    # URLs are kept as written (read paths such as bundles have no storage adapter at hand);
    # keys (of the mixin's columns) are what the storage port deletes by.
    url: Mapped[str] = mapped_column(String(1000))
    thumbnail_url: Mapped[str] = mapped_column(String(1000))
    position: Mapped[int] = mapped_column(Integer())
    created_at: Mapped[UTCTime]


class StockAdjustment(Base):
    """Audit of every manual stock change: who, when, how much, why."""

    __tablename__ = "merch_stock_adjustments"
    __table_args__ = (Index("ix_merch_stock_adjustments_product_id", "product_id"),)

    id: Mapped[IdKey]
    product_id: Mapped[OwnedByProduct]
    variant_id: Mapped[str] = owned_by("merch_variants.id")
    sku: Mapped[str] = mapped_column(String(64))
    delta: Mapped[int] = mapped_column(Integer())
    stock_after: Mapped[int] = mapped_column(Integer())
    reason: Mapped[str] = mapped_column(String(200))
    actor_id: Mapped[IdColumn]
    created_at: Mapped[UTCTime]


class Reservation(Base):
    """Units of one SKU taken for one order: reserved → consumed → returned, or released."""

    __tablename__ = "merch_reservations"
    __table_args__ = (
        Index("ix_merch_reservations_order_id", "order_id"),
        Index("ix_merch_reservations_status_expires_at", "status", "expires_at"),
    )

    id: Mapped[IdKey]
    order_id: Mapped[IdColumn]  # orders' order (no cross-context FK)
    user_id: Mapped[IdColumn]
    product_id: Mapped[str] = mapped_column(Id(), ForeignKey("merch_products.id"))
    variant_id: Mapped[str] = mapped_column(Id(), ForeignKey("merch_variants.id"))
    sku: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int] = mapped_column(Integer())
    unit_price: Mapped[int] = mapped_column(Integer())
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16))
    expires_at: Mapped[UTCTime]
    created_at: Mapped[UTCTime]
    updated_at: Mapped[UTCTime]


class UserProductUnits(Base):
    """Units of a product a user has reserved or bought (the per-user limit's counter).

    One row per (user, product), changed only by conditional UPDATEs: the row lock makes
    two concurrent orders of one user count against each other.
    """

    __tablename__ = "merch_user_product_units"

    user_id: Mapped[IdKey]
    product_id: Mapped[OwnedByProduct] = mapped_column(primary_key=True)
    units: Mapped[int] = mapped_column(Integer())
