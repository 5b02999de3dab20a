"""The queue store contract, run on the memory and the Redis adapter alike."""

from __future__ import annotations

import asyncio
import random
import uuid

import pytest

from boxoffice.waitroom.domain import STORED_ADMITTED, STORED_LEFT, Entry
from boxoffice.waitroom.store import JoinLimited, JoinLimits, OpeningNeeded, QueueStore

T0 = 1_900_000_000_000  # a fixed moment (ms): the store takes time only from its callers
TTL = 600_000


def show() -> str:
    return str(uuid.uuid4())


async def join(store: QueueStore, show_id: str, user_id: str, *, pre: bool = False) -> Entry:
    entry, _ = await store.join(
        show_id, user_id, entry_id=f"{show_id}.{uuid.uuid4().hex}", now_ms=T0, pre_queue=pre
    )
    return entry


async def admit(store: QueueStore, show_id: str, at: int, **overrides: int | float) -> list[str]:
    options: dict[str, int | float] = {
        "rate": 100.0,
        "max_active": 10_000,
        "ttl_ms": TTL,
        "burst_ms": 1000,
    }
    options.update(overrides)
    result = await store.admit(show_id, now_ms=at, **options)  # type: ignore[arg-type]
    return list(result.admitted)


@pytest.mark.slow
async def test_concurrent_joins_get_unique_gap_free_numbers_admitted_in_order(
    store: QueueStore,
) -> None:
    show_id = show()
    users = [f"user-{i}" for i in range(2000)]
    joined = await asyncio.gather(*(join(store, show_id, user) for user in users))
    numbers = sorted(entry.number for entry in joined if entry.number is not None)
    assert numbers == list(range(1, 2001))  # unique and gap-free

    again, created = await store.join(
        show_id, "user-7", entry_id=f"{show_id}.other", now_ms=T0, pre_queue=False
    )
    assert not created
    assert again == next(entry for entry in joined if entry.user_id == "user-7")

    by_id = {entry.entry_id: entry for entry in joined}
    order: list[str] = []
    at = T0
    await admit(store, show_id, at)
    while len(order) < 2000:
        at += 500
        order += await admit(store, show_id, at, rate=333.0)
    assert [by_id[entry_id].number for entry_id in order] == list(range(1, 2001))
    assert (await store.state(show_id, at)).serving == 2000
    assert await admit(store, show_id, at + 5000) == []  # nobody twice


async def test_racing_dispatchers_never_admit_twice_nor_beyond_the_rate(store: QueueStore) -> None:
    show_id = show()
    for i in range(100):
        await join(store, show_id, f"u{i}")
    await admit(store, show_id, T0)  # the first tick only starts the clock
    batches = await asyncio.gather(*(admit(store, show_id, T0 + 1000, rate=30) for _ in range(8)))
    admitted = [entry_id for batch in batches for entry_id in batch]
    assert len(admitted) == len(set(admitted)) == 30


async def test_admits_at_the_rate_and_never_more_than_max_active(store: QueueStore) -> None:
    show_id, rate, max_active = show(), 10.0, 25
    for i in range(200):
        await join(store, show_id, f"u{i}")
    active: dict[str, str] = {}
    totals, total, finished = [], 0, 0
    await admit(store, show_id, T0)  # the first tick starts the clock
    for tick in range(1, 81):  # 20 s in ticks of 250 ms
        admitted = await admit(store, show_id, T0 + tick * 250, rate=rate, max_active=max_active)
        total += len(admitted)
        for entry_id in admitted:
            entry = await store.get(show_id, entry_id)
            assert entry is not None
            assert entry.stored_status == STORED_ADMITTED
            active[entry_id] = entry.user_id
        assert len(active) <= max_active
        assert total <= rate * tick * 0.25
        totals.append(total)
        if tick % 4 == 0:  # every second three admitted people pay and stop counting
            for entry_id in list(active)[:3]:
                await store.finish(show_id, active.pop(entry_id))
                finished += 1
    assert totals[9] == 25  # 2.5 s at 10/s: the rate is the bound
    # Then max_active is: only as many more as finished before the last tick.
    assert totals[-1] == max_active + finished - 3
    result = await store.admit(
        show_id, now_ms=T0 + 81 * 250, rate=0, max_active=max_active, ttl_ms=TTL, burst_ms=1000
    )
    assert result.active == len(active)


async def test_expired_admissions_free_their_places(store: QueueStore) -> None:
    show_id = show()
    for i in range(10):
        await join(store, show_id, f"u{i}")
    await admit(store, show_id, T0, max_active=3, ttl_ms=10_000)
    assert len(await admit(store, show_id, T0 + 1000, max_active=3, ttl_ms=10_000)) == 3
    assert await admit(store, show_id, T0 + 2000, max_active=3, ttl_ms=10_000) == []
    assert len(await admit(store, show_id, T0 + 11_000, max_active=3, ttl_ms=10_000)) == 3


async def test_a_pause_is_not_a_stampede(store: QueueStore) -> None:
    show_id = show()
    for i in range(100):
        await join(store, show_id, f"u{i}")
    await admit(store, show_id, T0, rate=10)
    assert len(await admit(store, show_id, T0 + 60_000, rate=10, burst_ms=1000)) == 10


async def test_people_who_left_are_skipped_and_cost_no_admission(store: QueueStore) -> None:
    show_id = show()
    entries = [await join(store, show_id, f"u{i}") for i in range(10)]
    for entry in entries[:4]:
        left = await store.leave(show_id, entry.entry_id)
        assert left is not None
        assert left.stored_status == STORED_LEFT
    await admit(store, show_id, T0)
    admitted = await admit(store, show_id, T0 + 300, rate=10)  # 3 admits
    assert admitted == [entry.entry_id for entry in entries[4:7]]
    back = await join(store, show_id, "u0")  # leaving gave the place up: back of the line
    assert back.number == 11
    assert back.entry_id != entries[0].entry_id


