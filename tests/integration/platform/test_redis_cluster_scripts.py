"""Every Lua script of the code runs on a three-master Redis Cluster, through its adapter.

A script may touch only the keys it is given, and on a cluster they must share one slot
(a hash tag per show: ``{show_id}``); otherwise Redis refuses it with CROSSSLOT. Each
adapter below is driven through the calls that run its scripts, with keys as the code
builds them; then every script found in the source (a module-level string calling
``redis.call``) must have been loaded on the cluster, so a new script cannot be missed.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import pkgutil
import uuid
from collections.abc import AsyncIterator

import pytest

import boxoffice
from boxoffice.catalog.views import RedisViewCounter
from boxoffice.platform.lease import RedisLeases
from boxoffice.platform.redisconn import RedisClient, command_client
from boxoffice.seating.board import _LOAD_BATCH, RedisBoard
from boxoffice.seating.domain import Mark
from boxoffice.waitroom.domain import EntryLeft, ServingState
from boxoffice.waitroom.redis_store import RedisQueueStore
from boxoffice.waitroom.store import JoinLimits
from tests.support import backends

pytestmark = pytest.mark.services
NOW = 1_900_000_000_000


def scripts_in_source() -> dict[str, str]:
    """sha1 -> where, for every module-level Lua script of the package."""
    found: dict[str, str] = {}
    for info in pkgutil.walk_packages(boxoffice.__path__, "boxoffice."):
        if ".migrations." in info.name or info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if isinstance(value, str) and "redis.call(" in value:
                found[hashlib.sha1(value.encode()).hexdigest()] = f"{info.name}.{name}"  # noqa: S324
    return found


@pytest.fixture
async def cluster(redis_prefix: str) -> AsyncIterator[RedisClient]:
    url = backends.redis_url_for("redis-cluster")
    client = command_client(url, max_connections=16)
    await client.script_flush()  # every primary: what is loaded afterwards was run here
    try:
        yield client
    finally:
        await backends.clean_redis(redis_prefix, url)
        await client.aclose()


async def loaded(client: RedisClient, shas: list[str]) -> set[str]:
    on_some_node: set[str] = set()
    for node in client.get_primaries():  # type: ignore[union-attr]
        exists = await client.execute_command("SCRIPT EXISTS", *shas, target_nodes=node)
        on_some_node |= {sha for sha, there in zip(shas, exists, strict=True) if there}
    return on_some_node


async def test_every_lua_script_runs_on_the_cluster_with_its_keys_in_one_slot(
    cluster: RedisClient, redis_prefix: str
) -> None:
    url = backends.redis_url_for("redis-cluster")
    show_a, show_b = str(uuid.uuid4()), str(uuid.uuid4())  # two shows: (most likely) two slots

    # The waiting room: join (with the sliding-window limits), leave, open, admit.
    queue = RedisQueueStore(url, redis_prefix, retention_ms=60_000)
    try:
        limits = JoinLimits(address="10.0.0.1", per_user=5, per_address=50)
        for show_id in (show_a, show_b):
            await queue.join(show_id, "early", entry_id=f"{show_id}.e", now_ms=NOW, pre_queue=True)
            assert await queue.open(show_id, []) == 1
            joined = await asyncio.gather(
                *(
                    queue.join(
                        show_id,
                        f"fan-{i}",
                        entry_id=f"{show_id}.{i}",
                        now_ms=NOW,
                        pre_queue=False,
                        limits=limits,
                    )
                    for i in range(20)
                )
            )
            assert sorted(entry.number or 0 for entry, _ in joined) == list(range(2, 22))
            assert (await queue.leave(show_id, f"{show_id}.3")) is not None
            for at in (NOW, NOW + 1000):  # the first tick starts the clock, the next admits
                result = await queue.admit(
                    show_id, now_ms=at, rate=5.0, max_active=100, ttl_ms=60_000, burst_ms=1000
                )
            assert result.serving >= 5
    finally:
        await queue.close()

    # The seat board: a load in several chunks (fill, then load), mark, settle, unmark, release.
    board = RedisBoard(cluster, redis_prefix)
    seats = [f"s{i}" for i in range(_LOAD_BATCH + 5)]
    await board.load(show_a, [(seat, Mark("s", "order-0", 0)) for seat in seats[: _LOAD_BATCH + 1]])
    hold = Mark("h", "hold-1", NOW + 60_000)
    assert (await board.mark(show_a, seats[-2:], hold, NOW)).status == "ok"
    assert (await board.mark(show_a, seats[-2:], Mark("h", "hold-2", NOW + 1), NOW)).status == (
        "taken"
    )
    await board.settle(show_a, seats[-1:], Mark("s", "order-1", 0))
    await board.unmark(show_a, seats[-2:-1], "hold-1")
    await board.release(show_a, seats[-1:], "order-1")
    await board.close()

    # View counters (three keys under one tag) and leases.
    views = RedisViewCounter(cluster, redis_prefix)
    await views.add("event-1", 3)
    batch = await views.take_batch()
    assert batch is not None
    assert batch.counts == {"event-1": 3}
    assert await views.add_and_count("event-1") == 4  # 3 pending, 1 live
    await views.finish_batch(batch.batch_id)
    assert await views.add_and_count("event-1") == 2
    leases = RedisLeases(cluster, redis_prefix)
    assert await leases.acquire("dispatcher", "me", 5)
    assert await leases.acquire("dispatcher", "me", 5)  # the renewal script
    await leases.release("dispatcher", "me")

    scripts = scripts_in_source()
    assert len(scripts) >= 12, scripts
    missing = set(scripts) - await loaded(cluster, list(scripts))
    assert not missing, [scripts[sha] for sha in missing]


async def test_the_serving_counter_reaches_watchers_over_sharded_pubsub(
    redis_prefix: str,
) -> None:
    url = backends.redis_url_for("redis-cluster")
    publisher = RedisQueueStore(url, redis_prefix, retention_ms=60_000)
    watcher = RedisQueueStore(url, redis_prefix, retention_ms=60_000)
    received: asyncio.Queue[ServingState | EntryLeft] = asyncio.Queue()
    listening = asyncio.create_task(watcher.listen(received.put_nowait))
    shows = [str(uuid.uuid4()) for _ in range(6)]  # spread over the three masters
    try:
        for show_id in shows:
            await watcher.watch(show_id)
        for n, show_id in enumerate(shows):
            await publisher.publish(ServingState(show_id, n, 10, 2.0, NOW))
        got = [await asyncio.wait_for(received.get(), 10) for _ in shows]
        assert sorted(message.show_id for message in got) == sorted(shows)
        assert await watcher.ping()
    finally:
        listening.cancel()
        await publisher.close()
        await watcher.close()
        await backends.clean_redis(redis_prefix, url)
