"""Cancelling: pending orders give their hold back; paid ones are refunded through the
provider minus the fee of the window, tickets voided, seats back on sale."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import httpx
import pytest

from boxoffice.orders import service as orders
from boxoffice.platform.clock import FrozenClock
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Role
from tests.stubs.kakaopay import KakaoPayStandIn
from tests.stubs.toss import TossStandIn
from tests.support.api import API, Caller, assert_problem, user_with_role
from tests.support.catalog import ShowSetup
from tests.support.orders import cancel_order, count_rows, new_order, pay


async def _available(runtime: Runtime, show: ShowSetup) -> int:
    return await count_rows(
        runtime,
        "SELECT count(*) FROM seating_seats WHERE show_id = :s AND status = 'available'",
        s=show.show_id,
    )


_cancel = partial(cancel_order, reason="plans changed")


async def test_cancel_pending_order_releases_the_hold(
    client: httpx.AsyncClient, runtime: Runtime, show: ShowSetup, fan: Caller
) -> None:
    order = await new_order(client, fan, show)
    assert await _available(runtime, show) == len(show.seat_ids) - 2
    cancelled = await _cancel(client, fan, order["id"])
    assert cancelled.status_code == 200, cancelled.text
    assert (cancelled.json()["status"], cancelled.json()["refunded_amount"]) == ("cancelled", 0)
    assert await _available(runtime, show) == len(show.seat_ids)
    assert_problem(await _cancel(client, fan, order["id"]), 409, "conflict")
    assert_problem(
        await client.post(f"{API}/orders/{order['id']}/pay", headers=fan.headers),
        409,
        "order_not_payable",
    )


@pytest.mark.parametrize("provider", ["toss", "kakaopay", "internal"])
async def test_cancel_paid_order_on_booking_day_refunds_everything(
    client: httpx.AsyncClient,
    runtime: Runtime,
    show: ShowSetup,
    fan: Caller,
    toss: TossStandIn,
    kakaopay: KakaoPayStandIn,
    provider: str,
) -> None:
    order = await new_order(client, fan, show, provider)
    assert (await pay(client, fan, order, toss, kakaopay)).json()["status"] == "paid"
    cancelled = await _cancel(client, fan, order["id"])
    assert cancelled.status_code == 200, cancelled.text
    body = cancelled.json()
    assert (body["status"], body["refunded_amount"], body["fee"]) == (
        "refunded",
        order["amount"],
        0,
    )
    assert body["cancel_reason"] == "plans changed"
    tickets = (await client.get(f"{API}/users/me/tickets", headers=fan.headers)).json()["items"]
    assert {t["status"] for t in tickets} == {"void"}
    assert await _available(runtime, show) == len(show.seat_ids)
    ledger = {"toss": toss, "kakaopay": kakaopay}.get(provider)
    if ledger is not None:
        assert (ledger.captured, ledger.refunded) == (order["amount"], order["amount"])


async def test_cancel_after_the_free_week_keeps_the_fixed_fee(
    client: httpx.AsyncClient,
    clock: FrozenClock,
    show: ShowSetup,
    fan: Caller,
    toss: TossStandIn,
    kakaopay: KakaoPayStandIn,
) -> None:
    order = await new_order(client, fan, show, "toss")
    await pay(client, fan, order, toss, kakaopay)
    clock.advance(timedelta(days=8))  # the show is still 32 days away
    body = (await _cancel(client, fan, order["id"])).json()
    assert (body["status"], body["fee"]) == ("partially_refunded", 8000)  # 4,000 per ticket
    assert body["refunded_amount"] == order["amount"] - 8000
    assert toss.captured - toss.refunded == 8000


async def test_near_the_show_the_percentage_applies_and_after_the_cutoff_nothing(
    client: httpx.AsyncClient,
    clock: FrozenClock,
    show: ShowSetup,
    fan: Caller,
    toss: TossStandIn,
    kakaopay: KakaoPayStandIn,
) -> None:
    near = await new_order(client, fan, show, "toss")
    late = await new_order(client, fan, show, "kakaopay", offset=2)
    await pay(client, fan, near, toss, kakaopay)
    await pay(client, fan, late, toss, kakaopay)
    clock.advance(timedelta(days=35))  # 5 days before the show: 20 %
    body = (await _cancel(client, fan, near["id"])).json()
    assert body["fee"] == near["amount"] * 20 // 100
    clock.advance(timedelta(days=4, hours=12))  # inside the last 24 hours
    closed = await _cancel(client, fan, late["id"])
    assert_problem(closed, 409, "cancellation_closed")
    assert kakaopay.refunded == 0


async def test_admin_cancels_in_full_even_late(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    show: ShowSetup,
    fan: Caller,
    toss: TossStandIn,
    kakaopay: KakaoPayStandIn,
) -> None:
    order = await new_order(client, fan, show, "toss")
    await pay(client, fan, order, toss, kakaopay)
    admin = await user_with_role(client, runtime, Role.ADMIN)  # signs in before time moves
    clock.advance(timedelta(days=39, hours=12))
    body = (await _cancel(client, admin, order["id"])).json()
    assert (body["status"], body["refunded_amount"]) == ("refunded", order["amount"])


async def test_refund_failure_at_the_provider_keeps_the_order_paid(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    show: ShowSetup,
    fan: Caller,
    toss: TossStandIn,
    kakaopay: KakaoPayStandIn,
) -> None:
    order = await new_order(client, fan, show, "kakaopay")
    await pay(client, fan, order, toss, kakaopay)
    kakaopay.fail_next["cancel"] = (500, -9999, "system error")
    failed = await _cancel(client, fan, order["id"])
    assert_problem(failed, 502, "payment_provider_error")
    still = (await client.get(f"{API}/orders/{order['id']}", headers=fan.headers)).json()
    assert still["status"] == "paid"
    assert_problem(await _cancel(client, fan, order["id"]), 409, "conflict")  # refund pending
    clock.advance(timedelta(minutes=2))
    assert await orders.reconcile_payments(runtime) == 1
    done = (await client.get(f"{API}/orders/{order['id']}", headers=fan.headers)).json()
    assert done["status"] == "refunded"
    assert kakaopay.refunded == order["amount"]


async def test_event_cancelled_refunds_every_paid_order_in_full(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    show: ShowSetup,
    fan: Caller,
    other: Caller,
    toss: TossStandIn,
    kakaopay: KakaoPayStandIn,
) -> None:
    first = await new_order(client, fan, show, "toss")
    second = await new_order(client, other, show, "kakaopay", offset=2)
    pending = await new_order(client, other, show, "internal", offset=4)
    await pay(client, fan, first, toss, kakaopay)
    await pay(client, other, second, toss, kakaopay)
    clock.advance(timedelta(days=39, hours=20))  # past the buyers' cutoff: still refunded
    assert await orders.refund_event_orders(runtime, show.event_id) == 2
    assert await orders.refund_event_orders(runtime, show.event_id) == 0  # idempotent
    for caller, order, status in [
        (fan, first, "refunded"),
        (other, second, "refunded"),
        (other, pending, "cancelled"),
    ]:
        got = (await client.get(f"{API}/orders/{order['id']}", headers=caller.headers)).json()
        assert got["status"] == status
    assert (toss.refunded, kakaopay.refunded) == (first["amount"], second["amount"])
    assert await _available(runtime, show) == len(show.seat_ids)
