"""Views counted by several processes at once, while flushes run: none is lost (real Redis)."""

from __future__ import annotations

import asyncio
import multiprocessing

import httpx
import pytest
from sqlalchemy import text

from boxoffice.catalog import service as catalog
from boxoffice.platform.runtime import Runtime
from tests.support import backends
from tests.support.catalog import open_show

PROCESSES, VIEWS = 3, 1500


def _count_views(redis_url: str, prefix: str, event_ids: list[str]) -> None:
    """One API process's worth of views, straight into the shared counter."""
    from redis.asyncio import Redis

    from boxoffice.catalog.views import RedisViewCounter

    async def run() -> None:
        client = Redis.from_url(redis_url, decode_responses=True)
        views = RedisViewCounter(client, prefix)
        for index in range(VIEWS):
            await views.add_and_count(event_ids[index % len(event_ids)])
        await client.aclose()

    asyncio.run(run())


@pytest.mark.slow
@pytest.mark.parametrize("use_redis", [True])
async def test_views_from_several_processes_survive_concurrent_flushes(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    events = [(await open_show(client, runtime)).event_id for _ in range(2)]
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(
            target=_count_views, args=(backends.REDIS_URL, runtime.settings.redis_prefix, events)
        )
        for _ in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    flushed, flushes_during_views = 0, 0
    while any(worker.is_alive() for worker in workers):
        written = await catalog.flush_view_counts(runtime)
        flushed += written
        flushes_during_views += written > 0
        await asyncio.sleep(0.01)
    for worker in workers:
        worker.join()
        assert worker.exitcode == 0
    flushed += await catalog.flush_view_counts(runtime)
    async with runtime.uow() as uow:
        stored = await uow.session.scalar(text("SELECT sum(view_count) FROM catalog_events"))
    assert flushed == stored == PROCESSES * VIEWS
    assert flushes_during_views > 1  # the flushes really raced the views
