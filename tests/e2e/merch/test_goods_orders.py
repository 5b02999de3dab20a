"""Goods bought through orders, over HTTP: with tickets in one order, paid and cancelled
(stock back, the refund covering both), alone, lapsing unpaid, and refused."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from boxoffice.orders import service as orders
from boxoffice.platform.clock import FrozenClock
from boxoffice.platform.runtime import Runtime
from tests.conftest import BACKENDS
from tests.e2e.merch.conftest import Shop
from tests.support.api import API, Caller, assert_problem, customer
from tests.support.merch import create_product, stock_of, units_in
from tests.support.orders import hold_seats

ADDRESS = {
    "recipient": "Kim Minji",
    "phone": "010-1234-5678",
    "postal_code": "04524",
    "address1": "Sejong-daero 110, Jung-gu, Seoul",
}


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime.now(UTC).replace(microsecond=0))


async def order(
    client: httpx.AsyncClient,
    fan: Caller,
    *,
    items: list[dict[str, Any]],
    hold_id: str | None = None,
    delivery: dict[str, Any] | None = None,
) -> httpx.Response:
    body: dict[str, Any] = {"payment_provider": "internal", "items": items}
    if hold_id:
        body["hold_id"] = hold_id
    if delivery is not None:
        body["delivery"] = delivery
    headers = {**fan.headers, "Idempotency-Key": uuid.uuid4().hex}
    return await client.post(f"{API}/orders", json=body, headers=headers)


async def goods(client: httpx.AsyncClient, shop: Shop, **fields: Any) -> None:
    await create_product(client, shop.seller, shop.event_id)  # LS-01, ₩35,000, 50 units
    await create_product(
        client,
        shop.seller,
        shop.event_id,
        name="Tour T-shirt",
        price=45000,
        variants=[{"sku": "TS-M", "option": "M", "stock": 5}],
        **fields,
    )


@pytest.mark.parametrize("backend", BACKENDS)
async def test_tickets_and_goods_in_one_order_paid_then_cancelled(
    client: httpx.AsyncClient, runtime: Runtime, shop: Shop, clock: FrozenClock
) -> None:
    await goods(client, shop)
    fan = await customer(client)
    seats = (await client.get(f"{API}/shows/{shop.show_id}/seats")).json()["seats"]
    chosen = [s for s in seats if s["grade"] == "VIP"][:2]
    hold = await hold_seats(client, fan, shop.show_id, [s["id"] for s in chosen])
    delivery = {"method": "delivery", "address": ADDRESS}
    created = await order(
        client,
        fan,
        hold_id=hold["hold_id"],
        items=[{"sku": "TS-M", "quantity": 2}, {"sku": "LS-01", "quantity": 1}],
        delivery=delivery,
    )
    assert created.status_code == 201, created.text
    placed = created.json()
    tickets = sum(s["price"] for s in chosen)
    goods_amount = 2 * 45000 + 35000
    assert placed["amount"] == tickets + goods_amount
    merch_lines = sorted(
        (line["ref"], line["quantity"], line["amount"])
        for line in placed["lines"]
        if line["kind"] == "merch"
    )
    assert merch_lines == [("LS-01", 1, 35000), ("TS-M", 2, 90000)]
    assert placed["delivery"] == {"method": "delivery", "address": {**ADDRESS, "address2": ""}}
    assert (await stock_of(runtime, "TS-M"), await stock_of(runtime, "LS-01")) == (3, 49)

    paid = await client.post(f"{API}/orders/{placed['id']}/pay", headers=fan.headers)
    assert paid.status_code == 200, paid.text
    assert paid.json()["status"] == "paid"
    assert await units_in(runtime, "TS-M", "consumed") == 2
    assert await stock_of(runtime, "TS-M") == 3

    # Ten days on: past the free window, so the tickets carry a fee; the goods never do.
    clock.advance(timedelta(days=10))
    cancelled = await client.post(
        f"{API}/orders/{placed['id']}/cancel", json={"reason": "cannot go"}, headers=fan.headers
    )
    assert cancelled.status_code == 200, cancelled.text
    body = cancelled.json()
    assert body["fee"] > 0
    assert body["refunded_amount"] + body["fee"] == placed["amount"]
    assert body["fee"] <= tickets // 10  # a fee on the tickets only: the goods come back in full
    assert (await stock_of(runtime, "TS-M"), await stock_of(runtime, "LS-01")) == (5, 50)
    assert await units_in(runtime, "TS-M", "returned") == 2
    assert await units_in(runtime, "LS-01", "returned") == 1


@pytest.mark.parametrize("backend", BACKENDS)
async def test_goods_alone_paid_and_lapsed(
    client: httpx.AsyncClient, runtime: Runtime, shop: Shop, clock: FrozenClock
) -> None:
    await goods(client, shop)
    fan = await customer(client)
    pickup = await order(client, fan, items=[{"sku": "LS-01", "quantity": 2}])
    assert pickup.status_code == 201, pickup.text
    assert pickup.json()["amount"] == 70000
    assert pickup.json()["delivery"] == {"method": "pickup", "address": None}
    paid = await client.post(f"{API}/orders/{pickup.json()['id']}/pay", headers=fan.headers)
    assert paid.json()["status"] == "paid"

    lapsing = await order(client, fan, items=[{"sku": "TS-M", "quantity": 5}])
    assert lapsing.status_code == 201, lapsing.text
    sold_out = (await client.get(f"{API}/events/{shop.event_id}/products")).json()["items"]
    assert [p["status"] for p in sold_out] == ["on_sale", "sold_out"]
    clock.advance(timedelta(minutes=16))
    assert await orders.expire_orders(runtime) >= 1
    lapsed = await client.get(f"{API}/orders/{lapsing.json()['id']}", headers=fan.headers)
    assert lapsed.json()["status"] == "expired"
    assert await stock_of(runtime, "TS-M") == 5
    assert await stock_of(runtime, "LS-01") == 48
    back = (await client.get(f"{API}/events/{shop.event_id}/products")).json()["items"]
    assert [p["status"] for p in back] == ["on_sale", "on_sale"]


async def test_orders_refused_for_goods(
    client: httpx.AsyncClient, runtime: Runtime, shop: Shop
) -> None:
    await goods(client, shop, max_per_user=2)
    fan = await customer(client)
    short = await order(client, fan, items=[{"sku": "LS-01", "quantity": 51}])
    assert assert_problem(short, 422, "out_of_stock")["sku"] == "LS-01"
    over = await order(client, fan, items=[{"sku": "TS-M", "quantity": 3}])
    assert_problem(over, 422, "purchase_limit_exceeded")
    unknown = await order(client, fan, items=[{"sku": "NOPE", "quantity": 1}])
    assert_problem(unknown, 422, "validation_error")
    for delivery in (
        {"method": "delivery"},
        {"method": "drone"},
        {"method": "delivery", "address": {**ADDRESS, "phone": "call me"}},
    ):
        bad = await order(client, fan, items=[{"sku": "LS-01", "quantity": 1}], delivery=delivery)
        assert_problem(bad, 422, "validation_error")
    assert await stock_of(runtime, "LS-01") == 50
    assert await stock_of(runtime, "TS-M") == 5
