"""The demo data includes goods for the demo event, once, however often it is seeded."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select

from boxoffice import demo
from boxoffice.merch.models import Product, Variant
from boxoffice.platform.runtime import Runtime
from tests.support.api import API


async def test_demo_seeds_a_light_stick_and_a_t_shirt_in_sizes_once(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await demo.seed(runtime)
    await demo.seed(runtime)
    async with runtime.uow() as uow:
        event_ids = set((await uow.session.scalars(select(Product.event_id))).all())
        count = await uow.session.scalar(select(func.count()).select_from(Product))
        sizes = list(
            (
                await uow.session.scalars(
                    select(Variant.option)
                    .where(Variant.sku.like("DEMO-TS-%"))
                    .order_by(Variant.position)
                )
            ).all()
        )
    assert count == 2
    assert sizes == ["S", "M", "L", "XL"]
    (event_id,) = event_ids
    listed = (await client.get(f"{API}/events/{event_id}/products")).json()["items"]
    assert [p["name"] for p in listed] == ["Official light stick ver.2", "Tour T-shirt"]
    assert all(p["status"] == "on_sale" for p in listed)
