"""Per-event or per-show purchase limits, the seller's choice, over HTTP."""

from __future__ import annotations

from datetime import timedelta

import httpx

from boxoffice.platform.runtime import Runtime
from tests.support.api import API, Caller, assert_problem
from tests.support.catalog import ShowSetup


async def second_night(client: httpx.AsyncClient, runtime: Runtime, show: ShowSetup) -> str:
    starts_at = runtime.clock.now() + timedelta(days=41)
    created = await client.post(
        f"{API}/events/{show.event_id}/shows",
        json={"starts_at": starts_at.isoformat()},
        headers=show.seller.headers,
    )
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


async def hold(
    client: httpx.AsyncClient, fan: Caller, show_id: str, seats: list[str]
) -> httpx.Response:
    return await client.post(
        f"{API}/shows/{show_id}/holds", json={"seat_ids": seats}, headers=fan.headers
    )


async def test_a_limit_per_event_counts_every_night_and_per_show_each_night(
    client: httpx.AsyncClient, runtime: Runtime, show: ShowSetup, fan: Caller, other: Caller
) -> None:
    event = (await client.get(f"{API}/events/{show.event_id}")).json()
    assert event["purchase_limit_scope"] == "show"
    night = await second_night(client, runtime, show)
    seats = show.seat_ids
    assert (await hold(client, other, show.show_id, seats[:4])).status_code == 201
    assert (await hold(client, other, night, seats[:4])).status_code == 201  # per show: fine

    changed = await client.patch(
        f"{API}/events/{show.event_id}",
        json={"purchase_limit_scope": "event"},
        headers=show.seller.headers,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["purchase_limit_scope"] == "event"
    assert (await hold(client, fan, show.show_id, seats[4:7])).status_code == 201
    refused = await hold(client, fan, night, seats[4:6])
    problem = assert_problem(refused, 422, "purchase_limit_exceeded")
    assert (problem["limit"], problem["owned"], problem["scope"]) == (4, 3, "event")
    assert (await hold(client, fan, night, seats[8:9])).status_code == 201
    bad = await client.patch(
        f"{API}/events/{show.event_id}",
        json={"purchase_limit_scope": "season"},
        headers=show.seller.headers,
    )
    assert_problem(bad, 422, "validation_error")
