"""Concurrency, counted in the database and at the stand-ins: many confirms of one order
take one payment; one Idempotency-Key makes one order."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from boxoffice.platform.runtime import Runtime
from tests.conftest import BACKENDS
from tests.stubs.toss import TossStandIn
from tests.support.api import API, Caller
from tests.support.catalog import ShowSetup
from tests.support.orders import count_rows, hold_seats, new_order, place_order


@pytest.mark.parametrize("backend", BACKENDS)
async def test_concurrent_confirms_of_one_order_take_one_payment(
    client: httpx.AsyncClient, runtime: Runtime, show: ShowSetup, fan: Caller, toss: TossStandIn
) -> None:
    order = await new_order(client, fan, show, "toss")
    key = toss.authorize(order["id"], order["amount"])
    body = {"paymentKey": key, "orderId": order["id"], "amount": order["amount"]}
    answers = await asyncio.gather(
        *[
            client.post(f"{API}/payments/toss/confirm", json=body, headers=fan.headers)
            for _ in range(8)
        ]
    )
    codes = [a.status_code for a in answers]
    assert set(codes) <= {200, 409}, [a.text for a in answers]
    assert 200 in codes
    assert all(a.json()["code"] == "conflict" for a in answers if a.status_code == 409)
    assert toss.captured == order["amount"]
    assert len([r for r in toss.requests if r[1] == "/v1/payments/confirm"]) == 1
    captured = await count_rows(
        runtime,
        "SELECT count(*) FROM orders_payments WHERE order_id = :o AND status = 'captured'",
        o=order["id"],
    )
    tickets = await count_rows(
        runtime, "SELECT count(*) FROM tickets_tickets WHERE order_id = :o", o=order["id"]
    )
    assert (captured, tickets) == (1, 2)


@pytest.mark.parametrize("backend", BACKENDS[:2])
async def test_concurrent_internal_pays_take_one_payment(
    client: httpx.AsyncClient, runtime: Runtime, show: ShowSetup, fan: Caller
) -> None:
    order = await new_order(client, fan, show)
    answers = await asyncio.gather(
        *[client.post(f"{API}/orders/{order['id']}/pay", headers=fan.headers) for _ in range(8)]
    )
    assert sorted({a.status_code for a in answers}) in ([200], [200, 409])
    payments = await count_rows(
        runtime, "SELECT count(*) FROM orders_payments WHERE order_id = :o", o=order["id"]
    )
    assert payments == 1


@pytest.mark.parametrize("backend", BACKENDS[:2])
async def test_one_idempotency_key_one_order(
    client: httpx.AsyncClient, runtime: Runtime, show: ShowSetup, fan: Caller
) -> None:
    hold = await hold_seats(client, fan, show.show_id, show.seat_ids[:2])
    answers = await asyncio.gather(
        *[place_order(client, fan, hold["hold_id"], key="same-key") for _ in range(6)]
    )
    assert {a.status_code for a in answers} <= {200, 201, 409}, [a.text for a in answers]
    ids = {a.json()["id"] for a in answers if a.status_code in (200, 201)}
    assert len(ids) == 1
    orders = await count_rows(
        runtime, "SELECT count(*) FROM orders_orders WHERE user_id = :u", u=fan.id
    )
    assert orders == 1
