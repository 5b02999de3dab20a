"""Auto-pipelining on the real Redis: every caller gets its own reply (or its own error)."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from boxoffice.platform.autopipeline import AutoPipeline
from tests.support import backends
from tests.support.processes import free_port

SCRIPT = "return redis.call('INCRBY', KEYS[1], ARGV[1])"


@pytest.fixture
async def client(redis_prefix: str) -> AsyncIterator[Redis]:
    backends.require_service("redis")
    redis = Redis.from_url(backends.REDIS_URL, decode_responses=True)
    yield redis
    await backends.clean_redis(redis_prefix)
    await redis.aclose()


async def test_concurrent_callers_each_get_their_own_reply(
    client: Redis, redis_prefix: str
) -> None:
    batch = AutoPipeline(client, max_batch=64)  # 500 callers: several batches, some in flight
    counter = f"{redis_prefix}:counter"
    replies = await asyncio.gather(*(batch.execute("INCR", counter) for _ in range(500)))
    assert sorted(int(reply) for reply in replies) == list(range(1, 501))
    assert int(await client.get(counter) or 0) == 500


async def test_an_error_reaches_only_the_caller_whose_command_failed(
    client: Redis, redis_prefix: str
) -> None:
    batch = AutoPipeline(client)
    await client.set(f"{redis_prefix}:word", "hello")
    results = await asyncio.gather(
        batch.execute("INCR", f"{redis_prefix}:n"),
        batch.execute("INCR", f"{redis_prefix}:word"),  # not a number
        batch.execute("GET", f"{redis_prefix}:word"),
        return_exceptions=True,
    )
    assert results[0] == 1
    assert isinstance(results[1], ResponseError)
    assert results[2] == "hello"


async def test_a_script_redis_does_not_know_is_loaded_first(
    client: Redis, redis_prefix: str
) -> None:
    # Never loaded (as after a Redis restart), and unique to this test: no SCRIPT FLUSH
    # that would pull scripts from under the tests running beside this one.
    script = f"-- {redis_prefix}\n{SCRIPT}"
    sha = hashlib.sha1(script.encode()).hexdigest()  # noqa: S324 - Redis names scripts so
    assert await client.script_exists(sha) == [False]
    batch = AutoPipeline(client)
    key = f"{redis_prefix}:scripted"
    replies = await asyncio.gather(*(batch.evalsha(script, sha, [key], [1]) for _ in range(10)))
    assert sorted(replies) == list(range(1, 11))
    assert await client.script_exists(sha) == [True]


async def test_a_dead_connection_fails_every_caller_of_the_batch() -> None:
    dead = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", decode_responses=True)
    batch = AutoPipeline(dead)
    results = await asyncio.gather(
        *(batch.execute("PING") for _ in range(5)), return_exceptions=True
    )
    assert all(isinstance(result, RedisConnectionError) for result in results)
    await dead.aclose()


async def test_a_caller_alone_in_its_turn_gets_its_reply_or_its_error(
    client: Redis, redis_prefix: str
) -> None:
    # Sent without a pipeline (one command): the same replies, errors and script loading.
    batch = AutoPipeline(client)
    await client.set(f"{redis_prefix}:word", "hello")
    assert await batch.execute("INCR", f"{redis_prefix}:alone") == 1
    assert await batch.execute("GET", f"{redis_prefix}:word") == "hello"
    with pytest.raises(ResponseError):
        await batch.execute("INCR", f"{redis_prefix}:word")
    script = f"-- alone {redis_prefix}\n{SCRIPT}"
    sha = hashlib.sha1(script.encode()).hexdigest()  # noqa: S324 - Redis names scripts so
    assert await batch.evalsha(script, sha, [f"{redis_prefix}:scripted-alone"], [5]) == 5
    nobody = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0")
    with pytest.raises(RedisConnectionError):
        await AutoPipeline(nobody).execute("PING")
    await nobody.aclose()
