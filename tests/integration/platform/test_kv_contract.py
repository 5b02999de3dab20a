"""One contract for the key-value port: the memory adapter, real Redis, a Redis Cluster."""

from __future__ import annotations

import asyncio

from boxoffice.platform.kv import KeyValueStore, key


async def test_set_get_pop_delete(store: KeyValueStore) -> None:
    k = key(store, "greeting")
    assert await store.get(k) is None
    assert await store.set(k, "hello")
    assert await store.get(k) == "hello"
    assert await store.pop(k) == "hello"
    assert await store.pop(k) is None
    await store.set(k, "again")
    assert await store.delete(k, key(store, "absent")) == 1
    assert await store.get(k) is None


async def test_get_many_reads_keys_of_one_hash_tag_together(store: KeyValueStore) -> None:
    first, second = key(store, "{user-1}", "a"), key(store, "{user-1}", "b")
    assert await store.get_many(first, second) == [None, None]
    await store.set(second, "two")
    await store.set(first, "one")
    answers = await asyncio.gather(*(store.get_many(first, second) for _ in range(5)))
    assert answers == [["one", "two"]] * 5


async def test_set_only_if_absent_is_a_lock(store: KeyValueStore) -> None:
    k = key(store, "lock", "seat-1")
    results = await asyncio.gather(*(store.set(k, str(i), only_if_absent=True) for i in range(20)))
    assert results.count(True) == 1


async def test_ttl_expires(store: KeyValueStore) -> None:
    k = key(store, "short")
    await store.set(k, "v", ttl=0.05)
    assert await store.get(k) == "v"
    await asyncio.sleep(0.12)
    assert await store.get(k) is None
    await store.set(k, "w")
    assert await store.expire(k, 0.05)
    await asyncio.sleep(0.12)
    assert await store.get(k) is None
    assert not await store.expire(k, 1)


async def test_concurrent_increments_are_not_lost(store: KeyValueStore) -> None:
    k = key(store, "counter")
    await asyncio.gather(*(store.incr(k) for _ in range(200)))
    assert await store.incr(k, 0) == 200
    assert await store.incr(k, -50) == 150


async def test_publish_reaches_every_subscriber(store: KeyValueStore) -> None:
    channel = key(store, "serving", "show-1")
    received: list[list[str]] = [[], []]

    async def listen(slot: int, ready: asyncio.Event) -> None:
        async with store.subscribe(channel) as messages:
            ready.set()
            async for message in messages:
                received[slot].append(message)
                if len(received[slot]) == 3:
                    return

    readies = [asyncio.Event(), asyncio.Event()]
    tasks = [asyncio.create_task(listen(i, readies[i])) for i in range(2)]
    await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 5)
    await asyncio.sleep(0.05)  # Redis confirms SUBSCRIBE asynchronously
    for number in ("1", "2", "3"):
        await store.publish(channel, number)
    await asyncio.wait_for(asyncio.gather(*tasks), 5)
    assert received == [["1", "2", "3"], ["1", "2", "3"]]
