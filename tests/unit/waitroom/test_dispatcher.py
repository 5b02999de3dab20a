"""The dispatcher over many shows, on the memory store with a clock the test moves."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from boxoffice.platform.clock import FrozenClock
from boxoffice.platform.config import WaitroomSettings
from boxoffice.platform.lease import MemoryLeases
from boxoffice.waitroom.dispatcher import LEASE_NAME, AdmitRate, Dispatcher
from boxoffice.waitroom.domain import eta_seconds
from boxoffice.waitroom.store import MemoryQueueStore
from tests.support.waitroom import Shows, sale_info

START = datetime(2026, 12, 24, 20, 0, tzinfo=UTC)


def dispatcher(shows: Shows, clock: FrozenClock) -> tuple[Dispatcher, MemoryQueueStore]:
    store = MemoryQueueStore()
    settings = WaitroomSettings(admission_ttl_seconds=60)
    return Dispatcher(store, shows, settings, clock), store


async def fill(store: MemoryQueueStore, show_id: str, people: int, pre: bool = False) -> None:
    for i in range(people):
        await store.join(
            show_id, f"{show_id}-u{i}", entry_id=f"{show_id}.{i}", now_ms=0, pre_queue=pre
        )


async def test_many_shows_each_at_its_own_rate_and_max_active() -> None:
    clock = FrozenClock(START)
    shows = Shows(
        *(
            sale_info(now=START, admit_per_second=rate, max_active=cap)
            for rate, cap in [(2, 1000), (8, 1000), (20, 30), (5, 3)]
        )
    )
    run, store = dispatcher(shows, clock)
    for info in shows.infos.values():
        await fill(store, info.show_id, 300)
    admitted = {show_id: 0 for show_id in shows.infos}
    for _ in range(41):  # 10 s in 250 ms ticks (the first starts the clocks)
        for show_id, result in (await run.tick()).items():
            admitted[show_id] += len(result.admitted)
            assert result.active <= shows.infos[show_id].queue.max_active
        clock.advance(timedelta(milliseconds=250))
    assert list(admitted.values()) == [20, 80, 30, 3]


async def test_admitted_people_who_finish_let_the_next_ones_in() -> None:
    clock = FrozenClock(START)
    info = sale_info(now=START, admit_per_second=100, max_active=5)
    run, store = dispatcher(Shows(info), clock)
    await fill(store, info.show_id, 20)
    seen: list[str] = []
    for second in range(6):
        result = (await run.tick())[info.show_id]
        seen += result.admitted
        for entry_id in result.admitted[:2]:  # two of them pay at once
            entry = await store.get(info.show_id, entry_id)
            assert entry is not None
            await store.finish(info.show_id, entry.user_id)
        clock.advance(timedelta(seconds=1))
        assert len(seen) <= 5 + 2 * (second + 1)
    assert seen == [f"{info.show_id}.{i}" for i in range(len(seen))]  # in number order
    # Unfinished admissions expire after the TTL (60 s) and free their places too.
    clock.advance(timedelta(seconds=61))
    assert len((await run.tick())[info.show_id].admitted) == 5


async def test_no_admission_before_the_sale_and_a_shuffled_pre_queue_at_opening() -> None:
    clock = FrozenClock(START)
    info = sale_info(now=START, opens_in=timedelta(minutes=5), pre_queue_minutes=10)
    run, store = dispatcher(Shows(info), clock)
    await fill(store, info.show_id, 200, pre=True)
    assert await run.tick() == {}
    clock.advance(timedelta(minutes=5))
    await run.tick()
    numbers = [
        (await store.get(info.show_id, f"{info.show_id}.{i}")).number  # type: ignore[union-attr]
        for i in range(200)
    ]
    assert sorted(numbers) == list(range(1, 201))  # type: ignore[type-var]
    assert numbers != list(range(1, 201))  # not the order they came in (1 in 200! to fail)


async def test_closed_or_queue_less_shows_are_left_alone() -> None:
    clock = FrozenClock(START)
    closed = sale_info(now=START - timedelta(days=30))  # closed a day before START
    off = sale_info(now=START, enabled=False)
    run, store = dispatcher(Shows(closed, off), clock)
    await fill(store, closed.show_id, 5)
    await fill(store, off.show_id, 5)
    assert await run.tick() == {}
    assert (await store.state(closed.show_id, 0)).serving == 0


async def test_measured_rate_and_eta() -> None:
    rate = AdmitRate(window_ms=10_000)
    assert rate.record(0, 0) == 0.0
    for second in range(1, 21):
        measured = rate.record(second * 1000, 7)
    assert measured == 7.0
    assert eta_seconds(70, measured, 50) == 10
    assert eta_seconds(70, 0.0, 50) == 2  # no measurement yet: the configured rate
    assert eta_seconds(None, 7.0, 50) is None


async def test_only_the_lease_holder_ticks() -> None:
    clock = FrozenClock(START)
    info = sale_info(now=START)
    shows = Shows(info)
    leases = MemoryLeases()
    active, _ = dispatcher(shows, clock)
    standby, _ = dispatcher(shows, clock)
    assert await leases.acquire(LEASE_NAME, "active", 30)
    stop = asyncio.Event()
    task = asyncio.create_task(standby.run(leases, "standby", stop))
    await asyncio.sleep(0.05)
    assert standby.ticks == 0
    await leases.release(LEASE_NAME, "active")
    for _ in range(100):
        if standby.ticks:
            break
        await asyncio.sleep(0.05)
    stop.set()
    await task
    assert standby.ticks > 0
    assert active.ticks == 0


async def test_a_paused_line_admits_nobody_until_resumed() -> None:
    clock = FrozenClock(START)
    paused = sale_info(now=START, admit_per_second=10)
    paused = replace(paused, queue=replace(paused.queue, paused=True))
    shows = Shows(paused)
    run, store = dispatcher(shows, clock)
    await fill(store, paused.show_id, 50)
    admitted = 0
    for _ in range(9):  # 2 s in 250 ms ticks
        result = (await run.tick()).get(paused.show_id)
        admitted += len(result.admitted) if result else 0
        clock.advance(timedelta(milliseconds=250))
    assert admitted == 0
    assert (await store.state(paused.show_id, 0)).serving == 0
    shows.infos[paused.show_id] = replace(paused, queue=replace(paused.queue, paused=False))
    for _ in range(9):
        result = (await run.tick()).get(paused.show_id)
        admitted += len(result.admitted) if result else 0
        clock.advance(timedelta(milliseconds=250))
    assert admitted == 20  # resumed at its rate, from the front of the line
