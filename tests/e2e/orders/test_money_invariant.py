"""The money rule after a randomized run of orders, payments, refusals, timeouts,
cancellations and expiries: what the providers kept (captured − refunded, read from the
stand-ins' ledgers) equals what the paid orders say in the database, and every sold seat
has exactly one live ticket."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from boxoffice.orders import service as orders
from boxoffice.orders.payments.internal import InternalProvider
from boxoffice.orders.payments.registry import providers_of
from boxoffice.orders.payments.toss import TossProvider
from boxoffice.platform.clock import FrozenClock
from boxoffice.platform.runtime import Runtime
from boxoffice.seating import service as seating
from tests.conftest import BACKENDS
from tests.stubs.kakaopay import KakaoPayStandIn
from tests.stubs.toss import TossStandIn
from tests.support.api import API, Caller, customer
from tests.support.catalog import ShowSetup, open_show
from tests.support.orders import pay, place_order

STEPS = 90


async def _rows(runtime: Runtime, sql: str, **params: Any) -> list[Any]:
    async with runtime.uow() as uow:
        return list((await uow.session.execute(text(sql), params)).all())


async def _settle_time(runtime: Runtime) -> None:
    await seating.expire_holds(runtime)
    await orders.expire_orders(runtime)
    await orders.reconcile_payments(runtime)


async def _return_some(
    client: httpx.AsyncClient,
    rng: random.Random,
    show: ShowSetup,
    paid: list[tuple[Caller, str]],
    toss_client: TossProvider,
    kakaopay: KakaoPayStandIn,
) -> str:
    """Some seats of a paid order go back — by the buyer or the organiser — and now and
    then the provider refuses the refund."""
    caller, order_id = rng.choice(paid)
    order = (await client.get(f"{API}/orders/{order_id}", headers=caller.headers)).json()
    left = [line for line in order["lines"] if line["refunded_quantity"] < line["quantity"]]
    if order["status"] != "paid" or not left:
        return "nothing_to_return"
    picks = rng.sample(left, rng.randint(1, len(left)))
    who = rng.choice([caller, caller, show.seller])
    refuse = rng.random() < 0.2
    if refuse:
        toss_client.test_code = "NOT_CANCELABLE_AMOUNT"
        kakaopay.fail_next["cancel"] = (400, -721, "cancel failure!")
    try:
        response = await client.post(
            f"{API}/orders/{order_id}/refunds",
            json={"lines": [{"position": line["position"]} for line in picks]},
            headers=who.headers,
        )
    finally:
        toss_client.test_code = None
        kakaopay.fail_next.clear()
    assert response.status_code in (201, 409, 502), response.text
    if response.status_code == 502:
        return "return_refused" if refuse else "return_unknown"
    return "returned" if response.status_code == 201 else response.json()["code"]


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
async def test_money_and_tickets_add_up_after_a_random_run(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    toss: TossStandIn,
    kakaopay: KakaoPayStandIn,
) -> None:
    rng = random.Random(20261122)
    show: ShowSetup = await open_show(
        client, runtime, rows=4, seats_per_row=10, max_tickets_per_user=40
    )
    buyers: list[Caller] = [await customer(client, f"buyer{n}") for n in range(3)]
    internal = providers_of(runtime).get("internal")
    toss_client = providers_of(runtime).get("toss")
    assert isinstance(internal, InternalProvider)
    assert isinstance(toss_client, TossProvider)
    paid: list[tuple[Caller, str]] = []
    started = clock.now()
    outcomes: dict[str, int] = {}

    for _ in range(STEPS):
        action = rng.choices(["buy", "cancel", "return", "tick"], weights=[6, 2, 2, 2])[0]
        if action == "tick":
            minutes = rng.choice([1, 5, 8, 60, 60 * 24, 60 * 24 * 4])
            if clock.now() + timedelta(minutes=minutes) < started + timedelta(days=20):
                clock.advance(timedelta(minutes=minutes))  # the sale closes on day 30
            await _settle_time(runtime)
            continue
        if action == "cancel":
            if paid:
                caller, order_id = paid.pop(rng.randrange(len(paid)))
                response = await client.post(
                    f"{API}/orders/{order_id}/cancel", headers=caller.headers
                )
                assert response.status_code in (200, 409, 502), response.text  # 409: all returned
            continue
        if action == "return":
            if paid:
                done = await _return_some(client, rng, show, paid, toss_client, kakaopay)
                outcomes[done] = outcomes.get(done, 0) + 1
            continue
        buyer = rng.choice(buyers)
        free = [
            row[0]
            for row in await _rows(
                runtime,
                "SELECT seat_id FROM seating_seats WHERE show_id = :s AND status = 'available'",
                s=show.show_id,
            )
        ]
        if len(free) < 2:
            continue
        seats = rng.sample(free, rng.choice([1, 2]))
        held = await client.post(
            f"{API}/shows/{show.show_id}/holds", json={"seat_ids": seats}, headers=buyer.headers
        )
        if held.status_code != 201:
            continue
        provider = rng.choice(["internal", "toss", "kakaopay"])
        placed = await place_order(client, buyer, held.json()["hold_id"], provider)
        assert placed.status_code == 201, placed.text
        order = placed.json()
        outcome = rng.choices(
            ["pay", "refuse", "unknown", "lost_answer", "late", "leave", "give_up"],
            weights=[10, 2, 2, 1, 4, 2, 1],
        )[0]
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        if outcome == "give_up":
            await client.post(f"{API}/orders/{order['id']}/cancel", headers=buyer.headers)
            continue
        if outcome == "leave":
            continue
        if outcome == "late":  # pay after the hold ran out; someone may have taken a seat
            clock.advance(timedelta(minutes=8))
            await seating.expire_holds(runtime)
            if rng.random() < 0.7:
                rival = rng.choice([b for b in buyers if b is not buyer])
                await client.post(
                    f"{API}/shows/{show.show_id}/holds",
                    json={"seat_ids": seats[:1]},
                    headers=rival.headers,
                )
        if outcome == "refuse":
            internal.mode = "fail"
            toss_client.test_code = "REJECT_CARD_PAYMENT"
            kakaopay.fail_next["approve"] = (400, -780, "approval failure!")
        if outcome == "unknown":  # an error whose outcome is unknown; nothing was captured
            internal.mode = "timeout"
            toss_client.test_code = "FAILED_PAYMENT_INTERNAL_SYSTEM_PROCESSING"
            kakaopay.fail_next["approve"] = (500, -9999, "system error")
        if outcome == "lost_answer":  # captured, but the answer comes too late
            internal.mode = "timeout"
            toss.confirm_delay = 6.0
            kakaopay.delay_next["approve"] = 6.0
        answer = await pay(client, buyer, order, toss, kakaopay)
        internal.mode = "succeed"
        toss_client.test_code = None
        toss.confirm_delay = 0.0
        kakaopay.fail_next.clear()
        kakaopay.delay_next.clear()
        if answer.status_code == 200 and answer.json().get("status") == "paid":
            paid.append((buyer, order["id"]))

    # A week later some buyers cancel and pay the fee of that window.
    clock.advance(timedelta(days=8))
    await _settle_time(runtime)
    for caller, order_id in paid[: len(paid) // 2]:
        response = await client.post(f"{API}/orders/{order_id}/cancel", headers=caller.headers)
        assert response.status_code in (200, 409), response.text
    clock.advance(timedelta(minutes=10))
    await _settle_time(runtime)
    await _settle_time(runtime)

    internal_captured, internal_refunded = await internal.totals()
    kept_at_providers = (
        (toss.captured - toss.refunded)
        + (kakaopay.captured - kakaopay.refunded)
        + (internal_captured - internal_refunded)
    )
    [(kept_in_db,)] = await _rows(
        runtime,
        "SELECT coalesce(sum(amount - refunded_amount), 0) FROM orders_orders "
        "WHERE status IN ('paid', 'partially_refunded', 'refunded')",
    )
    assert kept_at_providers == int(kept_in_db), outcomes
    assert toss.captured + kakaopay.captured + internal_captured > 0

    # Per order: the payments' books match the order's.
    by_order = await _rows(
        runtime,
        "SELECT o.id, o.status, o.amount - o.refunded_amount, "
        "coalesce(sum(p.captured_amount - p.refunded_amount), 0) "
        "FROM orders_orders o LEFT JOIN orders_payments p ON p.order_id = o.id "
        "GROUP BY o.id, o.status, o.amount, o.refunded_amount",
    )
    for order_id, status, due, kept in by_order:
        expected = due if status in ("paid", "partially_refunded", "refunded") else 0
        assert int(kept) == int(expected), (order_id, status, due, kept)
    # Per order: what it kept is what its lines still sold are worth, plus the fees.
    lines = await _rows(
        runtime,
        "SELECT o.id, o.amount - o.refunded_amount - o.fee, l.amount, l.quantity, "
        "l.refunded_quantity FROM orders_orders o JOIN orders_lines l ON l.order_id = o.id "
        "WHERE o.status IN ('paid', 'partially_refunded', 'refunded')",
    )
    worth: dict[str, int] = {}
    for order_id, _, amount, quantity, refunded in lines:
        left = int(amount) - int(amount) * int(refunded) // int(quantity)
        worth[order_id] = worth.get(order_id, 0) + left
    for order_id, due, *_ in lines:
        assert int(due) == worth[order_id], (order_id, due, worth[order_id])
    pending_refunds = await _rows(
        runtime, "SELECT count(*) FROM orders_refunds WHERE status = 'pending'"
    )
    assert pending_refunds == [(0,)]
    in_flight = await _rows(
        runtime,
        "SELECT count(*) FROM orders_orders WHERE confirming_since IS NOT NULL",
    )
    assert in_flight == [(0,)]

    sold = sorted(
        r[0]
        for r in await _rows(
            runtime,
            "SELECT seat_id FROM seating_seats WHERE show_id = :s AND status = 'sold'",
            s=show.show_id,
        )
    )
    ticketed = sorted(
        r[0]
        for r in await _rows(
            runtime,
            "SELECT t.seat_id FROM tickets_tickets t WHERE t.show_id = :s "
            "AND t.status IN ('valid', 'used')",
            s=show.show_id,
        )
    )
    assert sold == ticketed  # one live ticket per sold seat, none for unsold seats
    assert len(set(ticketed)) == len(ticketed)
    statuses = {r[0] for r in await _rows(runtime, "SELECT DISTINCT status FROM orders_orders")}
    # The run went through every way an order can end (the seed is fixed).
    assert statuses >= {"paid", "failed", "expired", "cancelled", "refunded"}, statuses
    assert "partially_refunded" in statuses, statuses
    # ... and seats went back one by one, some refunds refused by the provider.
    assert outcomes.get("returned", 0) > 0, outcomes
    assert outcomes.get("return_refused", 0) > 0, outcomes
