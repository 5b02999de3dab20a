"""merch's use cases: the only module other contexts may call.

Seller and catalogue use cases commit once each. The stock functions for orders
(``reserve_items``, ``release_items``, ``consume_items``, ``return_items``, ``return_units``) and
``suggested_products`` never commit: they run in the caller's unit of work
(see ``merch/reservations.py`` and docs/contracts.md).
"""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from boxoffice.catalog import service as catalog
from boxoffice.merch.domain import ProductStatus
from boxoffice.merch.errors import (
    EventClosed,
    EventNotFound,
    NotEventSeller,
    ProductNotFound,
    SkuTaken,
    StockConflict,
    TooManyImages,
    VariantNotFound,
)
from boxoffice.merch.models import Product, ProductImage, StockAdjustment, Variant
from boxoffice.merch.offers import (
    ProductView,
    offered_products,
    product_view,
    product_views,
    suggested_products,
)
from boxoffice.merch.reservations import (
    SWEEP_GRACE,
    consume_items,
    release_expired,
    release_items,
    reserve_items,
    return_items,
)
from boxoffice.merch.returns import return_units
from boxoffice.merch.schemas import ProductCreate, ProductUpdate, StockAdjust, VariantCreate
from boxoffice.platform import media
from boxoffice.platform.ids import new_id
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Principal, Role
from boxoffice.platform.storage import get_storage
from boxoffice.platform.uow import UnitOfWork

__all__ = [
    "MAX_IMAGES_PER_PRODUCT",
    "SWEEP_GRACE",
    "ProductView",
    "add_image",
    "add_variant",
    "adjust_stock",
    "consume_items",
    "create_product",
    "get_product",
    "list_products",
    "offered_products",
    "release_expired",
    "release_items",
    "reserve_items",
    "return_items",
    "return_units",
    "stock_adjustments",
    "suggested_products",
    "update_product",
]


MAX_IMAGES_PER_PRODUCT = 10


def _manages(principal: Principal | None, seller_id: str) -> bool:
    return principal is not None and (
        principal.role is Role.ADMIN
        or (principal.role is Role.SELLER and principal.id == seller_id)
    )


