"""Complimentary tickets over HTTP: the seller gives blocked or free seats to an account."""

from __future__ import annotations

import httpx

from boxoffice.platform.runtime import Runtime
from tests.support.api import API, Caller, assert_problem
from tests.support.catalog import ShowSetup
from tests.support.orders import KakaoPayStandIn, TossStandIn, count_rows, new_order, pay


async def test_comps_issue_tickets_to_the_recipient_and_are_counted_apart_from_sales(
    client: httpx.AsyncClient,
    runtime: Runtime,
    show: ShowSetup,
    fan: Caller,
    other: Caller,
    toss: TossStandIn,
    kakaopay: KakaoPayStandIn,
) -> None:
    seller, sid = show.seller.headers, show.show_id
    sold = await pay(client, fan, await new_order(client, fan, show, seats=1), toss, kakaopay)
    assert sold.status_code == 200, sold.text
    sales_url = f"{API}/shows/{sid}/sales"
    before = (await client.get(sales_url, headers=seller)).json()
    press = show.seat_ids[2:4]
    blocked = await client.post(
        f"{API}/shows/{sid}/blocks", json={"seat_ids": press}, headers=seller
    )
    assert blocked.status_code == 200, blocked.text

    body = {"seat_ids": [*press, show.seat_ids[5]], "recipient_email": other.email, "note": "press"}
    comp = await client.post(f"{API}/shows/{sid}/comps", json=body, headers=seller)
    assert comp.status_code == 201, comp.text
    order = comp.json()
    assert (order["status"], order["amount"], order["payment"]["provider"]) == ("paid", 0, "comp")
    assert order["payment"]["note"] == "press"
    assert sorted(line["ref"] for line in order["lines"]) == sorted(body["seat_ids"])
    assert {line["unit_price"] for line in order["lines"]} == {0}
    assert len(order["ticket_ids"]) == 3

    mine = (await client.get(f"{API}/users/me/tickets", headers=other.headers)).json()["items"]
    assert {t["id"] for t in mine} == set(order["ticket_ids"])
    assert {t["price"] for t in mine} == {0}
    seen = await client.get(f"{API}/orders/{order['id']}", headers=other.headers)
    assert seen.status_code == 200
    assert seen.json()["ticket_ids"] == order["ticket_ids"]
    seats = (await client.get(f"{API}/shows/{sid}/seats")).json()["seats"]
    assert {s["status"] for s in seats if s["id"] in body["seat_ids"]} == {"sold"}
    in_db = await count_rows(
        runtime,
        "SELECT count(*) FROM seating_seats"
        " WHERE show_id = :s AND order_id = :o AND status = 'sold'",
        s=sid,
        o=order["id"],
    )
    assert in_db == 3

    after = (await client.get(sales_url, headers=seller)).json()
    assert (after["paid_orders"], after["tickets_sold"]) == (1, 1)
    assert after["revenue"] == before["revenue"] == show.grade_prices["VIP"]
    assert (before["comp_tickets"], after["comp_tickets"]) == (0, 3)
    assert sum(after["orders_per_minute"]) == 1

    # The recipient may give the tickets back: the seats return to the sale, nothing refunded.
    back = await client.post(
        f"{API}/orders/{order['id']}/cancel", json={"reason": "cannot come"}, headers=other.headers
    )
    assert back.status_code == 200, back.text
    assert back.json()["refunded_amount"] == 0
    final = (await client.get(sales_url, headers=seller)).json()
    assert (final["comp_tickets"], final["revenue"]) == (0, before["revenue"])
    held = await client.post(
        f"{API}/shows/{sid}/holds", json={"seat_ids": press[:1]}, headers=fan.headers
    )
    assert held.status_code == 201, held.text


async def test_comp_refusals(
    client: httpx.AsyncClient, show: ShowSetup, fan: Caller, other: Caller
) -> None:
    seller, url = show.seller.headers, f"{API}/shows/{show.show_id}/comps"
    held = await client.post(
        f"{API}/shows/{show.show_id}/holds",
        json={"seat_ids": show.seat_ids[:1]},
        headers=fan.headers,
    )
    assert held.status_code == 201
    body = {"seat_ids": show.seat_ids[:2], "recipient_email": other.email}
    taken = assert_problem(
        await client.post(url, json=body, headers=seller), 409, "seat_unavailable"
    )
    assert taken["seat_ids"] == show.seat_ids[:1]
    unknown = {"seat_ids": show.seat_ids[1:2], "recipient_email": "nobody@example.com"}
    assert_problem(await client.post(url, json=unknown, headers=seller), 404, "not_found")
    assert (await client.post(url, json=body, headers=other.headers)).status_code == 403
    missing = await client.post(f"{API}/shows/nope/comps", json=body, headers=seller)
    assert missing.status_code == 404
    empty = {"seat_ids": [], "recipient_email": other.email}
    assert_problem(await client.post(url, json=empty, headers=seller), 422, "validation_error")
    # Nothing was given by the refusals: the free seat is still free.
    free = {"seat_ids": show.seat_ids[1:2], "recipient_email": other.email}
    assert (await client.post(url, json=free, headers=seller)).status_code == 201
