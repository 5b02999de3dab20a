from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from boxoffice.platform.kv import KeyValueStore, MemoryStore, RedisStore
from tests.support import backends


@pytest.fixture(params=["memory", "redis", "redis-cluster"])
async def store(request: pytest.FixtureRequest, redis_prefix: str) -> AsyncIterator[KeyValueStore]:
    """The key-value port on each of its backends: the memory adapter, real Redis, a Redis
    Cluster (the kv contract's tests and the checkout pressure's)."""
    if request.param == "memory":
        yield MemoryStore(redis_prefix)
        return
    url = backends.redis_url_for(request.param)
    redis_store = RedisStore(url, redis_prefix)
    yield redis_store
    await backends.clean_redis(redis_prefix, url)
    await redis_store.close()
