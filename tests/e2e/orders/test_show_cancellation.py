"""Cancelling one show of an event: every paid order of it refunded in full (fees waived,
checked-in tickets too: the show did not happen), pending ones cancelled, the event's
other shows untouched, nothing more sold for it; idempotent; and raced against payments
and check-ins, every paid order of the show is refunded exactly once (counted in the
database)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from boxoffice.orders import refund_claims, refunds
from boxoffice.orders.lifecycle import lock_order
from boxoffice.platform.clock import FrozenClock
from boxoffice.platform.messaging.worker import InProcessBus
from boxoffice.platform.runtime import Runtime
from tests.support.api import API, Caller, assert_problem, customer
from tests.support.catalog import ShowSetup
from tests.support.orders import count_rows, hold_seats, new_order, paid_order, place_order


async def _cancel(client: httpx.AsyncClient, caller: Caller, show_id: str) -> httpx.Response:
    return await client.post(
        f"{API}/shows/{show_id}/cancel",
        json={"reason": "the singer is ill"},
        headers=caller.headers,
    )


async def _drain(runtime: Runtime) -> None:
    bus = runtime.adapters.get(InProcessBus)
    while await bus.run_once():
        pass


async def _second_show(client: httpx.AsyncClient, show: ShowSetup, clock: FrozenClock) -> str:
    starts = (clock.now() + timedelta(days=41)).isoformat()
    made = await client.post(
        f"{API}/events/{show.event_id}/shows",
        json={"starts_at": starts},
        headers=show.seller.headers,
    )
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


async def _order(client: httpx.AsyncClient, runtime: Runtime, show_id: str) -> Any:
    return await count_rows(
        runtime,
        "SELECT count(*) FROM orders_orders WHERE show_id = :s AND status = 'paid'",
        s=show_id,
    )


async def _payment_states(runtime: Runtime, show_id: str) -> list[tuple[str, int, int, int]]:
    async with runtime.uow() as uow:
        rows = await uow.session.execute(
            text(
                "SELECT p.status, p.amount, COALESCE(SUM(r.amount), 0), COUNT(r.id)"
                " FROM orders_payments p JOIN orders_orders o ON o.id = p.order_id"
                " LEFT JOIN orders_refunds r ON r.payment_id = p.id AND r.status = 'done'"
                " WHERE o.show_id = :s AND p.status IN ('captured', 'refunded', 'part_refunded')"
                " GROUP BY p.id, p.status, p.amount"
            ),
            {"s": show_id},
        )
        return [(str(a), int(b), int(c), int(d)) for a, b, c, d in rows.all()]


async def test_a_cancelled_show_refunds_its_orders_in_full_and_sells_nothing_more(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    show: ShowSetup,
    fan: Caller,
    other: Caller,
) -> None:
    other_show = await _second_show(client, show, clock)
    paid = await new_order(client, fan, show, seats=2)
    assert (
        await client.post(f"{API}/orders/{paid['id']}/pay", headers=fan.headers)
    ).status_code == 200
    pending = await new_order(client, other, show, seats=1, offset=2)
    seats = (await client.get(f"{API}/shows/{other_show}/seats")).json()["seats"]
    elsewhere_hold = await hold_seats(client, fan, other_show, [seats[0]["id"]])
    elsewhere = (await place_order(client, fan, elsewhere_hold["hold_id"])).json()
    assert (
        await client.post(f"{API}/orders/{elsewhere['id']}/pay", headers=fan.headers)
    ).status_code == 200
    clock.advance(timedelta(days=8))  # past the free week: a buyer's cancel would cost a fee

    assert_problem(await _cancel(client, fan, show.show_id), 403, "forbidden")
    cancelled = await _cancel(client, show.seller, show.show_id)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    again = await _cancel(client, show.seller, show.show_id)  # a retry: the same answer
    assert (again.status_code, again.json()["status"]) == (200, "cancelled")
    await _drain(runtime)

    refunded = (await client.get(f"{API}/orders/{paid['id']}", headers=fan.headers)).json()
    assert (refunded["status"], refunded["refunded_amount"], refunded["fee"]) == (
        "refunded",
        paid["amount"],
        0,
    )
    assert "the singer is ill" in refunded["cancel_reason"]
    gone = (await client.get(f"{API}/orders/{pending['id']}", headers=other.headers)).json()
    assert gone["status"] == "cancelled"
    kept = (await client.get(f"{API}/orders/{elsewhere['id']}", headers=fan.headers)).json()
    assert kept["status"] == "paid"  # the event's other show goes on
    assert await count_rows(runtime, "SELECT count(*) FROM orders_refunds") == 1
    # nothing more is sold for the cancelled show
    refused = await client.post(
        f"{API}/shows/{show.show_id}/holds",
        json={"seat_ids": show.seat_ids[10:11]},
        headers=other.headers,
    )
    assert refused.status_code in (404, 409, 422), refused.text
    event = (await client.get(f"{API}/events/{show.event_id}")).json()
    assert {s["id"]: s["status"] for s in event["shows"]} == {
        show.show_id: "cancelled",
        other_show: "scheduled",
    }


async def _view(client: httpx.AsyncClient, caller: Caller, order_id: str) -> Any:
    response = await client.get(f"{API}/orders/{order_id}", headers=caller.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_cancelled_show_gives_back_the_fees_its_buyers_paid_to_return_seats(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    show: ShowSetup,
    fan: Caller,
    other: Caller,
) -> None:
    kept = await paid_order(client, fan, show, seats=2)
    returned = await paid_order(client, other, show, seats=1, offset=2)
    clock.advance(timedelta(days=8))  # past the free week: returning costs a fee
    one = await client.post(
        f"{API}/orders/{kept['id']}/refunds",
        json={"lines": [{"position": 0}]},
        headers=fan.headers,
    )
    assert one.status_code == 201, one.text
    whole = await client.post(f"{API}/orders/{returned['id']}/cancel", headers=other.headers)
    assert whole.status_code == 200, whole.text
    await _drain(runtime)
    half = await _view(client, fan, kept["id"])
    closed = await _view(client, other, returned["id"])
    assert (half["status"], closed["status"]) == ("paid", "partially_refunded")
    assert min(half["fee"], closed["fee"]) > 0
    fees = {kept["id"]: half["fee"], returned["id"]: closed["fee"]}

    cancelled = await _cancel(client, show.seller, show.show_id)
    assert cancelled.status_code == 200, cancelled.text
    await _drain(runtime)
    assert (await _cancel(client, show.seller, show.show_id)).status_code == 200  # a retry
    await _drain(runtime)

    for caller, order in ((fan, kept), (other, returned)):
        now = await _view(client, caller, order["id"])
        assert (now["status"], now["refunded_amount"], now["fee"]) == (
            "refunded",
            order["amount"],
            0,
        )
        refunds = (
            await client.get(f"{API}/orders/{order['id']}/refunds", headers=caller.headers)
        ).json()["items"]
        assert len(refunds) == 2  # the buyer's, then the show's: no third on the retry
        last = refunds[-1]
        assert (last["kind"], last["status"], last["fee"]) == ("show", "done", 0)
        assert last["fee_returned"] == fees[order["id"]]
    # the provider gave back everything it took: the payments' books say so
    states = await _payment_states(runtime, show.show_id)
    assert sorted((status, amount == refunded) for status, amount, refunded, _ in states) == [
        ("refunded", True),
        ("refunded", True),
    ]


async def test_a_refund_under_way_when_the_show_is_cancelled_is_followed_by_the_rest(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    show: ShowSetup,
    fan: Caller,
) -> None:
    order = await paid_order(client, fan, show, seats=2)
    clock.advance(timedelta(days=8))  # past the free week: the buyer's return costs a fee
    # The buyer's return of one seat is claimed, not yet sent to the provider...
    async with runtime.uow() as uow:
        locked = await lock_order(uow, order["id"])
        assert locked is not None
        lines = await refund_claims.order_lines(uow, order["id"], lock=True)
        chosen = refund_claims.pick(lines, [refund_claims.Pick(0)])
        quote = await refund_claims.price(uow, locked, chosen, waive_fee=False)
        assert quote.fee > 0
        under_way = await refund_claims.claim(uow, locked, quote, "mine", kind="cancellation")
    # ...when the show is cancelled: the sweep finds the order's refund slot taken.
    assert (await _cancel(client, show.seller, show.show_id)).status_code == 200
    await _drain(runtime)
    assert (await _view(client, fan, order["id"]))["status"] == "paid"

    assert await refunds.execute_refund(runtime, under_way)  # the buyer's refund goes through
    await _drain(runtime)
    done = await _view(client, fan, order["id"])
    assert (done["status"], done["refunded_amount"], done["fee"]) == (
        "refunded",
        order["amount"],
        0,
    )
    listed = (await client.get(f"{API}/orders/{order['id']}/refunds", headers=fan.headers)).json()[
        "items"
    ]
    assert [(r["kind"], r["fee_returned"]) for r in listed] == [
        ("cancellation", 0),
        ("show", quote.fee),
    ]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql", "mariadb"])
async def test_cancelling_while_fans_pay_and_enter_refunds_every_paid_order_once(
    client: httpx.AsyncClient, runtime: Runtime, show: ShowSetup
) -> None:
    fans = [await customer(client, f"racer{i}") for i in range(10)]
    orders = [
        (fan, await new_order(client, fan, show, seats=2, offset=2 * i))
        for i, fan in enumerate(fans)
    ]
    early = orders[:4]  # paid before, and entering the venue during the cancellation
    for fan, order in early:
        assert (
            await client.post(f"{API}/orders/{order['id']}/pay", headers=fan.headers)
        ).status_code == 200
    codes = []
    for fan, _ in early:
        tickets = (await client.get(f"{API}/users/me/tickets", headers=fan.headers)).json()["items"]
        codes.append(tickets[0]["code"])

    async def pay(fan: Caller, order: dict[str, Any]) -> int:
        return (
            await client.post(f"{API}/orders/{order['id']}/pay", headers=fan.headers)
        ).status_code

    async def enter(code: str) -> int:
        body = {"code": code, "show_id": show.show_id}
        return (
            await client.post(f"{API}/checkin", json=body, headers=show.seller.headers)
        ).status_code

    results = await asyncio.gather(
        *(pay(fan, order) for fan, order in orders[4:]),
        *(enter(code) for code in codes),
        _cancel(client, show.seller, show.show_id),
        _cancel(client, show.seller, show.show_id),
        return_exceptions=True,
    )
    assert not [r for r in results if isinstance(r, BaseException)], results
    await _drain(runtime)

    assert await _order(client, runtime, show.show_id) == 0  # no paid order is left
    per_order = await count_rows(
        runtime,
        "SELECT count(*) FROM (SELECT r.order_id FROM orders_refunds r JOIN orders_orders o"
        " ON o.id = r.order_id WHERE o.show_id = :s GROUP BY r.order_id HAVING count(*) > 1) t",
        s=show.show_id,
    )
    assert per_order == 0  # never two refunds of one order
    # every payment that took money gave it all back, once: refunded in full by the show's
    # sweep (or the paid-order check), or by the capture that found the show cancelled
    states = await _payment_states(runtime, show.show_id)
    assert len(states) == 10
    assert {
        (status, refunded == amount, refunds) for status, amount, refunded, refunds in states
    } == {("refunded", True, 1)}
    live = await count_rows(
        runtime,
        "SELECT count(*) FROM tickets_tickets WHERE show_id = :s AND status != 'void'",
        s=show.show_id,
    )
    assert live == 0