async def create_product(
    uow: UnitOfWork, principal: Principal, event_id: str, request: ProductCreate
) -> ProductView:
    """Add a product with its variants to an event of the caller (or any event, for admins).

    The initial stock of each variant is audited as an adjustment. Raises
    ``EventNotFound``, ``NotEventSeller`` (403), ``EventClosed`` (409, cancelled event),
    ``SkuTaken`` (409 naming the ``sku``).
    """
    event = await catalog.event_summary(uow, event_id)
    if event is None:
        raise EventNotFound("No such event.")
    if not _manages(principal, event.seller_id):
        raise NotEventSeller("Only the event's seller may add goods to it.")
    if event.status == "cancelled":
        raise EventClosed("The event is cancelled; no goods can be added.")
    await _refuse_taken_skus(uow, [v.sku for v in request.variants])
    now = uow.clock.now()
    product = Product(
        **request.model_dump(exclude={"variants"}),
        id=new_id(),
        event_id=event_id,
        seller_id=event.seller_id,
        currency=event.currency,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(product)
    await uow.session.flush()  # the variants' foreign key needs the product row first
    await _add_variants(uow, principal, product, request.variants, 0)
    await uow.commit()
    return await product_view(uow, product, owner_view=True)


async def add_variant(
    uow: UnitOfWork, principal: Principal, product_id: str, request: VariantCreate
) -> ProductView:
    """Add a variant (a new size, say) to the caller's product. Raises as ``create_product``."""
    product = await _managed_product(uow, principal, product_id)
    await _refuse_taken_skus(uow, [request.sku])
    count = await uow.session.scalar(
        select(Variant.position)
        .where(Variant.product_id == product.id)
        .order_by(Variant.position.desc())
        .limit(1)
    )
    await _add_variants(uow, principal, product, [request], (count or 0) + 1)
    product.updated_at = uow.clock.now()
    await uow.commit()
    return await product_view(uow, product, owner_view=True)


async def list_products(
    uow: UnitOfWork, viewer: Principal | None, event_id: str
) -> list[ProductView]:
    """An event's goods: hidden ones (and a draft event's) only for its seller and admins."""
    event = await catalog.event_summary(uow, event_id)
    if event is None:
        raise EventNotFound("No such event.")
    owner = _manages(viewer, event.seller_id)
    if not owner and event.status == "draft":
        raise EventNotFound("No such event.")
    query = select(Product).where(Product.event_id == event_id)
    if not owner:
        query = query.where(Product.status != ProductStatus.HIDDEN.value)
    products = list(
        (await uow.session.scalars(query.order_by(Product.created_at, Product.id))).all()
    )
    return await product_views(uow, products, owner_view=owner)


async def get_product(uow: UnitOfWork, viewer: Principal | None, product_id: str) -> ProductView:
    """One product; a hidden one (or one of a draft event) is not found for others."""
    product = await uow.session.get(Product, product_id)
    if product is None:
        raise ProductNotFound("No such product.")
    owner = _manages(viewer, product.seller_id)
    if not owner:
        event = await catalog.event_summary(uow, product.event_id)
        if product.status == ProductStatus.HIDDEN or event is None or event.status == "draft":
            raise ProductNotFound("No such product.")
    return await product_view(uow, product, owner_view=owner)


async def update_product(
    uow: UnitOfWork, principal: Principal, product_id: str, request: ProductUpdate
) -> ProductView:
    """Change name, description, price, status or per-user limit of the caller's product.

    Pending orders keep the price they were created with.
    """
    product = await _managed_product(uow, principal, product_id)
    for name in ("name", "description", "price", "status", "max_per_user"):
        if name in request.model_fields_set:
            setattr(product, name, getattr(request, name))
    product.updated_at = uow.clock.now()
    await uow.commit()
    return await product_view(uow, product, owner_view=True)


async def adjust_stock(
    uow: UnitOfWork, principal: Principal, product_id: str, sku: str, request: StockAdjust
) -> StockAdjustment:
    """Add or remove units of a variant, audited (who, when, how much, why).

    A conditional UPDATE, so it composes with concurrent orders: removing more units than
    are free raises ``StockConflict`` (409) and changes nothing.
    """
    product = await _managed_product(uow, principal, product_id)
    variant = await uow.session.scalar(
        select(Variant).where(Variant.product_id == product.id, Variant.sku == sku)
    )
    if variant is None:
        raise VariantNotFound(f"This product has no variant {sku}.")
    result = await uow.session.execute(
        update(Variant)
        .where(Variant.id == variant.id, Variant.stock + request.delta >= 0)
        .values(stock=Variant.stock + request.delta)
        .execution_options(synchronize_session=False)
    )
    current = await uow.session.scalar(select(Variant.stock).where(Variant.id == variant.id))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise StockConflict(
            f"Only {current} units of {sku} are free; cannot remove {-request.delta}.",
            sku=sku,
            stock=current,
        )
    adjustment = StockAdjustment(
        id=new_id(),
        product_id=product.id,
        variant_id=variant.id,
        sku=variant.sku,
        delta=request.delta,
        stock_after=int(current or 0),
        reason=request.reason,
        actor_id=principal.id,
        created_at=uow.clock.now(),
    )
    uow.session.add(adjustment)
    await uow.commit()
    return adjustment


async def stock_adjustments(
    uow: UnitOfWork, principal: Principal, product_id: str
) -> list[StockAdjustment]:
    """The audit trail of a product's stock, newest first (its seller and admins)."""
    product = await _managed_product(uow, principal, product_id)
    rows = await uow.session.scalars(
        select(StockAdjustment)
        .where(StockAdjustment.product_id == product.id)
        .order_by(StockAdjustment.created_at.desc(), StockAdjustment.id.desc())
    )
    return list(rows.all())


async def add_image(
    uow: UnitOfWork, runtime: Runtime, principal: Principal, product_id: str, data: bytes
) -> ProductImage:
    """Check an image's content, store it and a thumbnail, attach them to the product.

    Raises ``ImageTooLarge`` (413), ``UnsupportedImage`` (415), ``InvalidImage`` (422),
    ``TooManyImages`` (409), and the ownership errors of the other seller use cases.
    """
    product = await _managed_product(uow, principal, product_id)
    media.refuse_oversized(data, runtime.settings.max_upload_bytes)
    count = int(
        await uow.session.scalar(
            select(func.count())
            .select_from(ProductImage)
            .where(ProductImage.product_id == product.id)
        )
        or 0
    )
    if count >= MAX_IMAGES_PER_PRODUCT:
        raise TooManyImages(f"A product has at most {MAX_IMAGES_PER_PRODUCT} images.")
    storage = get_storage(runtime)
    stored = await media.store_image(
        runtime,
        storage,
        f"products/{product.id}",
        data,
        max_pixels=runtime.settings.catalog.max_image_pixels,
    )
    image = ProductImage(
        id=stored.id,
        product_id=product.id,
        url=storage.url(stored.key),
        thumbnail_url=storage.url(stored.thumbnail_key),
        position=count,
        created_at=uow.clock.now(),
        **stored.columns(),
    )
    uow.session.add(image)
    product.updated_at = uow.clock.now()
    try:
        await uow.commit()
    except Exception:
        # Nothing refers to the files: remove them rather than leave orphans behind.
        await storage.delete(stored.key)
        await storage.delete(stored.thumbnail_key)
        raise
    return image


# --- internals -------------------------------------------------------------------------


async def _managed_product(uow: UnitOfWork, principal: Principal, product_id: str) -> Product:
    product = await uow.session.get(Product, product_id)
    if product is None:
        raise ProductNotFound("No such product.")
    if not _manages(principal, product.seller_id):
        raise NotEventSeller("Only the event's seller may change its goods.")
    return product


async def _add_variants(
    uow: UnitOfWork,
    principal: Principal,
    product: Product,
    specs: list[VariantCreate],
    first_position: int,
) -> None:
    """Insert variants with their initial stock audited; ``SkuTaken`` if one is in use."""
    now = uow.clock.now()
    variants = [
        Variant(
            id=new_id(),
            product_id=product.id,
            sku=spec.sku,
            option=spec.option,
            position=first_position + offset,
            stock=spec.stock,
            created_at=now,
        )
        for offset, spec in enumerate(specs)
    ]
    uow.session.add_all(variants)
    try:
        await uow.session.flush()  # the audit rows' foreign key needs the variants first
    except IntegrityError as exc:  # a concurrent request took one of the SKUs first
        raise SkuTaken("One of the SKUs is already in use.", sku=specs[0].sku) from exc
    uow.session.add_all(
        StockAdjustment(
            id=new_id(),
            product_id=product.id,
            variant_id=variant.id,
            sku=variant.sku,
            delta=variant.stock,
            stock_after=variant.stock,
            reason="initial stock",
            actor_id=principal.id,
            created_at=now,
        )
        for variant in variants
        if variant.stock
    )


async def _refuse_taken_skus(uow: UnitOfWork, skus: list[str]) -> None:
    taken = await uow.session.scalar(select(Variant.sku).where(Variant.sku.in_(skus)).limit(1))
    if taken is not None:
        raise SkuTaken(f"The SKU {taken} is already in use.", sku=taken)
