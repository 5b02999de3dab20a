"""Standing areas below HTTP: 1,000 buyers racing for a standing area of 300 → exactly 300
places held and then sold, never more (counted in the database); seats and standing on
one show."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from boxoffice.catalog.contracts import STANDING_ROW, SeatSpec, ShowSaleInfo
from boxoffice.platform.ids import new_id
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.uow import UnitOfWork
from boxoffice.seating import adapters, holds
from boxoffice.seating import service as seating
from boxoffice.seating.contracts import HeldSeats
from boxoffice.seating.errors import SeatingBusy, UnknownSeats
from boxoffice.seating.standing import StandingSoldOut
from tests.support.seating import sale_info

CAPACITY, BUYERS = 300, 1000


async def standing_show(runtime: Runtime) -> ShowSaleInfo:
    show_id, event_id = new_id(), new_id()
    floor = [
        SeatSpec(f"floor-{n:04d}", "Floor", STANDING_ROW, str(n), "R") for n in range(CAPACITY)
    ]
    numbered = [SeatSpec(f"vip-{n}", "VIP", "A", str(n), "VIP") for n in range(10)]
    async with runtime.uow() as uow:
        await seating.create_show_inventory(uow, show_id, event_id, [*numbered, *floor])
        await uow.commit()
    return sale_info(show_id, event_id, now=runtime.clock.now())


async def hold(
    runtime: Runtime, info: ShowSaleInfo, seat_ids: list[str], standing: dict[str, int]
) -> HeldSeats:
    layout = await adapters.seating_of(runtime).snapshots.layout(info.show_id)

    async def refresh(_uow: UnitOfWork) -> ShowSaleInfo:
        return info

    request = holds.attempt(info, layout, new_id(), seat_ids, standing=standing)
    return await holds.hold(runtime, request, refresh)


async def places(runtime: Runtime, show_id: str, status: str) -> int:
    async with runtime.uow() as uow:
        found = await uow.session.execute(
            text(
                "SELECT count(*) FROM seating_seats WHERE show_id = :s AND row = :r"
                " AND status = :st"
            ),
            {"s": show_id, "r": STANDING_ROW, "st": status},
        )
        return int(found.scalar_one())


@pytest.mark.parametrize("use_redis", [False, True])
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_1000_buyers_never_take_more_than_a_standing_area_of_300(runtime: Runtime) -> None:
    info = await standing_show(runtime)

    async def attempt() -> HeldSeats | Exception:
        try:
            return await hold(runtime, info, [], {"Floor": 1})
        except (StandingSoldOut, SeatingBusy) as refused:
            return refused

    outcomes = await asyncio.gather(*(attempt() for _ in range(BUYERS)))
    won = [o for o in outcomes if isinstance(o, HeldSeats)]
    assert len(won) == CAPACITY
    assert await places(runtime, info.show_id, "held") == CAPACITY
    held = [seat.seat_id for h in won for seat in h.seats]
    assert len(set(held)) == CAPACITY
    assert all(isinstance(o, StandingSoldOut) for o in outcomes if not isinstance(o, HeldSeats))

    async def pay(hold_id: str) -> None:
        async with runtime.uow() as uow:
            await seating.sell_hold(uow, runtime, hold_id, order_id=new_id(), info=info)
            await uow.commit()

    await asyncio.gather(*(pay(h.hold_id) for h in won))
    assert await places(runtime, info.show_id, "sold") == CAPACITY
    with pytest.raises(StandingSoldOut) as refused:
        await hold(runtime, info, [], {"Floor": 1})
    assert refused.value.extra == {"section": "Floor", "remaining": 0}


@pytest.mark.parametrize("backend", ["sqlite", "postgresql", "mariadb"])
async def test_seats_and_standing_places_in_one_hold(runtime: Runtime) -> None:
    info = await standing_show(runtime)
    held = await hold(runtime, info, ["vip-1"], {"Floor": 3})
    assert held.seats[0].seat_id == "vip-1"
    assert [s.row for s in held.seats[1:]] == [STANDING_ROW] * 3
    assert held.amount == 165_000 + 3 * 132_000
    assert await places(runtime, info.show_id, "held") == 3
    with pytest.raises(UnknownSeats):
        await hold(runtime, info, [], {"Balcony": 1})
    with pytest.raises(UnknownSeats):
        await hold(runtime, info, [], {})
