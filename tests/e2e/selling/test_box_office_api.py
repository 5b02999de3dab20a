"""Box-office seats over HTTP: the seller holds seats back from the sale and releases them."""

from __future__ import annotations

import httpx

from tests.support.api import API, Caller, assert_problem
from tests.support.catalog import ShowSetup


async def statuses(client: httpx.AsyncClient, show: ShowSetup) -> dict[str, str]:
    seats = (await client.get(f"{API}/shows/{show.show_id}/seats")).json()["seats"]
    return {seat["id"]: seat["status"] for seat in seats}


async def test_blocked_seats_cannot_be_bought_until_the_seller_releases_them(
    client: httpx.AsyncClient, show: ShowSetup, fan: Caller, other: Caller
) -> None:
    seller, house = show.seller.headers, show.seat_ids[:2]
    blocks = f"{API}/shows/{show.show_id}/blocks"
    blocked = await client.post(blocks, json={"seat_ids": house, "reason": "press"}, headers=seller)
    assert blocked.status_code == 200, blocked.text
    assert blocked.json()["seat_ids"] == sorted(house)
    assert {(await statuses(client, show))[s] for s in house} == {"sold"}
    listed = await client.get(blocks, headers=seller)
    assert listed.json() == [{"seat_id": s, "reason": "press"} for s in house]

    body = {"seat_ids": house[:1]}
    refused = await client.post(f"{API}/shows/{show.show_id}/holds", json=body, headers=fan.headers)
    assert_problem(refused, 409, "seat_unavailable")
    held = await client.post(
        f"{API}/shows/{show.show_id}/holds",
        json={"seat_ids": show.seat_ids[2:3]},
        headers=fan.headers,
    )
    assert held.status_code == 201
    taken = await client.post(blocks, json={"seat_ids": show.seat_ids[1:3]}, headers=seller)
    assert assert_problem(taken, 409, "seat_unavailable")["seat_ids"] == show.seat_ids[1:3]
    denied = await client.post(blocks, json={"seat_ids": show.seat_ids[5:6]}, headers=other.headers)
    assert denied.status_code == 403

    released = await client.post(f"{blocks}/release", json={"seat_ids": house}, headers=seller)
    assert released.json()["seat_ids"] == sorted(house)
    assert {(await statuses(client, show))[s] for s in house} == {"available"}
    again = await client.post(f"{API}/shows/{show.show_id}/holds", json=body, headers=fan.headers)
    assert again.status_code == 201, again.text
