"""What a capture proves: it pays the order the provider says it paid, and the money it
sends back shows on the order."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from boxoffice.platform.clock import FrozenClock
from boxoffice.platform.runtime import Runtime
from boxoffice.seating import service as seating
from tests.conftest import BACKENDS
from tests.stubs.toss import TossStandIn
from tests.support.api import API, Caller, assert_problem
from tests.support.catalog import ShowSetup
from tests.support.orders import count_rows, hold_seats, new_order, read_order


@pytest.mark.parametrize("backend", BACKENDS[:2])
async def test_a_payment_toss_made_for_another_order_pays_nothing(
    client: httpx.AsyncClient, runtime: Runtime, show: ShowSetup, fan: Caller, toss: TossStandIn
) -> None:
    paid_elsewhere = await new_order(client, fan, show, "toss")
    target = await new_order(client, fan, show, "toss", offset=2)
    assert paid_elsewhere["amount"] == target["amount"]
    # Toss captured this paymentKey for the first order (confirmed outside this order's
    # claim: another tab, a race, the merchant console); the buyer presents it for the second.
    key = toss.authorize(paid_elsewhere["id"], paid_elsewhere["amount"])
    toss.payments[key].update(status="DONE", approvedAt="2026-12-02T10:00:00+09:00")
    answer = await client.post(
        f"{API}/payments/toss/confirm",
        json={"paymentKey": key, "orderId": target["id"], "amount": target["amount"]},
        headers=fan.headers,
    )
    body = assert_problem(answer, 422, "payment_rejected")
    assert body["provider_code"] == "ORDER_MISMATCH"
    assert (await read_order(client, fan, target["id"]))["status"] == "pending"
    tickets = await count_rows(
        runtime, "SELECT count(*) FROM tickets_tickets WHERE order_id = :o", o=target["id"]
    )
    assert tickets == 0
    assert (toss.captured, toss.refunded) == (paid_elsewhere["amount"], 0)
    # the order the payment belongs to can still settle it with its own key
    toss.payments[key].update(status="IN_PROGRESS", approvedAt=None)
    own = await client.post(
        f"{API}/payments/toss/confirm",
        json={"paymentKey": key, "orderId": paid_elsewhere["id"], "amount": target["amount"]},
        headers=fan.headers,
    )
    assert own.status_code == 200, own.text
    assert own.json()["status"] == "paid"


async def test_an_order_refunded_automatically_reports_what_was_refunded(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    show: ShowSetup,
    fan: Caller,
    other: Caller,
    toss: TossStandIn,
) -> None:
    order = await new_order(client, fan, show, "toss")
    key = toss.authorize(order["id"], order["amount"])
    clock.advance(timedelta(minutes=8))
    await seating.expire_holds(runtime)
    await hold_seats(client, other, show.show_id, show.seat_ids[:1])  # a seat is gone
    late = await client.post(
        f"{API}/payments/toss/confirm",
        json={"paymentKey": key, "orderId": order["id"], "amount": order["amount"]},
        headers=fan.headers,
    )
    assert assert_problem(late, 409, "order_not_payable")["refunded"] is True
    failed = await read_order(client, fan, order["id"])
    assert (failed["status"], failed["refunded_amount"]) == ("failed", order["amount"])
    assert toss.refunded == order["amount"]
