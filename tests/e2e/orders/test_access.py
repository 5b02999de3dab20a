"""Who may do what: another user cannot read, pay or cancel someone's order (404, one test
per route); Idempotency-Key replays; bad input is a clear problem, never a 500."""

from __future__ import annotations

import httpx

from tests.stubs.kakaopay import KakaoPayStandIn
from tests.stubs.toss import TossStandIn
from tests.support.api import API, Caller, assert_problem
from tests.support.catalog import ShowSetup
from tests.support.orders import hold_seats, new_order, pay, place_order


async def test_another_user_cannot_read_the_order(
    client: httpx.AsyncClient, show: ShowSetup, fan: Caller, other: Caller
) -> None:
    order = await new_order(client, fan, show)
    assert_problem(
        await client.get(f"{API}/orders/{order['id']}", headers=other.headers), 404, "not_found"
    )
    listed = (await client.get(f"{API}/users/me/orders", headers=other.headers)).json()
    assert listed["items"] == []


async def test_another_user_cannot_pay_the_order(
    client: httpx.AsyncClient, show: ShowSetup, fan: Caller, other: Caller
) -> None:
    order = await new_order(client, fan, show)
    response = await client.post(f"{API}/orders/{order['id']}/pay", headers=other.headers)
    assert_problem(response, 404, "not_found")


async def test_another_user_cannot_confirm_the_toss_payment(
    client: httpx.AsyncClient, show: ShowSetup, fan: Caller, other: Caller, toss: TossStandIn
) -> None:
    order = await new_order(client, fan, show, "toss")
    key = toss.authorize(order["id"], order["amount"])
    response = await client.post(
        f"{API}/payments/toss/confirm",
        json={"paymentKey": key, "orderId": order["id"], "amount": order["amount"]},
        headers=other.headers,
    )
    assert_problem(response, 404, "not_found")
    assert toss.captured == 0


async def test_another_user_cannot_cancel_the_order(
    client: httpx.AsyncClient,
    show: ShowSetup,
    fan: Caller,
    other: Caller,
    toss: TossStandIn,
    kakaopay: KakaoPayStandIn,
) -> None:
    order = await new_order(client, fan, show)
    await pay(client, fan, order, toss, kakaopay)
    response = await client.post(f"{API}/orders/{order['id']}/cancel", headers=other.headers)
    assert_problem(response, 404, "not_found")
    mine = (await client.get(f"{API}/orders/{order['id']}", headers=fan.headers)).json()
    assert mine["status"] == "paid"


async def test_another_users_hold_cannot_be_ordered(
    client: httpx.AsyncClient, show: ShowSetup, fan: Caller, other: Caller
) -> None:
    hold = await hold_seats(client, fan, show.show_id, show.seat_ids[:1])
    assert_problem(await place_order(client, other, hold["hold_id"]), 404, "not_found")


async def test_every_route_needs_a_signed_in_user(client: httpx.AsyncClient) -> None:
    for method, path in [
        ("POST", "/orders"),
        ("GET", "/orders/x"),
        ("GET", "/users/me/orders"),
        ("POST", "/orders/x/pay"),
        ("POST", "/orders/x/cancel"),
        ("POST", "/payments/toss/confirm"),
        ("GET", "/users/me/tickets"),
        ("GET", "/tickets/x"),
        ("GET", "/tickets/x/qr"),
        ("POST", "/checkin"),
    ]:
        response = await client.request(method, f"{API}{path}", json={})
        assert_problem(response, 401, "unauthorized")


async def test_same_key_same_body_same_order_else_conflict(
    client: httpx.AsyncClient, show: ShowSetup, fan: Caller
) -> None:
    hold = await hold_seats(client, fan, show.show_id, show.seat_ids[:2])
    first = await place_order(client, fan, hold["hold_id"], key="k-1")
    again = await place_order(client, fan, hold["hold_id"], key="k-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    other_body = await place_order(client, fan, hold["hold_id"], "toss", key="k-1")
    assert_problem(other_body, 409, "idempotency_conflict")
    reuse_hold = await place_order(client, fan, hold["hold_id"], key="k-2")
    assert_problem(reuse_hold, 409, "conflict")
    listed = (await client.get(f"{API}/users/me/orders", headers=fan.headers)).json()
    assert len(listed["items"]) == 1


async def test_bad_order_requests(client: httpx.AsyncClient, show: ShowSetup, fan: Caller) -> None:
    hold = await hold_seats(client, fan, show.show_id, show.seat_ids[:1])
    no_key = await client.post(
        f"{API}/orders", json={"hold_id": hold["hold_id"]}, headers=fan.headers
    )
    assert_problem(no_key, 400, "bad_request")
    assert_problem(await place_order(client, fan, None), 422, "validation_error")
    assert_problem(
        await place_order(client, fan, hold["hold_id"], "paypal"), 422, "validation_error"
    )
    assert_problem(await place_order(client, fan, "no-such-hold"), 404, "not_found")
    bad_confirm = await client.post(
        f"{API}/payments/toss/confirm",
        json={"paymentKey": "k", "orderId": "bad id!", "amount": -1},
        headers=fan.headers,
    )
    assert_problem(bad_confirm, 422, "validation_error")


async def test_orders_are_paginated_newest_first(
    client: httpx.AsyncClient, show: ShowSetup, fan: Caller
) -> None:
    ids = [(await new_order(client, fan, show, seats=1, offset=n))["id"] for n in range(3)]
    first = (await client.get(f"{API}/users/me/orders?limit=2", headers=fan.headers)).json()
    assert [o["id"] for o in first["items"]] == ids[::-1][:2]
    rest = (
        await client.get(
            f"{API}/users/me/orders",
            params={"limit": 2, "cursor": first["next_cursor"]},
            headers=fan.headers,
        )
    ).json()
    assert [o["id"] for o in rest["items"]] == [ids[0]]
    assert rest["next_cursor"] is None
