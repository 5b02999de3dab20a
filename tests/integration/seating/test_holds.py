"""Holding seats below HTTP: racing tasks on every backend, with and without Redis, count
the outcome in the database."""

from __future__ import annotations

import asyncio
import random
from dataclasses import replace

import pytest
from redis.asyncio import Redis

from boxoffice.platform.ids import new_id
from boxoffice.platform.runtime import Runtime
from boxoffice.seating import adapters, claims
from boxoffice.seating.board import RedisBoard
from boxoffice.seating.errors import PurchaseLimitExceeded, SeatUnavailable, UnknownSeats
from tests.conftest import BACKENDS
from tests.integration.seating.conftest import OnSale
from tests.support.seating import assert_no_double_hold, seat_status_counts


async def attempt(runtime: Runtime, on_sale: OnSale, seat_ids: list[str], user_id: str) -> object:
    try:
        return await on_sale.hold(runtime, seat_ids, user_id)
    except (SeatUnavailable, PurchaseLimitExceeded) as refused:
        return refused


def overlapping_requests(seat_ids: list[str], count: int, seed: int) -> list[list[str]]:
    """``count`` requests of 1 to 4 seats, crowding the front rows so that they overlap."""
    rng = random.Random(seed)
    requests = []
    for _ in range(count):
        start = min(int(rng.expovariate(1 / 25)), len(seat_ids) - 4)
        requests.append(seat_ids[start : start + rng.randint(1, 4)])
    return requests


async def race(runtime: Runtime, on_sale: OnSale, attempts: int, seed: int = 7) -> list[object]:
    requests = overlapping_requests(on_sale.seat_ids, attempts, seed)
    return await asyncio.gather(*(attempt(runtime, on_sale, r, new_id()) for r in requests))


async def check(runtime: Runtime, on_sale: OnSale, outcomes: list[object]) -> int:
    won = [o for o in outcomes if not isinstance(o, Exception)]
    refused = [o for o in outcomes if isinstance(o, SeatUnavailable)]
    assert len(won) + len(refused) == len(outcomes)
    seats_won = [s.seat_id for held in won for s in held.seats]  # type: ignore[attr-defined]
    assert len(seats_won) == len(set(seats_won)), "two winners share a seat"
    async with runtime.uow() as uow:
        held = await assert_no_double_hold(uow, on_sale.show_id, runtime.clock.now())
    assert held == len(seats_won)
    assert refused, "the race had no contention"
    assert all(set(r.extra["seat_ids"]) for r in refused)
    return held


@pytest.mark.parametrize("use_redis", [False, True])
@pytest.mark.parametrize("backend", BACKENDS)
async def test_racing_holds_never_hold_a_seat_twice(runtime: Runtime, on_sale: OnSale) -> None:
    outcomes = await race(runtime, on_sale, attempts=150)
    assert await check(runtime, on_sale, outcomes) > 0


@pytest.mark.parametrize("use_redis", [True])
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_losing_the_boards_keys_mid_race_never_double_holds(
    runtime: Runtime, on_sale: OnSale
) -> None:
    board = adapters.seating_of(runtime).board

    async def wipe_repeatedly() -> None:
        for _ in range(20):
            await board.forget(on_sale.show_id)
            await asyncio.sleep(0.005)

    racing = asyncio.ensure_future(race(runtime, on_sale, attempts=150, seed=11))
    await wipe_repeatedly()
    await check(runtime, on_sale, await racing)


@pytest.mark.parametrize("use_redis", [True])
@pytest.mark.parametrize("backend", ["postgresql", "mariadb"])
async def test_with_redis_unreachable_the_database_alone_refuses_double_holds(
    runtime: Runtime, on_sale: OnSale
) -> None:
    dead = Redis.from_url("redis://127.0.0.1:1/0", decode_responses=True)
    adapters.seating_of(runtime).board = RedisBoard(dead, "bo-dead")
    try:
        await check(runtime, on_sale, await race(runtime, on_sale, attempts=120, seed=3))
    finally:
        await dead.aclose()


@pytest.mark.parametrize("use_redis", [False, True])
@pytest.mark.parametrize("backend", BACKENDS)
async def test_one_user_on_eight_devices_never_passes_the_limit(
    runtime: Runtime, on_sale: OnSale
) -> None:
    user_id = new_id()
    pairs = [on_sale.seat_ids[i : i + 2] for i in range(0, 16, 2)]
    outcomes = await asyncio.gather(*(attempt(runtime, on_sale, p, user_id) for p in pairs))
    won = [o for o in outcomes if not isinstance(o, Exception)]
    assert len(won) == 2
    assert sum(isinstance(o, PurchaseLimitExceeded) for o in outcomes) == 6
    async with runtime.uow() as uow:
        assert (await seat_status_counts(uow, on_sale.show_id)).get("held") == 4


async def test_all_or_nothing_when_one_seat_is_taken(runtime: Runtime, on_sale: OnSale) -> None:
    a, b, c = on_sale.seat_ids[:3]
    assert not isinstance(await attempt(runtime, on_sale, [b], new_id()), Exception)
    refused = await attempt(runtime, on_sale, [a, b, c], new_id())
    assert isinstance(refused, SeatUnavailable)
    assert refused.extra["seat_ids"] == [b]
    async with runtime.uow() as uow:
        assert await seat_status_counts(uow, on_sale.show_id) == {"available": 99, "held": 1}
    assert not isinstance(await attempt(runtime, on_sale, [a, c], new_id()), Exception)


async def test_unknown_seats_and_too_many_seats_are_refused(
    runtime: Runtime, on_sale: OnSale
) -> None:
    with pytest.raises(UnknownSeats):
        await attempt(runtime, on_sale, ["no-such-seat"], new_id())
    strict = replace(on_sale, info=replace(on_sale.info, max_tickets_per_user=2))
    assert isinstance(
        await attempt(runtime, strict, on_sale.seat_ids[:3], new_id()), PurchaseLimitExceeded
    )


@pytest.mark.parametrize("backend", BACKENDS)
async def test_only_a_users_first_claim_on_a_show_skips_counting_their_seats(
    runtime: Runtime, on_sale: OnSale
) -> None:
    async with runtime.uow() as uow:
        assert await claims.lock_buyer(uow, on_sale.show_id, "fan")
        await uow.rollback()  # a claim that rolls back leaves no trace
    async with runtime.uow() as uow:
        assert await claims.lock_buyer(uow, on_sale.show_id, "fan")
        await uow.commit()
    async with runtime.uow() as uow:
        assert not await claims.lock_buyer(uow, on_sale.show_id, "fan")
        assert await claims.lock_buyer(uow, new_id(), "fan")  # another show: first again
    held = await attempt(runtime, on_sale, on_sale.seat_ids[:3], "buyer")
    assert not isinstance(held, Exception)
    refused = await attempt(runtime, on_sale, on_sale.seat_ids[3:5], "buyer")
    assert isinstance(refused, PurchaseLimitExceeded)  # 3 held + 2 > 4: counted
