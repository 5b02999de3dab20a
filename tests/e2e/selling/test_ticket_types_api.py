"""Ticket types over HTTP: the seller adds prices per grade, the buyer picks one per seat,
the server prices every seat from the type, through the order and its tickets."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from boxoffice.platform.runtime import Runtime
from tests.support.api import API, Caller, assert_problem, customer
from tests.support.catalog import ShowSetup
from tests.support.orders import place_order


async def add_type(client: httpx.AsyncClient, show: ShowSetup, **body: Any) -> httpx.Response:
    body = {"grade": "VIP", "name": "Student", "price": 88_000, **body}
    return await client.post(
        f"{API}/events/{show.event_id}/ticket-types", json=body, headers=show.seller.headers
    )


async def typed_hold(
    client: httpx.AsyncClient, fan: Caller, show: ShowSetup, types: dict[str, str]
) -> httpx.Response:
    body = {"seat_ids": list(types), "ticket_types": {k: v for k, v in types.items() if v}}
    return await client.post(f"{API}/shows/{show.show_id}/holds", json=body, headers=fan.headers)


async def test_a_seat_bought_at_a_type_is_priced_from_the_type_to_the_ticket(
    client: httpx.AsyncClient, show: ShowSetup, fan: Caller
) -> None:
    created = await add_type(
        client, show, eligibility_note="Student ID checked at the door", quantity_cap=100
    )
    assert created.status_code == 201, created.text
    student = created.json()
    assert student["eligibility_note"] == "Student ID checked at the door"
    listed = await client.get(f"{API}/events/{show.event_id}/ticket-types")
    assert [t["id"] for t in listed.json()] == [student["id"]]

    seats = show.seat_ids[:2]  # VIP seats
    held = await typed_hold(client, fan, show, {seats[0]: student["id"], seats[1]: ""})
    assert held.status_code == 201, held.text
    hold = held.json()
    assert hold["amount"] == 88_000 + 165_000
    assert hold["seats"][0]["ticket_type_name"] == "Student"
    assert hold["seats"][1]["ticket_type_id"] is None

    order = await place_order(client, fan, hold["hold_id"])
    assert order.status_code == 201, order.text
    assert order.json()["amount"] == 88_000 + 165_000
    paid = await client.post(f"{API}/orders/{order.json()['id']}/pay", headers=fan.headers)
    assert paid.status_code == 200, paid.text
    lines = {line["ref"]: line for line in paid.json()["lines"]}
    assert lines[seats[0]]["unit_price"] == 88_000
    assert "Student" in lines[seats[0]]["description"]
    assert lines[seats[1]]["unit_price"] == 165_000


async def test_types_a_seat_cannot_have_are_refused_with_stable_codes(
    client: httpx.AsyncClient, show: ShowSetup, fan: Caller, runtime: Runtime
) -> None:
    later = runtime.clock.now() + timedelta(days=2)
    early = (await add_type(client, show, name="Late", available_from=later.isoformat())).json()
    vip_only = (await add_type(client, show, name="VIP student")).json()
    hidden = (await add_type(client, show, name="Fan club", hidden=True)).json()
    r_seat = show.seat_ids[-1]  # an R seat
    refused = await typed_hold(client, fan, show, {show.seat_ids[0]: early["id"]})
    assert assert_problem(refused, 422, "ticket_type_unavailable")["ticket_type_id"] == early["id"]
    refused = await typed_hold(client, fan, show, {r_seat: vip_only["id"]})
    assert assert_problem(refused, 422, "ticket_type_unavailable")["seat_ids"] == [r_seat]
    refused = await typed_hold(client, fan, show, {show.seat_ids[0]: hidden["id"]})
    assert_problem(refused, 422, "ticket_type_unavailable")
    listed = (await client.get(f"{API}/events/{show.event_id}/ticket-types")).json()
    assert hidden["id"] not in {t["id"] for t in listed}
    mine = await client.get(
        f"{API}/events/{show.event_id}/ticket-types", headers=show.seller.headers
    )
    assert hidden["id"] in {t["id"] for t in mine.json()}


async def test_a_capped_type_says_out_of_stock_and_only_the_seller_changes_types(
    client: httpx.AsyncClient, show: ShowSetup, fan: Caller, other: Caller
) -> None:
    capped = (await add_type(client, show, quantity_cap=1)).json()
    first = await typed_hold(client, fan, show, {show.seat_ids[0]: capped["id"]})
    assert first.status_code == 201, first.text
    second = await typed_hold(client, other, show, {show.seat_ids[1]: capped["id"]})
    assert assert_problem(second, 422, "out_of_stock")["remaining"] == 0

    stranger = await customer(client, "stranger")
    patch = {"price": 1}
    denied = await client.patch(
        f"{API}/ticket-types/{capped['id']}", json=patch, headers=stranger.headers
    )
    assert denied.status_code == 403
    bad_grade = await add_type(client, show, grade="NOPE")
    assert_problem(bad_grade, 422, "validation_error")
    changed = await client.patch(
        f"{API}/ticket-types/{capped['id']}", json={"active": False}, headers=show.seller.headers
    )
    assert changed.status_code == 200, changed.text
    third = await typed_hold(client, other, show, {show.seat_ids[2]: capped["id"]})
    assert_problem(third, 422, "ticket_type_unavailable")
