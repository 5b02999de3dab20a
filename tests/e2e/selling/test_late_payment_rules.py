"""A late payment revives a lapsed hold only if a new hold of its seats would be allowed
now: its ticket type's cap and its code's uses are checked again (the per-show limit is
tests/e2e/orders/test_late_payment_limit.py). The refused payment is refunded in full and
the counts are read back from the database."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from boxoffice.platform.clock import FrozenClock
from boxoffice.platform.runtime import Runtime
from tests.stubs.kakaopay import KakaoPayStandIn
from tests.stubs.toss import TossStandIn
from tests.support.api import API, Caller, assert_problem
from tests.support.catalog import ShowSetup
from tests.support.orders import count_rows, pay, place_order


async def _order(
    client: httpx.AsyncClient, fan: Caller, show: ShowSetup, seat: str, rules: dict[str, str]
) -> dict[str, Any]:
    body: dict[str, Any] = {"seat_ids": [seat]}
    if "type" in rules:
        body["ticket_types"] = {seat: rules["type"]}
    if "code" in rules:
        body["code"] = rules["code"]
    held = await client.post(f"{API}/shows/{show.show_id}/holds", json=body, headers=fan.headers)
    assert held.status_code == 201, held.text
    placed = await place_order(client, fan, held.json()["hold_id"], "toss")
    assert placed.status_code == 201, placed.text
    order: dict[str, Any] = placed.json()
    return order


async def _sold_out_while_lapsed(
    client: httpx.AsyncClient,
    clock: FrozenClock,
    show: ShowSetup,
    fan: Caller,
    other: Caller,
    payment: tuple[TossStandIn, KakaoPayStandIn],
    **rules: str,
) -> httpx.Response:
    """``fan``'s hold lapses; ``other`` takes the last of what it used and pays; then
    ``fan`` pays late."""
    late = await _order(client, fan, show, show.seat_ids[0], rules)
    clock.advance(timedelta(minutes=8))  # the hold lapses; nobody swept it
    fresh = await _order(client, other, show, show.seat_ids[1], rules)
    assert (await pay(client, other, fresh, *payment)).status_code == 200
    return await pay(client, fan, late, *payment)


async def test_a_late_payment_for_a_type_sold_out_since_is_refused_and_refunded(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    show: ShowSetup,
    fan: Caller,
    other: Caller,
    toss: TossStandIn,
    kakaopay: KakaoPayStandIn,
) -> None:
    capped = await client.post(
        f"{API}/events/{show.event_id}/ticket-types",
        json={"grade": "VIP", "name": "Student", "price": 88_000, "quantity_cap": 1},
        headers=show.seller.headers,
    )
    assert capped.status_code == 201, capped.text
    type_id = capped.json()["id"]
    refused = await _sold_out_while_lapsed(
        client,
        clock,
        show,
        fan,
        other,
        (toss, kakaopay),
        type=type_id,
    )
    body = assert_problem(refused, 422, "out_of_stock")
    assert (body["refunded"], body["order_status"], body["remaining"]) == (True, "failed", 0)
    sold = "SELECT count(*) FROM seating_seats WHERE ticket_type_id = :t AND status = 'sold'"
    assert await count_rows(runtime, sql=sold, t=type_id) == 1
    assert (toss.captured, toss.refunded) == (2 * 88_000, 88_000)


async def test_a_late_payment_with_a_code_used_up_since_is_refused_and_refunded(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    show: ShowSetup,
    fan: Caller,
    other: Caller,
    toss: TossStandIn,
    kakaopay: KakaoPayStandIn,
) -> None:
    created = await client.post(
        f"{API}/events/{show.event_id}/codes",
        json={"code": "ONCE-ONLY", "percent_off": 10, "max_uses": 1},
        headers=show.seller.headers,
    )
    assert created.status_code == 201, created.text
    refused = await _sold_out_while_lapsed(
        client, clock, show, fan, other, (toss, kakaopay), code="once-only"
    )
    body = assert_problem(refused, 422, "code_exhausted")
    assert (body["refunded"], body["order_status"], body["scope"]) == (True, "failed", "code")
    spent = "SELECT count(*) FROM seating_code_redemptions WHERE status = 'spent'"
    assert await count_rows(runtime, sql=spent) == 1
    assert toss.refunded == toss.captured // 2
