"""Ticket types below HTTP: a capped type is never sold past its cap, however many buyers
race for it, counted in the database; an expired hold gives its typed seats back."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from boxoffice.catalog.contracts import ShowSaleInfo, TicketTypeInfo
from boxoffice.platform.clock import FrozenClock
from boxoffice.platform.ids import new_id
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.uow import UnitOfWork
from boxoffice.seating import adapters, holds
from boxoffice.seating.contracts import HeldSeats
from boxoffice.seating.errors import TicketTypeSoldOut
from tests.integration.seating.conftest import OnSale

CAP = 10


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime.now(UTC).replace(microsecond=0))


def student(event_id: str) -> TicketTypeInfo:
    return TicketTypeInfo(new_id(), event_id, "VIP", "Student", 88_000, quantity_cap=CAP)


async def typed_hold(
    runtime: Runtime, on_sale: OnSale, seat_ids: list[str], kind: TicketTypeInfo | None
) -> HeldSeats:
    layout = await adapters.seating_of(runtime).snapshots.layout(on_sale.show_id)

    async def refresh(_uow: UnitOfWork) -> ShowSaleInfo:
        return on_sale.info

    typed = {seat_id: kind for seat_id in seat_ids} if kind else None
    request = holds.attempt(on_sale.info, layout, new_id(), seat_ids, typed)
    return await holds.hold(runtime, request, refresh)


async def typed_seats_taken(runtime: Runtime, show_id: str, type_id: str) -> int:
    async with runtime.uow() as uow:
        found = await uow.session.execute(
            text(
                "SELECT count(*) FROM seating_seats WHERE show_id = :s AND ticket_type_id = :t"
                " AND (status = 'sold' OR (status = 'held' AND hold_expires_at > :now))"
            ),
            {"s": show_id, "t": type_id, "now": runtime.clock.now()},
        )
        return int(found.scalar_one())


@pytest.mark.parametrize("use_redis", [False, True])
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_racing_buyers_never_take_a_capped_type_past_its_cap(
    runtime: Runtime, on_sale: OnSale
) -> None:
    kind = student(on_sale.info.event_id)
    vip = [s.seat_id for s in on_sale.seats if s.grade == "VIP"]  # 100 seats, no contention
    requests = [vip[i : i + 2] for i in range(0, 80, 2)]  # 40 buyers, 2 seats each

    async def attempt(seat_ids: list[str]) -> HeldSeats | TicketTypeSoldOut:
        try:
            return await typed_hold(runtime, on_sale, seat_ids, kind)
        except TicketTypeSoldOut as refused:
            return refused

    outcomes = await asyncio.gather(*(attempt(r) for r in requests))
    won = [o for o in outcomes if isinstance(o, HeldSeats)]
    assert len(won) == CAP // 2
    assert all(
        seat.price == 88_000 and seat.ticket_type_id == kind.id for h in won for seat in h.seats
    )
    refused = [o for o in outcomes if isinstance(o, TicketTypeSoldOut)]
    assert len(refused) == len(requests) - CAP // 2
    assert refused[0].extra == {"ticket_type_id": kind.id, "remaining": 0}
    assert await typed_seats_taken(runtime, on_sale.show_id, kind.id) == CAP


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_an_expired_typed_hold_gives_its_quota_back_and_a_base_hold_clears_the_type(
    runtime: Runtime, on_sale: OnSale, clock: FrozenClock
) -> None:
    kind = student(on_sale.info.event_id)
    seats = on_sale.seat_ids
    first = await typed_hold(runtime, on_sale, seats[0:4], kind)
    await typed_hold(runtime, on_sale, seats[4:8], kind)
    with pytest.raises(TicketTypeSoldOut) as refused:
        await typed_hold(runtime, on_sale, seats[8:11], kind)
    assert refused.value.extra["remaining"] == 2
    clock.advance(timedelta(minutes=on_sale.info.hold_minutes, seconds=1))
    # The first holds lapsed: their seats are free, and so is their share of the cap.
    again = await typed_hold(runtime, on_sale, seats[8:12], kind)
    assert again.amount == 4 * 88_000
    # A base-price hold of the lapsed typed seats clears their type: they no longer count.
    base = await typed_hold(runtime, on_sale, [s.seat_id for s in first.seats], None)
    assert base.amount == 4 * 165_000
    assert all(s.ticket_type_id is None for s in base.seats)
    assert await typed_seats_taken(runtime, on_sale.show_id, kind.id) == 4