async def test_leaving_frees_an_admitted_place(store: QueueStore) -> None:
    show_id = show()
    entries = [await join(store, show_id, f"u{i}") for i in range(3)]
    await admit(store, show_id, T0, max_active=1)
    assert await admit(store, show_id, T0 + 1000, max_active=1) == [entries[0].entry_id]
    await store.leave(show_id, entries[0].entry_id)
    assert await admit(store, show_id, T0 + 2000, max_active=1) == [entries[1].entry_id]


async def test_finishing_is_idempotent_and_quiet_for_strangers(store: QueueStore) -> None:
    show_id = show()
    await store.finish(show_id, "nobody")
    entry = await join(store, show_id, "u")
    await admit(store, show_id, T0, max_active=1)
    await admit(store, show_id, T0 + 1000, max_active=1)
    await store.finish(show_id, "u")
    await store.finish(show_id, "u")
    result = await store.admit(
        show_id, now_ms=T0 + 1500, rate=1, max_active=1, ttl_ms=TTL, burst_ms=1000
    )
    assert result.active == 0
    assert (await store.get(show_id, entry.entry_id)) is not None


async def test_pre_queue_is_numbered_in_the_order_given_at_opening(store: QueueStore) -> None:
    show_id = show()
    early = [await join(store, show_id, f"early-{i}", pre=True) for i in range(20)]
    assert all(entry.number is None for entry in early)
    with pytest.raises(OpeningNeeded):
        await join(store, show_id, "on-time")
    order = [entry.entry_id for entry in early]
    random.shuffle(order)
    assert await store.open(show_id, order[:-1]) == 20  # a latecomer the opener missed too
    assert await store.open(show_id, order) == 0  # only once
    numbered = {entry_id: (await store.get(show_id, entry_id)) for entry_id in order}
    assert [numbered[entry_id].number for entry_id in order] == list(range(1, 21))  # type: ignore[union-attr]
    assert (await join(store, show_id, "on-time")).number == 21
    late_pre = await join(store, show_id, "early-but-slow", pre=True)
    assert late_pre.number == 22  # the sale is open: a pre-queue join is a normal join


async def test_published_serving_reaches_watchers(store: QueueStore) -> None:
    from boxoffice.waitroom.domain import EntryLeft, ServingState

    show_id = show()
    received: asyncio.Queue[ServingState | EntryLeft] = asyncio.Queue()
    await store.watch(show_id)
    listener = asyncio.create_task(store.listen(received.put_nowait))
    try:
        await asyncio.sleep(0.05)
        await store.publish(ServingState(show_id, 5, 9, 2.5, T0))
        got = await asyncio.wait_for(received.get(), 5)
        assert (got.serving, got.issued, got.rate) == (5, 9, 2.5)
        assert (await store.state(show_id, T0)).rate == 2.5
        await store.announce_left(EntryLeft(show_id, "someone"))
        assert await asyncio.wait_for(received.get(), 5) == EntryLeft(show_id, "someone")
    finally:
        listener.cancel()


WINDOW = 60_000
W0 = T0 - T0 % WINDOW  # the start of a fixed window


async def limited_join(
    store: QueueStore, show_id: str, user_id: str, address: str, at: int, **limits: int
) -> str:
    """'ok', or which limit refused the join."""
    rules = JoinLimits(address, limits.get("per_user", 3), limits.get("per_address", 5), WINDOW)
    try:
        await store.join(
            show_id,
            user_id,
            entry_id=f"{show_id}.{uuid.uuid4().hex}",
            now_ms=at,
            pre_queue=False,
            limits=rules,
        )
    except JoinLimited as limited:
        retry_after_ms, by = limited.retry_after_ms, limited.by
    else:
        return "ok"
    assert 0 < retry_after_ms <= WINDOW
    return by


async def test_joins_are_limited_per_user_and_per_address_in_a_sliding_window(
    store: QueueStore,
) -> None:
    show_id, address = show(), "198.51.100.7"
    at = W0 + 1000
    assert [await limited_join(store, show_id, "u1", address, at) for _ in range(4)] == [
        "ok",
        "ok",
        "ok",
        "user",  # a refused join is not counted against the address
    ]
    others = [await limited_join(store, show_id, f"u{i}", address, at) for i in (2, 3, 4)]
    assert others == ["ok", "ok", "address"]
    assert await limited_join(store, show_id, "u5", "203.0.113.9", at) == "ok"
    # The next window opens; the sliding window still covers all of the last one.
    assert await limited_join(store, show_id, "u1", "192.0.2.1", W0 + WINDOW) == "user"
    # Three quarters into the next window, a quarter of the old count remains: 0.75 < 3.
    assert await limited_join(store, show_id, "u1", "192.0.2.1", W0 + WINDOW + 45_000) == "ok"
    # Limits belong to the show's queue: another show counts on its own.
    assert await limited_join(store, show(), "u1", address, at) == "ok"


async def test_racing_joins_of_one_user_never_pass_the_limit(store: QueueStore) -> None:
    show_id = show()
    outcomes = await asyncio.gather(
        *(
            limited_join(store, show_id, "racer", f"203.0.113.{i}", W0 + 5, per_user=20)
            for i in range(60)
        )
    )
    assert outcomes.count("ok") == 20
    assert outcomes.count("user") == 40
