"""Orders with merch lines: seats and goods in one order, one amount; paying consumes the
stock, cancelling returns it, expiring releases it; goods-only orders work too."""

from __future__ import annotations

from datetime import timedelta

import httpx

from boxoffice.orders import service as orders
from boxoffice.platform.clock import FrozenClock
from boxoffice.platform.runtime import Runtime
from tests.stubs.kakaopay import KakaoPayStandIn
from tests.stubs.toss import TossStandIn
from tests.support.api import API, Caller, assert_problem
from tests.support.catalog import ShowSetup
from tests.support.merch import create_product, stock_of, units_in
from tests.support.orders import hold_seats, pay, place_order


async def test_seats_and_goods_in_one_order(
    client: httpx.AsyncClient,
    runtime: Runtime,
    show: ShowSetup,
    fan: Caller,
    toss: TossStandIn,
    kakaopay: KakaoPayStandIn,
) -> None:
    await create_product(
        client,
        show.seller,
        show.event_id,
        price=35000,
        variants=[{"sku": "LS-01", "option": "", "stock": 5}],
    )
    hold = await hold_seats(client, fan, show.show_id, show.seat_ids[:1])
    placed = await place_order(
        client, fan, hold["hold_id"], "toss", items=[{"sku": "LS-01", "quantity": 2}]
    )
    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert order["amount"] == show.grade_prices["VIP"] + 2 * 35000
    assert [line["kind"] for line in order["lines"]] == ["seat", "merch"]
    assert order["delivery"] == {"method": "pickup", "address": None}
    assert await stock_of(runtime, "LS-01") == 3
    paid = await pay(client, fan, order, toss, kakaopay)
    assert paid.json()["status"] == "paid"
    assert await units_in(runtime, "LS-01", "consumed") == 2
    cancelled = await client.post(f"{API}/orders/{order['id']}/cancel", headers=fan.headers)
    assert cancelled.json()["status"] == "refunded"
    assert await stock_of(runtime, "LS-01") == 5
    assert toss.refunded == order["amount"]


async def test_goods_only_order_and_its_expiry(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    show: ShowSetup,
    fan: Caller,
) -> None:
    await create_product(
        client,
        show.seller,
        show.event_id,
        price=20000,
        variants=[{"sku": "TEE-M", "option": "M", "stock": 1}],
    )
    placed = await place_order(client, fan, None, items=[{"sku": "TEE-M", "quantity": 1}])
    assert placed.status_code == 201, placed.text
    assert placed.json()["amount"] == 20000
    sold_out = await place_order(client, fan, None, items=[{"sku": "TEE-M", "quantity": 1}])
    assert_problem(sold_out, 422, "out_of_stock")
    clock.advance(timedelta(minutes=16))
    assert await orders.expire_orders(runtime) == 1
    assert await stock_of(runtime, "TEE-M") == 1
