"""The opening burst: hundreds of first joins of a show arriving at once, on real Redis.

Each of them finds the show not yet watched by its process. Subscribing must be
single-flight (one subscription, on a connection of its own): before, each concurrent
first join took a connection of the queue store's pool into SUBSCRIBE for good, and the
process could do no queue work until restarted. The Redis here is the test's own, so it
can be restarted in the middle.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager

from boxoffice.app import create_app
from boxoffice.platform.config import Settings, WaitroomSettings
from boxoffice.platform.runtime import Runtime
from boxoffice.waitroom import service
from boxoffice.waitroom.redis_store import RedisQueueStore
from tests.support.api import API
from tests.support.catalog import open_show
from tests.support.processes import bearer_tokens, server_env, servers
from tests.support.redis_server import PrivateRedis, private_redis

BURST = 200
POOL = 16  # far fewer connections than concurrent first joins
QUEUE = {"enabled": True, "admit_per_second": 1, "max_active": 5}

pytestmark = pytest.mark.xdist_group("opening-burst")


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[PrivateRedis]:
    with private_redis(tmp_path) as server:
        yield server


@pytest.fixture
async def app_on(
    redis_server: PrivateRedis,
    make_settings: Callable[..., Settings],
) -> AsyncIterator[tuple[httpx.AsyncClient, Runtime]]:
    settings = make_settings(
        redis_url=redis_server.url, waitroom=WaitroomSettings(redis_max_connections=POOL)
    )
    app = create_app(settings, ["identity", "catalog", "waitroom"], background=False)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client, app.state.runtime


async def join_all(
    client: httpx.AsyncClient, show_id: str, tokens: list[str]
) -> list[httpx.Response]:
    return await asyncio.gather(
        *(
            client.post(f"{API}/shows/{show_id}/queue", headers={"Authorization": f"Bearer {t}"})
            for t in tokens
        )
    )


def pool_in_use(runtime: Runtime) -> int:
    store = service.room(runtime).store
    assert isinstance(store, RedisQueueStore)
    return len(store._client.connection_pool._in_use_connections)  # type: ignore[attr-defined]


async def settled(runtime: Runtime) -> None:
    """Wait for the auto-pipeline's last batches to hand their connections back."""
    for _ in range(100):
        if pool_in_use(runtime) == 0:
            return
        await asyncio.sleep(0.02)


async def test_a_burst_of_first_joins_gets_every_place_and_keeps_the_pool(
    app_on: tuple[httpx.AsyncClient, Runtime], redis_server: PrivateRedis
) -> None:
    client, runtime = app_on
    show = await open_show(client, runtime, queue=QUEUE)
    joins = await join_all(client, show.show_id, bearer_tokens(runtime, BURST))

    assert [r.status_code for r in joins] == [201] * BURST, joins[0].text
    assert sorted(r.json()["number"] for r in joins) == list(range(1, BURST + 1))
    await settled(runtime)
    assert pool_in_use(runtime) == 0  # no command connection stayed behind in SUBSCRIBE
    assert redis_server.subscribers() == 1  # one subscription for the process
    # The process still does queue work: another show's burst, and a lone join after it.
    other = await open_show(client, runtime, queue=QUEUE)
    again = await join_all(client, other.show_id, bearer_tokens(runtime, BURST))
    assert {r.status_code for r in again} == {201}
    late = await join_all(client, show.show_id, bearer_tokens(runtime, 1))
    assert late[0].status_code == 201
    assert late[0].json()["number"] == BURST + 1
    assert redis_server.subscribers() == 1
    assert (await client.get("/ready")).status_code == 200


async def test_redis_restarted_in_the_middle_of_the_burst(
    app_on: tuple[httpx.AsyncClient, Runtime], redis_server: PrivateRedis
) -> None:
    client, runtime = app_on
    show = await open_show(client, runtime, queue=QUEUE)
    first = await join_all(client, show.show_id, bearer_tokens(runtime, BURST // 2))
    assert {r.status_code for r in first} == {201}

    redis_server.stop()
    down = await join_all(client, show.show_id, bearer_tokens(runtime, 5))
    assert {r.status_code for r in down} == {503}  # Retry-After, never a 500
    assert all(r.headers.get("retry-after") for r in down)
    assert (await client.get("/ready")).status_code == 503
    redis_server.start()  # empty: it keeps nothing on disk, as the shared one

    deadline = time.monotonic() + 20
    while (await client.get("/ready")).status_code != 200:
        assert time.monotonic() < deadline, "the subscription did not come back"
        await asyncio.sleep(0.1)
    tokens = bearer_tokens(runtime, BURST // 2)
    second = await join_all(client, show.show_id, tokens)
    assert [r.status_code for r in second] == [201] * len(tokens), second[0].text
    await settled(runtime)
    assert pool_in_use(runtime) == 0
    assert redis_server.subscribers() == 1

    # The subscription is live again: a serving update published now reaches the process.
    room = service.room(runtime)
    state = await room.store.state(show.show_id, 0)
    moved = type(state)(show.show_id, state.serving + 7, state.issued, 1.0, state.at_ms + 1)
    await room.store.publish(moved)
    deadline = time.monotonic() + 10
    while (room.board.current(show.show_id) or state).serving != moved.serving:
        assert time.monotonic() < deadline, "the update was not heard"
        await asyncio.sleep(0.05)


def test_two_processes_each_keep_one_subscription(
    redis_server: PrivateRedis, make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = make_settings(redis_url=redis_server.url)
    env = server_env(
        settings,
        BOXOFFICE_SERVE_CONTEXTS="identity,catalog,waitroom",
        BOXOFFICE_WAITROOM_REDIS_MAX_CONNECTIONS=str(POOL),
    )
    with servers([env, env], tmp_path) as urls:
        asyncio.run(_burst_on(urls, settings, redis_server))


async def _burst_on(urls: list[str], settings: Settings, redis_server: PrivateRedis) -> None:
    app = create_app(settings, ["identity", "catalog"], background=False)
    async with LifespanManager(app):
        runtime: Runtime = app.state.runtime
        async with httpx.AsyncClient(base_url=urls[0], timeout=30) as setup:
            show = await open_show(setup, runtime, queue=QUEUE)
        tokens = bearer_tokens(runtime, BURST)
        async with (
            httpx.AsyncClient(base_url=urls[0], timeout=30) as one,
            httpx.AsyncClient(base_url=urls[1], timeout=30) as two,
        ):
            halves = await asyncio.gather(
                join_all(one, show.show_id, tokens[::2]), join_all(two, show.show_id, tokens[1::2])
            )
            joins = [r for half in halves for r in half]
            assert [r.status_code for r in joins] == [201] * BURST, joins[0].text
            assert sorted(r.json()["number"] for r in joins) == list(range(1, BURST + 1))
            assert redis_server.subscribers() == 2  # one per process
            for client in (one, two):
                late = await join_all(client, show.show_id, bearer_tokens(runtime, 1))
                assert late[0].status_code == 201
