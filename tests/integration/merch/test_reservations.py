"""merch's stock functions for orders, each in its own unit of work as orders calls them.

Counts come from the database: units per reservation status and the variant's stock.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from boxoffice.merch import service as merch
from boxoffice.merch.contracts import ReservedItem
from boxoffice.platform.clock import FrozenClock
from boxoffice.platform.errors import DomainError
from boxoffice.platform.ids import new_id
from boxoffice.platform.runtime import Runtime
from tests.conftest import BACKENDS
from tests.integration.merch.conftest import Shop
from tests.support.api import API
from tests.support.merch import create_product, stock_of, units_in


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()  # starts at the real time: access tokens are checked against it


async def reserve(
    runtime: Runtime, items: list[tuple[str, int]], *, user_id: str | None = None, **kw: Any
) -> tuple[str, list[ReservedItem]]:
    order_id = new_id()
    async with runtime.uow() as uow:
        reserved = await merch.reserve_items(
            uow, runtime, order_id=order_id, user_id=user_id or new_id(), items=items, **kw
        )
        await uow.commit()
    return order_id, reserved


async def on_order(runtime: Runtime, name: str, order_id: str) -> list[ReservedItem]:
    async with runtime.uow() as uow:
        items: list[ReservedItem] = await getattr(merch, name)(uow, runtime, order_id=order_id)
        await uow.commit()
    return items


async def refused(runtime: Runtime, items: list[tuple[str, int]], **kw: Any) -> DomainError:
    with pytest.raises(DomainError) as caught:
        await reserve(runtime, items, **kw)
    return caught.value


async def tshirt(client: httpx.AsyncClient, shop: Shop, **fields: Any) -> dict[str, Any]:
    return await create_product(
        client,
        shop.seller,
        shop.event_id,
        name="Tour T-shirt",
        price=45000,
        variants=[
            {"sku": "TS-M", "option": "M", "stock": 3},
            {"sku": "TS-L", "option": "L", "stock": 1},
        ],
        **fields,
    )


@pytest.mark.parametrize("backend", BACKENDS)
async def test_reserve_consume_return(
    client: httpx.AsyncClient, runtime: Runtime, shop: Shop
) -> None:
    await tshirt(client, shop)
    order_id, items = await reserve(runtime, [("TS-M", 2), ("TS-L", 1)])
    assert [(i.sku, i.option, i.quantity, i.unit_price, i.amount, i.status) for i in items] == [
        ("TS-L", "L", 1, 45000, 45000, "reserved"),
        ("TS-M", "M", 2, 45000, 90000, "reserved"),
    ]
    assert {i.currency for i in items} == {"KRW"}
    assert await stock_of(runtime, "TS-M") == 1
    assert await stock_of(runtime, "TS-L") == 0

    paid = await on_order(runtime, "consume_items", order_id)
    assert {i.status for i in paid} == {"consumed"}
    assert await on_order(runtime, "consume_items", order_id) == paid  # idempotent
    assert await on_order(runtime, "release_items", order_id) == paid  # paid lines stay sold
    assert await stock_of(runtime, "TS-M") == 1

    returned = await on_order(runtime, "return_items", order_id)
    assert {i.status for i in returned} == {"returned"}
    await on_order(runtime, "return_items", order_id)  # idempotent: stock back once
    assert await stock_of(runtime, "TS-M") == 3
    assert await stock_of(runtime, "TS-L") == 1
    with pytest.raises(DomainError) as caught:
        await on_order(runtime, "consume_items", order_id)
    assert (caught.value.status, caught.value.code) == (409, "conflict")


@pytest.mark.parametrize("backend", BACKENDS)
async def test_out_of_stock_names_the_sku_and_takes_nothing(
    client: httpx.AsyncClient, runtime: Runtime, shop: Shop
) -> None:
    await tshirt(client, shop)
    error = await refused(runtime, [("TS-M", 1), ("TS-L", 2)])
    assert (error.status, error.code, error.extra["sku"], error.extra["available"]) == (
        422,
        "out_of_stock",
        "TS-L",
        1,
    )
    # All or nothing: the M taken before the L failed went back with the rollback.
    assert await stock_of(runtime, "TS-M") == 3
    assert await units_in(runtime, "TS-M", "reserved") == 0


@pytest.mark.parametrize("backend", BACKENDS)
async def test_release_gives_stock_back_once(
    client: httpx.AsyncClient, runtime: Runtime, shop: Shop
) -> None:
    await tshirt(client, shop)
    order_id, _ = await reserve(runtime, [("TS-M", 3)])
    assert (await refused(runtime, [("TS-M", 1)])).code == "out_of_stock"
    released = await on_order(runtime, "release_items", order_id)
    assert [i.status for i in released] == ["released"]
    await on_order(runtime, "release_items", order_id)
    await on_order(runtime, "return_items", order_id)
    assert await stock_of(runtime, "TS-M") == 3
    assert await on_order(runtime, "release_items", new_id()) == []  # unknown order: nothing


async def test_a_late_payment_revives_released_goods_while_stock_lasts(
    client: httpx.AsyncClient, runtime: Runtime, shop: Shop
) -> None:
    await tshirt(client, shop)
    lapsed, _ = await reserve(runtime, [("TS-M", 2)])
    await on_order(runtime, "release_items", lapsed)
    revived = await on_order(runtime, "consume_items", lapsed)
    assert [(i.status, i.quantity) for i in revived] == [("consumed", 2)]
    assert await stock_of(runtime, "TS-M") == 1

    too_late, _ = await reserve(runtime, [("TS-L", 1)])
    await on_order(runtime, "release_items", too_late)
    await reserve(runtime, [("TS-L", 1)])  # someone else took the last L
    with pytest.raises(DomainError) as caught:
        await on_order(runtime, "consume_items", too_late)
    assert (caught.value.code, caught.value.extra["sku"]) == ("out_of_stock", "TS-L")


@pytest.mark.parametrize("backend", BACKENDS)
async def test_per_user_limit_counts_reserved_and_bought_units(
    client: httpx.AsyncClient, runtime: Runtime, shop: Shop
) -> None:
    await tshirt(client, shop, max_per_user=2)
    fan = new_id()
    first, _ = await reserve(runtime, [("TS-M", 1)], user_id=fan)
    await on_order(runtime, "consume_items", first)
    error = await refused(runtime, [("TS-M", 1), ("TS-L", 1)], user_id=fan)
    assert (error.status, error.code, error.extra["limit"], error.extra["already"]) == (
        422,
        "purchase_limit_exceeded",
        2,
        1,
    )
    second, _ = await reserve(runtime, [("TS-L", 1)], user_id=fan)
    assert (await refused(runtime, [("TS-M", 1)], user_id=fan)).code == "purchase_limit_exceeded"
    await on_order(runtime, "release_items", second)  # an expired order frees the allowance
    await reserve(runtime, [("TS-M", 1)], user_id=fan)
    await reserve(runtime, [("TS-M", 1)])  # other fans are not affected


@pytest.mark.parametrize("backend", BACKENDS)
async def test_goods_not_on_sale_cannot_be_reserved(
    client: httpx.AsyncClient, runtime: Runtime, shop: Shop
) -> None:
    product = await tshirt(client, shop, status="hidden")
    assert (await refused(runtime, [("TS-M", 1)])).code == "sale_not_open"
    patch = {"status": "sold_out"}
    url = f"{API}/products/{product['id']}"
    assert (await client.patch(url, json=patch, headers=shop.seller.headers)).status_code == 200
    error = await refused(runtime, [("TS-M", 1)])
    assert (error.code, error.extra["sku"]) == ("out_of_stock", "TS-M")
    unknown = await refused(runtime, [("NOPE-1", 1)])
    assert (unknown.status, unknown.code, unknown.extra["sku"]) == (
        422,
        "validation_error",
        "NOPE-1",
    )
    assert (await refused(runtime, [("TS-M", 0)])).code == "validation_error"


async def test_unpaid_reservations_expire_after_their_order(
    client: httpx.AsyncClient, runtime: Runtime, shop: Shop, clock: FrozenClock
) -> None:
    await tshirt(client, shop)
    expiry = clock.now() + timedelta(minutes=7)
    lapsing, _ = await reserve(runtime, [("TS-M", 2)], expires_at=expiry)
    paid, _ = await reserve(runtime, [("TS-M", 1)], expires_at=expiry)
    await on_order(runtime, "consume_items", paid)
    clock.advance(timedelta(minutes=8))
    assert await merch.release_expired(runtime) == 0  # orders gets the grace period first
    clock.advance(merch.SWEEP_GRACE)
    assert await merch.release_expired(runtime) == 2
    assert await merch.release_expired(runtime) == 0
    assert await stock_of(runtime, "TS-M") == 2
    assert await units_in(runtime, "TS-M", "released") == 2
    assert await units_in(runtime, "TS-M", "consumed") == 1
    assert lapsing != paid


@pytest.mark.parametrize("backend", BACKENDS)
async def test_suggested_products_are_on_sale_and_in_stock(
    client: httpx.AsyncClient, runtime: Runtime, shop: Shop
) -> None:
    stick = await create_product(client, shop.seller, shop.event_id)
    await tshirt(client, shop, status="hidden")
    await create_product(
        client,
        shop.seller,
        shop.event_id,
        name="Photo book",
        variants=[{"sku": "PB-01", "option": "", "stock": 0}],
    )
    async with runtime.uow() as uow:
        suggestions = await merch.suggested_products(uow, event_id=shop.event_id)
        none = await merch.suggested_products(uow, event_id=new_id())
    assert [(s.product_id, s.name, s.price, s.currency) for s in suggestions] == [
        (stick["id"], "Official light stick", 35000, "KRW")
    ]
    assert [(v.sku, v.in_stock) for v in suggestions[0].variants] == [("LS-01", True)]
    assert suggestions[0].to_dict() == {
        "product_id": stick["id"],
        "event_id": shop.event_id,
        "name": "Official light stick",
        "price": 35000,
        "currency": "KRW",
        "image_url": None,
        "variants": [{"sku": "LS-01", "option": "", "in_stock": True}],
    }
    assert none == []
