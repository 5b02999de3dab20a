"""No N+1: a 50-event listing and an event detail cost the same number of SQL statements
whatever the number of events, shows, grades and images (counted at the cursor)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from boxoffice.catalog.adapters import adapters
from boxoffice.platform.cache import NullCache
from boxoffice.platform.runtime import Runtime
from tests.conftest import BACKENDS
from tests.support.api import API, Caller
from tests.support.catalog import counting, create_venue, image_bytes, published_event


async def _count(client: httpx.AsyncClient, runtime: Runtime, url: str) -> int:
    with counting(runtime) as statements:
        response = await client.get(url)
    assert response.status_code == 200, response.text
    return len(statements)


async def _add_events(
    client: httpx.AsyncClient,
    runtime: Runtime,
    seller: Caller,
    venue_id: str,
    count: int,
    start: int,
) -> list[str]:
    return [
        await published_event(
            client, runtime, seller, venue_id, days=(10 + start + i,), title=f"Show {start + i}"
        )
        for i in range(count)
    ]


@pytest.mark.parametrize("backend", BACKENDS)
async def test_listing_and_detail_statements_stay_constant(
    client: httpx.AsyncClient, runtime: Runtime, seller: Caller
) -> None:
    adapters(runtime).cache = NullCache()  # count the database work of every read
    venue = await create_venue(client, seller, rows=2, seats_per_row=2)
    first = await _add_events(client, runtime, seller, venue["id"], 3, 0)
    small_listing = await _count(client, runtime, f"{API}/events?limit=50")
    small_detail = await _count(client, runtime, f"{API}/events/{first[0]}")

    more = await _add_events(client, runtime, seller, venue["id"], 52, 3)
    # The detail event grows too: more shows and images.
    for day in (70, 71, 72):
        starts_at = (runtime.clock.now() + timedelta(days=day)).isoformat()
        response = await client.post(
            f"{API}/events/{first[0]}/shows", json={"starts_at": starts_at}, headers=seller.headers
        )
        assert response.status_code == 201
    for kind in ("poster", "detail", "detail"):
        response = await client.post(
            f"{API}/events/{first[0]}/images",
            files={"file": ("a.png", image_bytes("PNG", (40, 40)), "image/png")},
            data={"kind": kind},
            headers=seller.headers,
        )
        assert response.status_code == 201
    page = (await client.get(f"{API}/events?limit=50")).json()
    assert len(page["items"]) == 50
    assert page["next_cursor"] is not None
    assert len(more) == 52

    assert await _count(client, runtime, f"{API}/events?limit=50") == small_listing
    assert await _count(client, runtime, f"{API}/events/{first[0]}") == small_detail
    assert small_listing <= 5  # begin + page + prices + posters (+ rollback on some drivers)
    assert small_detail <= 6  # begin + event + grades + shows + images
