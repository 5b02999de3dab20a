"""Comps racing holds and each other for the same seats: the database gives each seat once."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from boxoffice.platform.runtime import Runtime
from tests.support.api import API, Caller, customer
from tests.support.catalog import ShowSetup
from tests.support.orders import count_rows

RACERS = 8


async def _sold_or_held(runtime: Runtime, show_id: str, seat_ids: list[str]) -> int:
    return await count_rows(
        runtime,
        "SELECT count(*) FROM seating_seats WHERE show_id = :s AND seat_id IN (:a, :b, :c, :d)"
        " AND status IN ('sold', 'held')",
        s=show_id,
        **dict(zip("abcd", seat_ids, strict=True)),
    )


async def _comp_orders(runtime: Runtime, show_id: str) -> int:
    return await count_rows(
        runtime,
        "SELECT count(*) FROM orders_orders WHERE show_id = :s AND provider = 'comp'",
        s=show_id,
    )


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_comps_and_holds_racing_for_the_same_seats_give_them_once(
    client: httpx.AsyncClient, runtime: Runtime, show: ShowSetup, other: Caller
) -> None:
    sid, seller = show.show_id, show.seller.headers
    wanted = show.seat_ids[:4]
    fans = [await customer(client, f"racer{i}") for i in range(RACERS)]
    comp = {"seat_ids": wanted, "recipient_email": other.email}
    requests = [
        client.post(f"{API}/shows/{sid}/comps", json=comp, headers=seller) for _ in range(RACERS)
    ] + [
        client.post(f"{API}/shows/{sid}/holds", json={"seat_ids": wanted}, headers=f.headers)
        for f in fans
    ]
    answers = await asyncio.gather(*requests)
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201] + [409] * (2 * RACERS - 1), statuses
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"seat_unavailable"}
    assert await _sold_or_held(runtime, sid, wanted) == 4
    comp_won = [a.status_code for a in answers].index(201) < RACERS
    assert await _comp_orders(runtime, sid) == (1 if comp_won else 0)
    tickets = await count_rows(
        runtime, "SELECT count(*) FROM tickets_tickets WHERE show_id = :s", s=sid
    )
    assert tickets == (4 if comp_won else 0)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_racing_comps_of_blocked_seats_issue_them_once(
    client: httpx.AsyncClient, runtime: Runtime, show: ShowSetup, other: Caller, fan: Caller
) -> None:
    sid, seller = show.show_id, show.seller.headers
    house = show.seat_ids[4:8]
    blocked = await client.post(
        f"{API}/shows/{sid}/blocks", json={"seat_ids": house}, headers=seller
    )
    assert blocked.status_code == 200, blocked.text
    recipients = [other, fan]
    answers = await asyncio.gather(
        *(
            client.post(
                f"{API}/shows/{sid}/comps",
                json={"seat_ids": house, "recipient_email": recipients[i % 2].email},
                headers=seller,
            )
            for i in range(2 * RACERS)
        )
    )
    assert sorted(a.status_code for a in answers) == [201] + [409] * (2 * RACERS - 1)
    assert await _comp_orders(runtime, sid) == 1
    assert await _sold_or_held(runtime, sid, house) == 4
    tickets = await count_rows(
        runtime, "SELECT count(*) FROM tickets_tickets WHERE show_id = :s", s=sid
    )
    assert tickets == 4
