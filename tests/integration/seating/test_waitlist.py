"""The sold-out waitlist below HTTP: seats coming back at random times are offered in join
order, each to one fan, nobody twice at once, and each sold once (counted in the database)."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from boxoffice.platform.clock import FrozenClock
from boxoffice.platform.ids import new_id
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Principal, Role
from boxoffice.seating import claims, errors, selling, waitlist
from boxoffice.seating import service as seating
from tests.integration.seating.conftest import OnSale

FANS, SEATS = 200, 50


@pytest.fixture
def seat_count() -> int:
    return SEATS


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime.now(UTC).replace(microsecond=0))


async def sell_out(runtime: Runtime, show_id: str) -> None:
    async with runtime.uow() as uow:
        await uow.session.execute(
            text(
                "UPDATE seating_seats SET status = 'sold', holder_id = 'early-buyer',"
                " order_id = seat_id WHERE show_id = :s"
            ),
            {"s": show_id},
        )
        await uow.commit()


async def give_back(runtime: Runtime, show_id: str, seat_id: str) -> None:
    """An order cancelled: its seat is free again (seating's release of sold seats)."""
    async with runtime.uow() as uow:
        await claims.unsell_seats(uow, show_id=show_id, seat_ids=[seat_id], order_id=seat_id)
        await uow.commit()


async def line_up(runtime: Runtime, on_sale: OnSale, clock: FrozenClock) -> list[str]:
    """FANS fans join one after the other; their user ids in join order."""
    fans = []
    for n in range(FANS):
        user = Principal(new_id(), f"fan{n}@example.com", Role.CUSTOMER)
        entry, created = await waitlist.join(runtime, on_sale.info, user, None)
        assert created
        assert entry.position == n + 1
        fans.append(user.id)
        clock.advance(timedelta(milliseconds=10))
    return fans


async def rows(runtime: Runtime, sql: str, **params: object) -> list[tuple[object, ...]]:
    async with runtime.uow() as uow:
        return [tuple(r) for r in await uow.session.execute(text(sql), params)]


@pytest.mark.parametrize("use_redis", [False, True])
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_returned_seats_go_to_the_waitlist_in_order_and_sell_once(
    runtime: Runtime, on_sale: OnSale, clock: FrozenClock
) -> None:
    await sell_out(runtime, on_sale.show_id)
    fans = await line_up(runtime, on_sale, clock)
    rng = random.Random(18)
    returned = rng.sample(on_sale.seat_ids, SEATS)

    async def comes_back(seat_id: str) -> None:
        await asyncio.sleep(rng.uniform(0, 0.3))
        await give_back(runtime, on_sale.show_id, seat_id)
        await waitlist.offer_returned_seats(runtime, on_sale.info)

    async def sweeper() -> None:  # offer runs racing the ones each return starts
        for _ in range(10):
            await waitlist.offer_returned_seats(runtime, on_sale.info)
            await asyncio.sleep(0.03)

    await asyncio.gather(*(comes_back(s) for s in returned), sweeper(), sweeper())
    await waitlist.offer_returned_seats(runtime, on_sale.info)

    offered = await rows(
        runtime,
        "SELECT w.user_id, w.hold_id, h.seat_ids FROM seating_waitlist w"
        " JOIN seating_holds h ON h.id = w.hold_id"
        " WHERE w.show_id = :s AND w.status = 'offered' AND h.status = 'active'",
        s=on_sale.show_id,
    )
    assert sorted(fans.index(str(user)) for user, _, _ in offered) == list(range(SEATS))
    seats = [str(seat_ids) for _, _, seat_ids in offered]
    assert len(set(seats)) == SEATS, "a seat was offered twice"
    waiting = await rows(
        runtime,
        "SELECT count(*) FROM seating_waitlist WHERE show_id = :s AND status = 'waiting'",
        s=on_sale.show_id,
    )
    assert waiting == [(FANS - SEATS,)]
    holds_per_fan = await rows(
        runtime,
        "SELECT user_id, count(*) FROM seating_holds WHERE show_id = :s GROUP BY user_id"
        " HAVING count(*) > 1",
        s=on_sale.show_id,
    )
    assert holds_per_fan == [], "a fan was offered twice"
    emails = await rows(
        runtime,
        "SELECT count(*) FROM platform_outbox WHERE event_type = 'WaitlistSeatOffered'"
        " AND aggregate_id IN (SELECT id FROM seating_waitlist WHERE show_id = :s)",
        s=on_sale.show_id,
    )
    assert emails == [(SEATS,)]

    async def pay(hold_id: str) -> None:
        async with runtime.uow() as uow:
            await seating.sell_hold(uow, runtime, hold_id, order_id=new_id(), info=on_sale.info)
            await uow.commit()

    await asyncio.gather(*(pay(str(hold_id)) for _, hold_id, _ in offered))
    sold = await rows(
        runtime,
        "SELECT count(*), count(DISTINCT holder_id) FROM seating_seats"
        " WHERE show_id = :s AND status = 'sold' AND holder_id <> 'early-buyer'",
        s=on_sale.show_id,
    )
    assert sold == [(SEATS, SEATS)]
    await waitlist.offer_returned_seats(runtime, on_sale.info)
    bought = await rows(
        runtime,
        "SELECT count(*) FROM seating_waitlist WHERE show_id = :s AND status = 'bought'",
        s=on_sale.show_id,
    )
    assert bought == [(SEATS,)]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_a_lapsed_offer_goes_to_the_next_fan(
    runtime: Runtime, on_sale: OnSale, clock: FrozenClock
) -> None:
    await sell_out(runtime, on_sale.show_id)
    first = Principal(new_id(), "first@example.com", Role.CUSTOMER)
    second = Principal(new_id(), "second@example.com", Role.CUSTOMER)
    await waitlist.join(runtime, on_sale.info, first, None)
    clock.advance(timedelta(seconds=1))
    entry, _ = await waitlist.join(runtime, on_sale.info, second, None)
    again, created = await waitlist.join(runtime, on_sale.info, second, None)
    assert (again.id, created) == (entry.id, False)
    await give_back(runtime, on_sale.show_id, on_sale.seat_ids[7])
    assert await waitlist.offer_returned_seats(runtime, on_sale.info) == 1
    assert (await waitlist.entry_of(runtime, on_sale.show_id, first)).status == "offered"
    assert (await waitlist.get(runtime, entry.id, second)).position == 1

    clock.advance(timedelta(minutes=waitlist.OFFER_MINUTES, seconds=1))
    await selling.sweep(runtime)
    assert await waitlist.offer_returned_seats(runtime, on_sale.info) == 1
    assert (await waitlist.entry_of(runtime, on_sale.show_id, first)).status == "missed"
    offered = await waitlist.get(runtime, entry.id, second)
    assert offered.status == "offered"
    assert offered.hold_id is not None
    await give_back(runtime, on_sale.show_id, on_sale.seat_ids[8])
    with pytest.raises(errors.SeatsStillAvailable):
        await waitlist.join(runtime, on_sale.info, first, None)
