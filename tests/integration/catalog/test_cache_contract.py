"""The cache port's contract on the in-memory LRU and on real Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from boxoffice.platform.cache import Cache, MemoryCache, NullCache, RedisCache, cached
from boxoffice.platform.redisconn import command_client
from tests.support import backends


@pytest.fixture(params=["memory", "redis", "redis-cluster"])
async def cache(request: pytest.FixtureRequest, redis_prefix: str) -> AsyncIterator[Cache]:
    if request.param == "memory":
        yield MemoryCache(max_entries=100)
        return
    url = backends.redis_url_for(request.param)
    client = command_client(url, max_connections=16)
    try:
        yield RedisCache(client, redis_prefix)
    finally:
        await backends.clean_redis(redis_prefix, url)
        await client.aclose()


async def test_read_through_hits_after_the_first_read(cache: Cache) -> None:
    calls = 0

    async def compute() -> str:
        nonlocal calls
        calls += 1
        return f"value {calls}"

    assert await cached(cache, "k", ["t"], compute, ttl=60) == "value 1"
    assert await cached(cache, "k", ["t"], compute, ttl=60) == "value 1"
    assert calls == 1


async def test_invalidating_a_tag_misses_every_entry_carrying_it(cache: Cache) -> None:
    for key, tags in (("a", ["ev:1", "list"]), ("b", ["ev:2", "list"]), ("c", ["ev:2"])):
        lookup = await cache.get(key, tags)
        await cache.set(key, key.upper(), lookup, tags, 60)
    await cache.invalidate_tags("list")
    assert not (await cache.get("a", ["ev:1", "list"])).hit
    assert not (await cache.get("b", ["ev:2", "list"])).hit
    assert (await cache.get("c", ["ev:2"])).value == "C"
    await cache.delete("c")
    assert not (await cache.get("c", ["ev:2"])).hit


async def test_a_value_computed_before_an_invalidation_is_never_served(cache: Cache) -> None:
    """The race every cache-aside scheme must survive: read old data, writer commits and
    invalidates, reader stores the old data. The stored entry must not be served."""
    lookup = await cache.get("event", ["ev:1"])  # reader starts; reads the database (old)
    await cache.invalidate_tags("ev:1")  # a writer commits and invalidates
    await cache.set("event", "old", lookup, ["ev:1"], 60)  # reader stores what it read
    assert not (await cache.get("event", ["ev:1"])).hit
    fresh = await cache.get("event", ["ev:1"])
    await cache.set("event", "new", fresh, ["ev:1"], 60)
    assert (await cache.get("event", ["ev:1"])).value == "new"


async def test_entries_expire(cache: Cache) -> None:
    lookup = await cache.get("short", [])
    await cache.set("short", "x", lookup, [], 0.05)
    assert (await cache.get("short", [])).value == "x"
    await asyncio.sleep(0.1)
    assert not (await cache.get("short", [])).hit


async def test_memory_cache_is_a_bounded_lru() -> None:
    cache = MemoryCache(max_entries=3)
    for key in "abc":
        await cache.set(key, key, await cache.get(key), ttl=60)
    assert (await cache.get("a")).hit  # a is now the most recently used
    await cache.set("d", "d", await cache.get("d"), ttl=60)
    assert len(cache) == 3
    assert not (await cache.get("b")).hit  # the least recently used went
    assert [(await cache.get(k)).value for k in "acd"] == ["a", "c", "d"]


async def test_null_cache_never_hits() -> None:
    cache = NullCache()
    await cache.set("k", "v", await cache.get("k"), ttl=60)
    assert not (await cache.get("k")).hit
