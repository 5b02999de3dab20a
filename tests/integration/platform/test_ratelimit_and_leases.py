"""Rate limits and leader leases on memory and on real Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from boxoffice.platform.errors import RateLimited
from boxoffice.platform.lease import LeaseStore, MemoryLeases, RedisLeases
from boxoffice.platform.ratelimit import RateLimiter, Rule
from boxoffice.platform.redisconn import command_client
from tests.support import backends


@pytest.fixture(params=["memory", "redis", "redis-cluster"])
async def limiter(request: pytest.FixtureRequest, redis_prefix: str) -> AsyncIterator[RateLimiter]:
    if request.param == "memory":
        yield RateLimiter(None, redis_prefix)
        return
    url = backends.redis_url_for(request.param)
    yield RateLimiter(url, redis_prefix)
    await backends.clean_redis(redis_prefix, url)


async def test_limit_refuses_past_the_rule_with_retry_after(limiter: RateLimiter) -> None:
    rule = Rule("test-join", 5, 60)
    results = await asyncio.gather(
        *(limiter.hit(rule, "user-1") for _ in range(12)), return_exceptions=True
    )
    refused = [r for r in results if isinstance(r, RateLimited)]
    assert len(refused) == 7
    assert all(1 <= r.retry_after <= 60 for r in refused)
    await limiter.hit(rule, "user-2")  # another identity has its own budget


async def test_check_counts_nothing_and_clear_resets(limiter: RateLimiter) -> None:
    rule = Rule("test-login", 2, 60)
    for _ in range(5):
        await limiter.check(rule, "acct")
    await limiter.record(rule, "acct")
    await limiter.record(rule, "acct")
    with pytest.raises(RateLimited):
        await limiter.check(rule, "acct")
    await limiter.clear(rule, "acct")
    await limiter.check(rule, "acct")


@pytest.fixture(params=["memory", "redis", "redis-cluster"])
async def leases(request: pytest.FixtureRequest, redis_prefix: str) -> AsyncIterator[LeaseStore]:
    if request.param == "memory":
        yield MemoryLeases()
        return
    url = backends.redis_url_for(request.param)
    client = command_client(url, max_connections=16)
    yield RedisLeases(client, redis_prefix)
    await backends.clean_redis(redis_prefix, url)
    await client.aclose()


async def test_one_holder_at_a_time_then_takeover_after_expiry(leases: LeaseStore) -> None:
    contenders = await asyncio.gather(
        *(leases.acquire("dispatcher", f"p{i}", 0.2) for i in range(10))
    )
    assert contenders.count(True) == 1
    winner = f"p{contenders.index(True)}"
    assert await leases.holder("dispatcher") == winner
    assert await leases.acquire("dispatcher", winner, 0.2)  # renewal
    assert not await leases.acquire("dispatcher", "standby", 0.2)
    await asyncio.sleep(0.3)  # the holder died: nobody renewed
    assert await leases.acquire("dispatcher", "standby", 0.2)
    await leases.release("dispatcher", winner)  # a stale holder cannot drop the new lease
    assert await leases.holder("dispatcher") == "standby"
    await leases.release("dispatcher", "standby")
    assert await leases.holder("dispatcher") is None


async def test_a_burst_beyond_the_pool_waits_instead_of_failing(limiter: RateLimiter) -> None:
    """300 checks at once through a pool of 64 connections: all answered, none refused."""
    rule = Rule("test-burst", 10_000, 60)
    await asyncio.gather(*(limiter.hit(rule, f"user-{i % 7}") for i in range(300)))
