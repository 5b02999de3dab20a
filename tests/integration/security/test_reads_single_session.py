"""Defect 4: a read never holds two database sessions. With a pool of one connection and
every cache cold, holds and orders read back at once (each offering the event's goods, which
a cache miss lists from the database) all complete: a request that opened a second session
while holding its first would wait for the pool (30 s) or SQLite's lock behind itself."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest
from asgi_lifespan import LifespanManager

from boxoffice.app import create_app
from boxoffice.platform.config import Settings
from boxoffice.platform.runtime import Runtime
from tests.support.api import API, customer
from tests.support.catalog import open_show
from tests.support.merch import create_product
from tests.support.orders import hold_seats, place_order

CONCURRENT = 16
HANG_GUARD_SECONDS = 20  # well under the pool's 30 s wait: a nested session fails, not stalls


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(database_pool_size=1)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_hold_and_order_reads_with_one_connection_and_cold_caches(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings
) -> None:
    show = await open_show(client, runtime)
    await create_product(client, show.seller, show.event_id)
    fan = await customer(client)
    hold = await hold_seats(client, fan, show.show_id, show.seat_ids[:1])
    ordered = await hold_seats(client, fan, show.show_id, show.seat_ids[1:2])
    order = await place_order(client, fan, ordered["hold_id"])
    assert order.status_code == 201, order.text
    paths = [f"{API}/holds/{hold['hold_id']}", f"{API}/orders/{order.json()['id']}"]

    fresh = create_app(settings, background=False)  # a new process's caches: all cold
    async with LifespanManager(fresh) as manager:
        transport = httpx.ASGITransport(app=manager.app, client=("203.0.113.10", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as cold:
            reads = [
                cold.get(paths[i % 2], headers=fan.headers, timeout=60) for i in range(CONCURRENT)
            ]
            answers = await asyncio.wait_for(asyncio.gather(*reads), HANG_GUARD_SECONDS)
    assert [a.status_code for a in answers] == [200] * CONCURRENT, [a.text for a in answers]
    offered = [a.json()["suggested_products"] for a in answers]
    assert all(len(products) == 1 for products in offered), offered
