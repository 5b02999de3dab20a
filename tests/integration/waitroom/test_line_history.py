"""The waiting line's history, for the console's chart over the whole sale: the dispatcher
samples each show's line every ten seconds into the queue store, which keeps the last
``LINE_SAMPLES`` (in order, older ones dropped) and keeps them after the sale's queue is
forgotten. On the memory store, the machine's Redis and a three-master Redis Cluster."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from boxoffice.platform.clock import FrozenClock
from boxoffice.platform.config import WaitroomSettings
from boxoffice.waitroom.dispatcher import Dispatcher
from boxoffice.waitroom.domain import LINE_SAMPLE_MS, LINE_SAMPLES, LineSample
from boxoffice.waitroom.redis_store import RedisQueueStore
from boxoffice.waitroom.store import MemoryQueueStore, QueueStore
from tests.support import backends
from tests.support.waitroom import Shows, sale_info

START = datetime(2026, 12, 24, 20, 0, tzinfo=UTC)
pytestmark = pytest.mark.services


@pytest.fixture(params=["memory", "redis", "redis-cluster"])
async def store(request: pytest.FixtureRequest, redis_prefix: str) -> AsyncIterator[QueueStore]:
    if request.param == "memory":
        yield MemoryQueueStore()
        return
    url = backends.redis_url_for(request.param)  # the cluster is this process's own
    redis = RedisQueueStore(url, redis_prefix, retention_ms=60_000)
    try:
        yield redis
    finally:
        await redis.close()
        await backends.clean_redis(redis_prefix, url)


async def test_the_store_keeps_the_last_samples_in_order(store: QueueStore) -> None:
    show_a, show_b = str(uuid.uuid4()), str(uuid.uuid4())
    for i in range(LINE_SAMPLES + 5):
        await store.record_line(show_a, LineSample(i * LINE_SAMPLE_MS, 1000 - i, i))
    await store.record_line(show_b, LineSample(7, 3, 1))
    history = await store.line_history(show_a)
    assert len(history) == LINE_SAMPLES
    assert history[0] == LineSample(5 * LINE_SAMPLE_MS, 995, 5)
    assert history[-1] == LineSample((LINE_SAMPLES + 4) * LINE_SAMPLE_MS, 1000 - 724, 724)
    assert await store.line_history(show_b) == [LineSample(7, 3, 1)]
    assert await store.line_history(str(uuid.uuid4())) == []


async def test_the_dispatcher_samples_every_ten_seconds_and_the_history_outlives_the_sale(
    store: QueueStore,
) -> None:
    clock = FrozenClock(START)
    info = sale_info(now=START, admit_per_second=2, max_active=1000)
    dispatcher = Dispatcher(store, Shows(info), WaitroomSettings(admission_ttl_seconds=60), clock)
    for i in range(100):
        await store.join(info.show_id, f"u{i}", entry_id=f"e{i}", now_ms=0, pre_queue=False)
    for _ in range(121):  # 30 s in 250 ms ticks
        await dispatcher.tick()
        clock.advance(timedelta(milliseconds=250))
    history = await store.line_history(info.show_id)
    start_ms = int(START.timestamp() * 1000)
    assert [s.at_ms - start_ms for s in history] == [0, 10_000, 20_000, 30_000]
    assert [s.waiting + s.admitted for s in history] == [100] * 4  # every number accounted
    assert [s.admitted for s in history] == [0, 20, 40, 60]  # 2 a second from the first tick
    await store.forget(info.show_id)  # the sale's queue is over: its chart is not
    assert await store.line_history(info.show_id) == history
