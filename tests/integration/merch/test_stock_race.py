"""Stock is never oversold: 500 concurrent reservations for 50 units, each in its own
unit of work (as 500 concurrent orders would), on every database; then the unpaid ones
lapse and their stock comes back. Outcomes are counted in the database."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
import pytest

from boxoffice.merch import service as merch
from boxoffice.merch.errors import OutOfStock, PurchaseLimitExceeded
from boxoffice.platform.ids import new_id
from boxoffice.platform.runtime import Runtime
from tests.conftest import BACKENDS
from tests.integration.merch.conftest import Shop
from tests.support.merch import create_product, stock_of, units_in

ATTEMPTS = 500
STOCK = 50


async def attempt(runtime: Runtime, sku: str, user_id: str, refusals: list[str]) -> str | None:
    """One order's reservation; the order id when it got a unit, None when sold out."""
    order_id = new_id()
    async with runtime.uow() as uow:
        try:
            await merch.reserve_items(
                uow, runtime, order_id=order_id, user_id=user_id, items=[(sku, 1)]
            )
        except OutOfStock as refusal:
            refusals.append(refusal.extra["sku"])
            return None
        await uow.commit()
    return order_id


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
async def test_500_concurrent_reservations_take_exactly_the_stock(
    client: httpx.AsyncClient, runtime: Runtime, shop: Shop
) -> None:
    await create_product(
        client, shop.seller, shop.event_id, variants=[{"sku": "LS-RACE", "stock": STOCK}]
    )
    refusals: list[str] = []
    outcomes = await asyncio.gather(
        *(attempt(runtime, "LS-RACE", new_id(), refusals) for _ in range(ATTEMPTS))
    )
    winners = [order_id for order_id in outcomes if order_id is not None]
    assert len(winners) == STOCK
    assert refusals == ["LS-RACE"] * (ATTEMPTS - STOCK)  # 422 out_of_stock naming the SKU
    assert await units_in(runtime, "LS-RACE", "reserved") == STOCK
    assert await stock_of(runtime, "LS-RACE") == 0

    # A fifth pay; the rest lapse (orders releases them, concurrently too).
    paid, unpaid = winners[:10], winners[10:]

    async def settle(name: str, order_id: str) -> None:
        async with runtime.uow() as uow:
            await getattr(merch, name)(uow, runtime, order_id=order_id)
            await uow.commit()

    await asyncio.gather(
        *(settle("consume_items", o) for o in paid),
        *(settle("release_items", o) for o in unpaid),
        *(settle("release_items", o) for o in unpaid),  # twice: releasing is idempotent
    )
    assert await units_in(runtime, "LS-RACE", "consumed") == len(paid)
    assert await units_in(runtime, "LS-RACE", "released") == len(unpaid)
    assert await stock_of(runtime, "LS-RACE") == len(unpaid)


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
async def test_one_user_racing_from_many_devices_stays_within_the_limit(
    client: httpx.AsyncClient, runtime: Runtime, shop: Shop
) -> None:
    await create_product(
        client,
        shop.seller,
        shop.event_id,
        variants=[{"sku": "LS-LIMIT", "stock": 100}],
        max_per_user=4,
    )
    fan = new_id()

    async def one(user_id: str) -> str:
        async with runtime.uow() as uow:
            try:
                await merch.reserve_items(
                    uow, runtime, order_id=new_id(), user_id=user_id, items=[("LS-LIMIT", 1)]
                )
            except PurchaseLimitExceeded:
                return "limited"
            await uow.commit()
        return "reserved"

    outcomes = Counter(await asyncio.gather(*(one(fan) for _ in range(60))))
    assert outcomes == {"reserved": 4, "limited": 56}
    assert await units_in(runtime, "LS-LIMIT", "reserved") == 4
    assert await stock_of(runtime, "LS-LIMIT") == 96
