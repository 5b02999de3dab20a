"""Standing areas over HTTP: a venue with seats and a standing floor, places sold by
quantity through the same holds, orders and tickets, never past the capacity."""

from __future__ import annotations

from typing import Any

import httpx

from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Role
from tests.support.api import API, Caller, assert_problem, user_with_role
from tests.support.catalog import ensure_categories, published_event


def venue(*sections: dict[str, Any]) -> dict[str, Any]:
    return {"name": "Olympic Hall", "address": "Seoul", "sections": list(sections)}


SEATED = {"name": "VIP", "grade": "VIP", "rows": [{"label": "A", "seats": 4}]}
FLOOR = {"name": "Floor", "grade": "R", "capacity": 5}


async def test_standing_places_are_sold_by_quantity_and_never_past_capacity(
    client: httpx.AsyncClient, runtime: Runtime, fan: Caller, other: Caller
) -> None:
    await ensure_categories(runtime)
    seller = await user_with_role(client, runtime, Role.SELLER)
    made = await client.post(f"{API}/venues", json=venue(SEATED, FLOOR), headers=seller.headers)
    assert made.status_code == 201, made.text
    assert made.json()["seat_count"] == 9
    event_id = await published_event(
        client, runtime, seller, made.json()["id"], grades=(("VIP", 165_000), ("R", 99_000))
    )
    show_id = (await client.get(f"{API}/events/{event_id}")).json()["shows"][0]["id"]
    vip_seat = made.json()["sections"][0]["rows"][0]["seats"][0]["id"]

    body = {"seat_ids": [vip_seat], "standing": [{"section": "Floor", "quantity": 2}]}
    held = await client.post(f"{API}/shows/{show_id}/holds", json=body, headers=fan.headers)
    assert held.status_code == 201, held.text
    assert held.json()["amount"] == 165_000 + 2 * 99_000
    assert [s["section"] for s in held.json()["seats"]] == ["VIP", "Floor", "Floor"]
    order = await client.post(
        f"{API}/orders",
        json={"hold_id": held.json()["hold_id"], "items": [], "payment_provider": "internal"},
        headers={**fan.headers, "Idempotency-Key": "standing-1"},
    )
    assert order.status_code == 201, order.text
    paid = await client.post(f"{API}/orders/{order.json()['id']}/pay", headers=fan.headers)
    assert paid.status_code == 200, paid.text

    too_many = {"standing": [{"section": "Floor", "quantity": 4}]}
    refused = await client.post(
        f"{API}/shows/{show_id}/holds", json=too_many, headers=other.headers
    )
    problem = assert_problem(refused, 422, "out_of_stock")
    assert (problem["section"], problem["remaining"]) == ("Floor", 3)
    rest = {"standing": [{"section": "Floor", "quantity": 3}]}
    last = await client.post(f"{API}/shows/{show_id}/holds", json=rest, headers=other.headers)
    assert last.status_code == 201, last.text
    unknown = {"standing": [{"section": "Lawn", "quantity": 1}]}
    missing = await client.post(f"{API}/shows/{show_id}/holds", json=unknown, headers=fan.headers)
    assert_problem(missing, 422, "validation_error")
    empty = await client.post(f"{API}/shows/{show_id}/holds", json={}, headers=fan.headers)
    assert_problem(empty, 422, "validation_error")


async def test_a_section_is_numbered_or_standing_and_the_standing_label_is_reserved(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    seller = await user_with_role(client, runtime, Role.SELLER)
    both = {**SEATED, "capacity": 10}
    neither = {"name": "Lawn", "grade": "R"}
    reserved = {"name": "Odd", "grade": "R", "rows": [{"label": "~", "seats": 2}]}
    for section in (both, neither, reserved):
        answer = await client.post(f"{API}/venues", json=venue(section), headers=seller.headers)
        assert_problem(answer, 422, "validation_error")
