"""Cached reads see every change at once; view counts survive flushes that race new views.

Each test runs with the in-memory adapters and against real Redis.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import text

from boxoffice.catalog import service as catalog
from boxoffice.catalog.adapters import adapters
from boxoffice.platform.runtime import Runtime
from tests.support.api import API, assert_problem
from tests.support.catalog import image_bytes, open_show

REDIS_OR_MEMORY = pytest.mark.parametrize("use_redis", [False, True], ids=["memory", "redis"])


async def _db_title(runtime: Runtime, event_id: str, title: str) -> None:
    """Change the database behind the cache's back (proves a read really came from the cache)."""
    async with runtime.uow() as uow:
        await uow.session.execute(
            text("UPDATE catalog_events SET title = :t WHERE id = :id"),
            {"t": title, "id": event_id},
        )
        await uow.commit()


async def _stored_views(runtime: Runtime, event_id: str) -> int:
    async with runtime.uow() as uow:
        value = await uow.session.scalar(
            text("SELECT view_count FROM catalog_events WHERE id = :id"), {"id": event_id}
        )
    return int(value)


@REDIS_OR_MEMORY
async def test_every_change_is_visible_on_the_next_read(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    setup = await open_show(client, runtime)
    seller, url = setup.seller, f"{API}/events/{setup.event_id}"
    first = await client.get(url)
    assert first.json()["title"] == "IU HEREH World Tour"
    listing = (await client.get(f"{API}/events")).json()
    assert [i["title"] for i in listing["items"]] == ["IU HEREH World Tour"]

    await _db_title(runtime, setup.event_id, "changed behind the cache")
    assert (await client.get(url)).json()["title"] == "IU HEREH World Tour"  # served from cache
    assert (await client.get(f"{API}/events")).json() == listing

    edited = await client.patch(url, json={"title": "IU: The Winning"}, headers=seller.headers)
    assert edited.status_code == 200
    assert (await client.get(url)).json()["title"] == "IU: The Winning"
    items = (await client.get(f"{API}/events")).json()["items"]
    assert [i["title"] for i in items] == ["IU: The Winning"]

    starts_at = (runtime.clock.now() + timedelta(days=45)).isoformat()
    show = await client.post(f"{url}/shows", json={"starts_at": starts_at}, headers=seller.headers)
    assert show.status_code == 201
    assert len((await client.get(url)).json()["shows"]) == 2
    assert (await client.get(f"{API}/events")).json()["items"][0]["last_starts_at"] is not None

    image = await client.post(
        f"{url}/images",
        files={"file": ("p.png", image_bytes(), "image/png")},
        data={"kind": "poster"},
        headers=seller.headers,
    )
    assert image.status_code == 201
    assert (await client.get(url)).json()["poster_url"] == image.json()["url"]
    assert (await client.get(f"{API}/events")).json()["items"][0]["poster_url"] == image.json()[
        "url"
    ]

    show_url = f"{API}/shows/{setup.show_id}"
    assert (await client.get(show_url)).json()["max_tickets_per_user"] == 4
    async with runtime.uow() as uow:
        info = await catalog.show_sale_info(uow, setup.show_id, runtime=runtime)
    assert info is not None
    assert info.max_tickets_per_user == 4
    await client.patch(
        url, json={"max_tickets_per_user": 2, "hold_minutes": 5}, headers=seller.headers
    )
    assert (await client.get(show_url)).json()["max_tickets_per_user"] == 2
    async with runtime.uow() as uow:
        info = await catalog.show_sale_info(uow, setup.show_id, runtime=runtime)
    assert info is not None
    assert (info.max_tickets_per_user, info.hold_minutes) == (2, 5)

    cancelled = await client.post(f"{url}/cancel", json={"reason": "venue"}, headers=seller.headers)
    assert cancelled.status_code == 200
    assert (await client.get(url)).json()["status"] == "cancelled"
    assert (await client.get(f"{API}/events")).json()["items"] == []
    async with runtime.uow() as uow:
        info = await catalog.show_sale_info(uow, setup.show_id, runtime=runtime)
    assert info is not None
    assert info.event_status == "cancelled"
    assert not info.sale_open_at(runtime.clock.now())


@REDIS_OR_MEMORY
async def test_views_count_without_database_writes_and_flush_into_it(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    setup = await open_show(client, runtime)
    url = f"{API}/events/{setup.event_id}"
    counts = [(await client.get(url)).json()["view_count"] for _ in range(5)]
    assert counts == [1, 2, 3, 4, 5]
    assert await _stored_views(runtime, setup.event_id) == 0  # the hot path wrote nothing

    assert await catalog.flush_view_counts(runtime) == 5
    assert await _stored_views(runtime, setup.event_id) == 5
    assert (await client.get(url)).json()["view_count"] == 6
    assert await catalog.flush_view_counts(runtime) == 1
    assert await catalog.flush_view_counts(runtime) == 0
    assert await _stored_views(runtime, setup.event_id) == 6

    # Drafts are not counted, and the seller's own edits are not views.
    await client.patch(url, json={"title": "x"}, headers=setup.seller.headers)
    assert (await client.get(url)).json()["view_count"] == 7


@REDIS_OR_MEMORY
async def test_flushes_racing_views_lose_nothing(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    first = await open_show(client, runtime)
    second = await open_show(client, runtime)
    events = [first.event_id, second.event_id]
    views_per_event = 150

    async def view(event_id: str) -> None:
        response = await client.get(f"{API}/events/{event_id}")
        assert response.status_code == 200

    async def flusher() -> int:
        written = 0
        for _ in range(8):
            written += await catalog.flush_view_counts(runtime)
            await asyncio.sleep(0)
        return written

    tasks = [view(e) for e in events for _ in range(views_per_event)]
    results = await asyncio.gather(*tasks, flusher(), flusher(), flusher())
    written = sum(r for r in results if isinstance(r, int))
    written += await catalog.flush_view_counts(runtime)
    assert written == views_per_event * len(events)
    for event_id in events:
        assert await _stored_views(runtime, event_id) == views_per_event


@REDIS_OR_MEMORY
async def test_a_flush_that_dies_after_its_commit_is_not_counted_twice(
    client: httpx.AsyncClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup = await open_show(client, runtime)
    for _ in range(3):
        await client.get(f"{API}/events/{setup.event_id}")
    views = adapters(runtime).views

    async def crash(batch_id: str) -> None:
        raise ConnectionError("redis went away after the database commit")

    monkeypatch.setattr(views, "finish_batch", crash)
    with pytest.raises(ConnectionError):
        await catalog.flush_view_counts(runtime)
    assert await _stored_views(runtime, setup.event_id) == 3
    await client.get(f"{API}/events/{setup.event_id}")  # a view after the crash
    monkeypatch.undo()

    assert await catalog.flush_view_counts(runtime) == 1  # the old batch is recognised
    assert await _stored_views(runtime, setup.event_id) == 4
    assert (await client.get(f"{API}/events/{setup.event_id}")).json()["view_count"] == 5


async def test_unknown_show_and_event_reads(client: httpx.AsyncClient, runtime: Runtime) -> None:
    async with runtime.uow() as uow:
        assert await catalog.show_sale_info(uow, "nope", runtime=runtime) is None
        assert await catalog.show_sale_info(uow, "nope") is None
        assert await catalog.event_summary(uow, "nope") is None
    assert_problem(await client.get(f"{API}/events/nope"), 404, "not_found")


async def test_event_summary_for_merch(client: httpx.AsyncClient, runtime: Runtime) -> None:
    setup = await open_show(client, runtime)
    async with runtime.uow() as uow:
        summary = await catalog.event_summary(uow, setup.event_id)
    assert summary is not None
    assert (summary.id, summary.event_id, summary.seller_id) == (
        setup.event_id,
        setup.event_id,
        setup.seller.id,
    )
    assert (summary.status, summary.currency, summary.venue_id) == (
        "published",
        "KRW",
        setup.venue_id,
    )
