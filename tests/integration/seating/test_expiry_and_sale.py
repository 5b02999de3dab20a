"""Expiry with a frozen clock, and the hold's way to a sale (what orders calls)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from boxoffice.platform.clock import FrozenClock
from boxoffice.platform.errors import Conflict
from boxoffice.platform.ids import new_id
from boxoffice.platform.runtime import Runtime
from boxoffice.seating import claims, selling
from boxoffice.seating.adapters import seating_of
from boxoffice.seating.contracts import HeldSeats
from boxoffice.seating.errors import HoldLapsed, HoldNotFound, SeatUnavailable
from boxoffice.seating.snapshot import marks_from_database
from tests.conftest import BACKENDS
from tests.integration.seating.conftest import OnSale
from tests.support.seating import seat_status_counts

START = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


async def hold(runtime: Runtime, on_sale: OnSale, seats: list[str], user: str) -> HeldSeats:
    return await on_sale.hold(runtime, seats, user)


async def events(runtime: Runtime, name: str) -> list[str]:
    async with runtime.uow() as uow:
        rows = await uow.session.execute(
            text("SELECT aggregate_id FROM platform_outbox WHERE event_type = :n"), {"n": name}
        )
        return [r[0] for r in rows]


async def sell(runtime: Runtime, on_sale: OnSale, hold_id: str, order_id: str) -> None:
    async with runtime.uow() as uow:
        await selling.sell(uow, runtime, hold_id, order_id=order_id, info=on_sale.info)
        await uow.commit()


@pytest.mark.parametrize("use_redis", [False, True])
@pytest.mark.parametrize("backend", BACKENDS)
async def test_seats_are_free_the_moment_a_hold_expires_and_the_sweeper_ends_it(
    runtime: Runtime, on_sale: OnSale, clock: FrozenClock
) -> None:
    seats = on_sale.seat_ids[:2]
    first = await hold(runtime, on_sale, seats, new_id())
    assert first.expires_at == START + timedelta(minutes=7)
    clock.advance(timedelta(minutes=6, seconds=59))
    with pytest.raises(SeatUnavailable):
        await hold(runtime, on_sale, seats, new_id())
    clock.advance(timedelta(seconds=1))
    second = await hold(runtime, on_sale, seats, new_id())  # before any sweeper ran
    assert await selling.sweep(runtime) == 1
    assert await events(runtime, "HoldExpired") == [first.hold_id]
    async with runtime.uow() as uow:  # the sweeper freed nothing of the second hold
        assert (await seat_status_counts(uow, on_sale.show_id))["held"] == 2
        view = await claims.read_hold(uow, first.hold_id)
        assert view is not None
        assert view.status == "expired"
    assert await selling.sweep(runtime) == 0
    assert second.hold_id != first.hold_id


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_sold_seat_never_comes_back_by_expiry(
    runtime: Runtime, on_sale: OnSale, clock: FrozenClock
) -> None:
    seats = on_sale.seat_ids[:2]
    held = await hold(runtime, on_sale, seats, new_id())
    await sell(runtime, on_sale, held.hold_id, "order-1")
    clock.advance(timedelta(days=3))
    assert await selling.sweep(runtime) == 0
    with pytest.raises(SeatUnavailable) as refused:
        await hold(runtime, on_sale, seats, new_id())
    assert refused.value.extra["seat_ids"] == sorted(seats)
    async with runtime.uow() as uow:
        assert (await seat_status_counts(uow, on_sale.show_id))["sold"] == 2


async def test_an_expired_hold_whose_seats_nobody_took_is_revived_by_the_sale(
    runtime: Runtime, on_sale: OnSale, clock: FrozenClock
) -> None:
    held = await hold(runtime, on_sale, on_sale.seat_ids[:2], new_id())
    clock.advance(timedelta(minutes=8))
    assert await selling.sweep(runtime) == 1
    await sell(runtime, on_sale, held.hold_id, "order-1")
    await sell(runtime, on_sale, held.hold_id, "order-1")  # idempotent
    async with runtime.uow() as uow:
        assert (await seat_status_counts(uow, on_sale.show_id))["sold"] == 2
        with pytest.raises(Conflict):
            await selling.sell(uow, runtime, held.hold_id, order_id="order-2", info=on_sale.info)


async def test_a_sale_fails_when_a_seat_was_taken_after_expiry(
    runtime: Runtime, on_sale: OnSale, clock: FrozenClock
) -> None:
    held = await hold(runtime, on_sale, on_sale.seat_ids[:2], new_id())
    clock.advance(timedelta(minutes=8))
    await hold(runtime, on_sale, on_sale.seat_ids[1:3], new_id())
    async with runtime.uow() as uow:
        with pytest.raises(HoldLapsed):
            await selling.sell(uow, runtime, held.hold_id, order_id="order-1", info=on_sale.info)
    async with runtime.uow() as uow:  # the caller rolled back: nothing was sold
        assert "sold" not in await seat_status_counts(uow, on_sale.show_id)


async def test_attaching_an_order_checks_owner_expiry_and_other_orders(
    runtime: Runtime, on_sale: OnSale, clock: FrozenClock
) -> None:
    user = new_id()
    held = await hold(runtime, on_sale, on_sale.seat_ids[:1], user)
    async with runtime.uow() as uow:
        with pytest.raises(HoldNotFound):
            await selling.attach_order(uow, held.hold_id, order_id="o1", user_id=new_id())
        await selling.attach_order(uow, held.hold_id, order_id="o1", user_id=user)
        await selling.attach_order(uow, held.hold_id, order_id="o1", user_id=user)
        await uow.commit()
    async with runtime.uow() as uow:
        with pytest.raises(Conflict):
            await selling.attach_order(uow, held.hold_id, order_id="o2", user_id=user)
    clock.advance(timedelta(minutes=7))
    async with runtime.uow() as uow:
        with pytest.raises(HoldLapsed):
            await selling.attach_order(uow, held.hold_id, order_id="o1", user_id=user)


async def test_release_frees_the_seats_once_and_records_the_reason(
    runtime: Runtime, on_sale: OnSale
) -> None:
    held = await hold(runtime, on_sale, on_sale.seat_ids[:3], new_id())
    for _ in range(2):
        async with runtime.uow() as uow:
            stored = await claims.read_hold(uow, held.hold_id)
            assert stored is not None
            await selling.release(uow, runtime, stored, reason="order_failed", now=uow.clock.now())
            await uow.commit()
    assert await events(runtime, "HoldReleased") == [held.hold_id]
    async with runtime.uow() as uow:
        assert await seat_status_counts(uow, on_sale.show_id) == {"available": 100}
    await hold(runtime, on_sale, on_sale.seat_ids[:3], new_id())


@pytest.mark.parametrize("use_redis", [False, True])
async def test_a_release_during_a_cold_load_does_not_come_back_as_taken(
    runtime: Runtime, on_sale: OnSale, clock: FrozenClock
) -> None:
    """A cold board is loaded from a database read; a hold released between that read and
    the load must stay free (it used to come back as held until its expiry)."""
    held = await hold(runtime, on_sale, on_sale.seat_ids[:3], new_id())
    board = seating_of(runtime).board
    await board.forget(on_sale.show_id)
    async with runtime.uow() as uow:
        stale = await marks_from_database(uow, on_sale.show_id)
    async with runtime.uow() as uow:
        stored = await claims.read_hold(uow, held.hold_id)
        assert stored is not None
        await selling.release(uow, runtime, stored, reason="order_failed", now=uow.clock.now())
        await uow.commit()
    await board.load(on_sale.show_id, stale)
    await hold(runtime, on_sale, on_sale.seat_ids[:3], new_id())


@pytest.mark.parametrize("use_redis", [True])
async def test_sold_seats_given_back_on_cancellation_are_available_again(
    runtime: Runtime, on_sale: OnSale
) -> None:
    seats = on_sale.seat_ids[:2]
    held = await hold(runtime, on_sale, seats, new_id())
    await sell(runtime, on_sale, held.hold_id, "order-1")
    async with runtime.uow() as uow:  # another order's cancellation frees nothing
        await selling.release_sold_seats(
            uow, runtime, show_id=on_sale.show_id, seat_ids=seats, order_id="order-2"
        )
        await uow.commit()
    with pytest.raises(SeatUnavailable):
        await hold(runtime, on_sale, seats, new_id())
    async with runtime.uow() as uow:
        await selling.release_sold_seats(
            uow, runtime, show_id=on_sale.show_id, seat_ids=seats, order_id="order-1"
        )
        await uow.commit()
    await hold(runtime, on_sale, seats, new_id())
