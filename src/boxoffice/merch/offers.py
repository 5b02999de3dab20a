"""What merch shows: products with their variants and images (``ProductView``), and the goods
offered next to an event's tickets in hold and order responses, cached a few seconds."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import select

from boxoffice.merch import domain
from boxoffice.merch.contracts import ProductSuggestion, SuggestedVariant
from boxoffice.merch.domain import ProductStatus
from boxoffice.merch.models import Product, ProductImage, Variant
from boxoffice.platform.cache import MemoryCache, cached
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.uow import UnitOfWork


class OfferCache(MemoryCache):
    """The goods offered next to holds and orders, per event, in this process."""


@dataclass(frozen=True)
class ProductView:
    """A product with its variants and images, and whether the viewer may see stock counts."""

    product: Product
    variants: list[Variant]
    images: list[ProductImage]
    owner_view: bool

    @property
    def shown_status(self) -> ProductStatus:
        return domain.shown_status(self.product.status, (v.stock for v in self.variants))


OFFER_SECONDS = 10.0  # how stale a suggestion may be; holds are the hot path of a sale


log = structlog.get_logger("boxoffice.merch")


async def offered_products(
    runtime: Runtime, *, event_id: str | None, limit: int = 3
) -> list[dict[str, Any]]:
    """:func:`suggested_products` as the JSON that hold and order responses carry (bundles).

    Cached in the process for a few seconds, so thousands of holds a second cost no query;
    a suggestion is an offer, not a promise of stock (the order checks that). Never raises:
    goods are an extra, and a failure to list them must not fail a hold or an order.
    """
    if event_id is None:
        return []
    cache = runtime.adapters.ensure(OfferCache, lambda: OfferCache(max_entries=4096))

    async def listed() -> str:
        async with runtime.uow(read_only=True) as uow:
            products = await suggested_products(uow, event_id=event_id, limit=limit)
        return json.dumps([product.to_dict() for product in products])

    try:
        raw = await cached(cache, f"merch:offers:{event_id}:{limit}", (), listed, ttl=OFFER_SECONDS)
    except Exception:
        log.warning("offered_products_failed", event_id=event_id, exc_info=True)
        return []
    offers: list[dict[str, Any]] = json.loads(raw or "[]")
    return offers


async def suggested_products(
    uow: UnitOfWork, *, event_id: str, limit: int = 3
) -> list[ProductSuggestion]:
    """Goods to offer next to an event's tickets: on sale, at least one variant in stock.

    Read-only, does not commit; oldest listed first (the seller's headline goods).
    """
    in_stock = select(Variant.product_id).where(Variant.stock > 0)
    products = list(
        (
            await uow.session.scalars(
                select(Product)
                .where(
                    Product.event_id == event_id,
                    Product.status == ProductStatus.ON_SALE.value,
                    Product.id.in_(in_stock),
                )
                .order_by(Product.created_at, Product.id)
                .limit(max(0, limit))
            )
        ).all()
    )
    views = await product_views(uow, products, owner_view=False)
    return [
        ProductSuggestion(
            product_id=view.product.id,
            event_id=view.product.event_id,
            name=view.product.name,
            price=view.product.price,
            currency=view.product.currency,
            image_url=view.images[0].url if view.images else None,
            variants=tuple(SuggestedVariant(v.sku, v.option, v.stock > 0) for v in view.variants),
        )
        for view in views
    ]


async def product_view(uow: UnitOfWork, product: Product, *, owner_view: bool) -> ProductView:
    return (await product_views(uow, [product], owner_view=owner_view))[0]


async def product_views(
    uow: UnitOfWork, products: list[Product], *, owner_view: bool
) -> list[ProductView]:
    ids = [p.id for p in products]
    variants: dict[str, list[Variant]] = defaultdict(list)
    images: dict[str, list[ProductImage]] = defaultdict(list)
    if ids:
        for variant in await uow.session.scalars(
            select(Variant)
            .where(Variant.product_id.in_(ids))
            .order_by(Variant.position, Variant.sku)
            .execution_options(populate_existing=True)
        ):
            variants[variant.product_id].append(variant)
        for image in await uow.session.scalars(
            select(ProductImage)
            .where(ProductImage.product_id.in_(ids))
            .order_by(ProductImage.position, ProductImage.id)
        ):
            images[image.product_id].append(image)
    return [ProductView(p, variants[p.id], images[p.id], owner_view) for p in products]
