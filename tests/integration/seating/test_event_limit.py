"""A purchase limit across an event's shows: one buyer racing on two nights at once never
ends up past the event's limit (counted in the database)."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from sqlalchemy import text

from boxoffice.platform.ids import new_id
from boxoffice.platform.runtime import Runtime
from boxoffice.seating.errors import PurchaseLimitExceeded, SeatUnavailable
from tests.integration.seating.conftest import OnSale
from tests.support.seating import make_inventory, sale_info

LIMIT = 4


async def nights(runtime: Runtime, scope: str) -> list[OnSale]:
    event_id = new_id()
    shows = []
    for _ in range(2):
        show_id = new_id()
        seats = await make_inventory(runtime, show_id, event_id, 40)
        info = sale_info(show_id, event_id, now=runtime.clock.now(), limit=LIMIT)
        shows.append(OnSale(replace(info, limit_scope=scope), seats))
    return shows


async def seats_of(runtime: Runtime, user_id: str) -> int:
    async with runtime.uow() as uow:
        found = await uow.session.execute(
            text("SELECT count(*) FROM seating_seats WHERE holder_id = :u AND status = 'held'"),
            {"u": user_id},
        )
        return int(found.scalar_one())


@pytest.mark.parametrize("use_redis", [False, True])
@pytest.mark.parametrize("backend", ["sqlite", "postgresql", "mariadb"])
async def test_one_buyer_racing_on_every_night_stays_within_the_events_limit(
    runtime: Runtime,
) -> None:
    first, second = await nights(runtime, "event")
    buyer = new_id()
    requests = [(night, night.seat_ids[i : i + 2]) for night in (first, second) for i in (0, 4, 8)]

    async def attempt(night: OnSale, seat_ids: list[str]) -> object:
        try:
            return await night.hold(runtime, seat_ids, buyer)
        except (PurchaseLimitExceeded, SeatUnavailable) as refused:
            return refused

    outcomes = await asyncio.gather(*(attempt(n, s) for n, s in requests))
    assert sum(not isinstance(o, Exception) for o in outcomes) == LIMIT // 2
    assert await seats_of(runtime, buyer) == LIMIT
    refused = [o for o in outcomes if isinstance(o, PurchaseLimitExceeded)]
    assert len(refused) == len(requests) - LIMIT // 2
    assert {r.extra["scope"] for r in refused} == {"event"}


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_a_per_show_limit_lets_the_buyer_reach_it_on_every_night(runtime: Runtime) -> None:
    first, second = await nights(runtime, "show")
    buyer = new_id()
    await first.hold(runtime, first.seat_ids[:LIMIT], buyer)
    await second.hold(runtime, second.seat_ids[:LIMIT], buyer)
    assert await seats_of(runtime, buyer) == 2 * LIMIT
