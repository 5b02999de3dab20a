"""Demo goods for the embedded run: a light stick and a T-shirt in four sizes for the demo
event. Idempotent: goods whose SKUs exist are left as they are."""

from __future__ import annotations

from sqlalchemy import select

from boxoffice.merch import service
from boxoffice.merch.models import Variant
from boxoffice.merch.schemas import ProductCreate, VariantCreate
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Principal, Role

DEMO_GOODS = (
    ProductCreate(
        name="Official light stick ver.2",
        description="Bluetooth light stick that syncs with the show. One per fan.",
        price=45_000,
        variants=[VariantCreate(sku="DEMO-LS-2", option="", stock=500)],
        max_per_user=2,
    ),
    ProductCreate(
        name="Tour T-shirt",
        description="Cotton T-shirt with the tour dates on the back.",
        price=39_000,
        variants=[
            VariantCreate(sku=f"DEMO-TS-{size}", option=size, stock=stock)
            for size, stock in (("S", 80), ("M", 150), ("L", 150), ("XL", 60))
        ],
        max_per_user=4,
    ),
)


async def ensure_demo_goods(runtime: Runtime, seller_id: str, event_id: str) -> int:
    """The demo goods of ``event_id``; returns how many products were created now."""
    seller = Principal(id=seller_id, email="seller@boxoffice.local", role=Role.SELLER)
    created = 0
    for product in DEMO_GOODS:
        async with runtime.uow() as uow:
            skus = [variant.sku for variant in product.variants]
            if await uow.session.scalar(select(Variant.id).where(Variant.sku.in_(skus)).limit(1)):
                continue
            await service.create_product(uow, seller, event_id, product)
            created += 1
    return created
