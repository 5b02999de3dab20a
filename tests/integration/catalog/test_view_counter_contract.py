"""The view counter's contract on memory and real Redis: atomic swap, batches applied once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from boxoffice.catalog.views import MemoryViewCounter, RedisViewCounter, ViewCounter
from boxoffice.platform.redisconn import command_client
from tests.support import backends


@pytest.fixture(params=["memory", "redis", "redis-cluster"])
async def views(request: pytest.FixtureRequest, redis_prefix: str) -> AsyncIterator[ViewCounter]:
    if request.param == "memory":
        yield MemoryViewCounter()
        return
    url = backends.redis_url_for(request.param)
    client = command_client(url, max_connections=16)
    try:
        yield RedisViewCounter(client, redis_prefix)
    finally:
        await backends.clean_redis(redis_prefix, url)
        await client.aclose()


async def test_batches_swap_atomically_and_stay_until_finished(views: ViewCounter) -> None:
    assert await views.take_batch() is None
    await views.add("e1")
    await views.add("e1", 2)
    await views.add("e2")
    batch = await views.take_batch()
    assert batch is not None
    assert batch.counts == {"e1": 3, "e2": 1}
    assert await views.add_and_count("e1") == 4  # after the swap: the next batch, and the
    assert await views.unflushed(["e1", "e2", "e3"]) == {"e1": 4, "e2": 1, "e3": 0}  # pending

    again = await views.take_batch()  # not finished (a crash): the same batch comes back
    assert again == batch
    await views.finish_batch("someone-else's")  # a stale finish does nothing
    assert await views.take_batch() == batch
    await views.finish_batch(batch.batch_id)
    following = await views.take_batch()
    assert following is not None
    assert following.batch_id != batch.batch_id
    assert following.counts == {"e1": 1}
    await views.finish_batch(following.batch_id)
    assert await views.take_batch() is None
    assert await views.unflushed(["e1"]) == {"e1": 0}


async def test_views_racing_swaps_are_all_in_some_batch(views: ViewCounter) -> None:
    """Two drainers may take the same unfinished batch; applying by batch id (as the flush
    does in the database) counts every view exactly once."""
    applied: dict[str, int] = {}
    per_task, tasks = 50, 20

    async def viewer(index: int) -> None:
        for _ in range(per_task):
            await views.add(f"e{index % 3}")
            await asyncio.sleep(0)

    async def drainer() -> None:
        for _ in range(40):
            batch = await views.take_batch()
            if batch is not None:
                applied.setdefault(batch.batch_id, sum(batch.counts.values()))
                await views.finish_batch(batch.batch_id)
            await asyncio.sleep(0)

    await asyncio.gather(*(viewer(i) for i in range(tasks)), drainer(), drainer())
    while (batch := await views.take_batch()) is not None:
        applied.setdefault(batch.batch_id, sum(batch.counts.values()))
        await views.finish_batch(batch.batch_id)
    assert sum(applied.values()) == per_task * tasks
    assert len(applied) > 1  # the swaps really interleaved with the views
