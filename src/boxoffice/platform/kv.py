"""The key-value port: counters, short-lived state, pub/sub.

Two adapters with one contract: :class:`MemoryStore` for the embedded run and
:class:`RedisStore` for production. Keys are namespaced with the configured prefix.
Contexts that need atomic multi-key changes (seat marks, queue numbers) build their own
ports on top of :attr:`RedisStore.client`; this one covers the common operations.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from boxoffice.platform.autopipeline import batching
from boxoffice.platform.redisconn import RedisClient, command_client


class KeyValueStore(Protocol):
    prefix: str

    async def ping(self) -> bool: ...
    async def get(self, key: str) -> str | None: ...
    async def get_many(self, *keys: str) -> list[str | None]:
        """Several keys' values in one round trip (on a Redis Cluster the keys must share
        a hash tag, ``{...}``, so they live in one slot)."""
        ...

    async def set(
        self, key: str, value: str, *, ttl: float | None = None, only_if_absent: bool = False
    ) -> bool: ...
    async def pop(self, key: str) -> str | None: ...
    async def incr(self, key: str, amount: int = 1) -> int: ...
    async def delete(self, *keys: str) -> int: ...
    async def expire(self, key: str, ttl: float) -> bool: ...
    async def publish(self, channel: str, message: str) -> None: ...
    def subscribe(self, channel: str) -> AbstractAsyncContextManager[AsyncIterator[str]]: ...
    async def close(self) -> None: ...


class MemoryStore:
    """In-process store with TTLs; exact semantics of the Redis commands it mirrors."""

    def __init__(self, prefix: str = "bo") -> None:
        self.prefix = prefix
        self._data: dict[str, tuple[str, float | None]] = {}
        self._channels: dict[str, set[asyncio.Queue[str]]] = {}

    def _live(self, key: str) -> str | None:
        item = self._data.get(key)
        if item is None:
            return None
        value, deadline = item
        if deadline is not None and deadline <= time.monotonic():
            del self._data[key]
            return None
        return value

    async def ping(self) -> bool:
        return True

    async def get(self, key: str) -> str | None:
        return self._live(key)

    async def get_many(self, *keys: str) -> list[str | None]:
        return [self._live(key) for key in keys]

    async def set(
        self, key: str, value: str, *, ttl: float | None = None, only_if_absent: bool = False
    ) -> bool:
        if only_if_absent and self._live(key) is not None:
            return False
        self._data[key] = (value, time.monotonic() + ttl if ttl else None)
        return True

    async def pop(self, key: str) -> str | None:
        value = self._live(key)
        self._data.pop(key, None)
        return value

    async def incr(self, key: str, amount: int = 1) -> int:
        current = self._live(key)
        deadline = self._data[key][1] if current is not None else None
        new = int(current or 0) + amount
        self._data[key] = (str(new), deadline)
        return new

    async def delete(self, *keys: str) -> int:
        removed = 0
        for key in keys:
            if self._live(key) is not None:
                removed += 1
            self._data.pop(key, None)
        return removed

    async def expire(self, key: str, ttl: float) -> bool:
        value = self._live(key)
        if value is None:
            return False
        self._data[key] = (value, time.monotonic() + ttl)
        return True

    async def publish(self, channel: str, message: str) -> None:
        for queue in self._channels.get(channel, ()):
            queue.put_nowait(message)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[str]]:
        queue: asyncio.Queue[str] = asyncio.Queue()
        self._channels.setdefault(channel, set()).add(queue)

        async def messages() -> AsyncIterator[str]:
            while True:
                yield await queue.get()

        try:
            yield messages()
        finally:
            self._channels[channel].discard(queue)

    async def close(self) -> None:
        self._data.clear()


class RedisStore:
    """Redis adapter (redis-py asyncio). ``client`` is shared with context adapters."""

    def __init__(self, url: str, prefix: str = "bo", max_connections: int = 64) -> None:
        self.prefix = prefix
        self.client: RedisClient = command_client(url, max_connections=max_connections)
        # Reads made on hot paths (every authenticated request: platform/authz.py) travel
        # together with the other requests' of the same event-loop turn.
        self._batch = batching(self.client)

    async def ping(self) -> bool:
        return bool(await self.client.ping())

    async def _run(self, *command: Any) -> Any:
        """One command, in this turn's pipeline where there is one (on hot paths: an
        admission's check, a payment's ledger), else alone (a cluster routes it by key)."""
        if self._batch is not None:
            return await self._batch.execute(*command)
        return await self.client.execute_command(*command)

    async def get(self, key: str) -> str | None:
        value = await self._run("GET", key)
        return None if value is None else str(value)

    async def get_many(self, *keys: str) -> list[str | None]:
        if self._batch is None:  # a cluster's MGET is split by slot
            values = await self.client.mget(list(keys))
        else:
            values = await self._batch.execute("MGET", *keys)
        return [None if value is None else str(value) for value in values]

    async def set(
        self, key: str, value: str, *, ttl: float | None = None, only_if_absent: bool = False
    ) -> bool:
        options = [*(["PX", int(ttl * 1000)] if ttl else []), *(["NX"] if only_if_absent else [])]
        return bool(await self._run("SET", key, value, *options))

    async def pop(self, key: str) -> str | None:
        value = await self._run("GETDEL", key)
        return None if value is None else str(value)

    async def incr(self, key: str, amount: int = 1) -> int:
        return int(await self._run("INCRBY", key, amount))

    async def delete(self, *keys: str) -> int:
        return int(await self.client.delete(*keys)) if keys else 0

    async def expire(self, key: str, ttl: float) -> bool:
        return bool(await self._run("PEXPIRE", key, int(ttl * 1000)))

    async def publish(self, channel: str, message: str) -> None:
        await self.client.publish(channel, message)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[str]]:
        if isinstance(self.client, RedisCluster):
            await self.client.initialize()  # its pub/sub finds the channel's node by slot
        pubsub = self.client.pubsub()
        await pubsub.subscribe(channel)

        async def messages() -> AsyncIterator[str]:
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    yield str(message["data"])

        try:
            yield messages()
        finally:
            await pubsub.unsubscribe(channel)
            await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def close(self) -> None:
        if self._batch is not None:
            await self._batch.close()
        await self.client.aclose()
        if isinstance(self.client, Redis):  # a pool we passed in is ours to close
            await self.client.connection_pool.disconnect()


def key(store: KeyValueStore, *parts: str) -> str:
    """A namespaced key: ``<prefix>:<part>:<part>``."""
    return ":".join((store.prefix, *parts))


async def claim(store: KeyValueStore, key: str, holder: str, *, ttl: float | None = None) -> bool:
    """Set ``key`` to ``holder`` if it is absent; True when the key is ``holder``'s now.

    Set-if-absent that a retried command cannot turn against its caller: a SET NX whose
    answer was lost with its connection is sent again by the Redis client, and the second
    one finds the first one's write and answers "not set". ``holder`` is unique to the
    caller (``new_id()``), so finding it there means the key is the caller's after all.
    """
    if await store.set(key, holder, ttl=ttl, only_if_absent=True):
        return True
    return await store.get(key) == holder
