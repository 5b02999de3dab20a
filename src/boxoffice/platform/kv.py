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
from typing import Protocol

from redis.asyncio import Redis

from boxoffice.platform.redisconn import command_client


class KeyValueStore(Protocol):
    prefix: str

    async def ping(self) -> bool: ...
    async def get(self, key: str) -> str | None: ...
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
        self.client: Redis = command_client(url, max_connections=max_connections)

    async def ping(self) -> bool:
        return bool(await self.client.ping())

    async def get(self, key: str) -> str | None:
        value = await self.client.get(key)
        return None if value is None else str(value)

    async def set(
        self, key: str, value: str, *, ttl: float | None = None, only_if_absent: bool = False
    ) -> bool:
        px = int(ttl * 1000) if ttl else None
        return bool(await self.client.set(key, value, px=px, nx=only_if_absent))

    async def pop(self, key: str) -> str | None:
        value = await self.client.getdel(key)
        return None if value is None else str(value)

    async def incr(self, key: str, amount: int = 1) -> int:
        return int(await self.client.incrby(key, amount))

    async def delete(self, *keys: str) -> int:
        return int(await self.client.delete(*keys)) if keys else 0

    async def expire(self, key: str, ttl: float) -> bool:
        return bool(await self.client.pexpire(key, int(ttl * 1000)))

    async def publish(self, channel: str, message: str) -> None:
        await self.client.publish(channel, message)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[str]]:
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
        await self.client.aclose()
        await self.client.connection_pool.disconnect()  # a pool we passed in is ours to close


def key(store: KeyValueStore, *parts: str) -> str:
    """A namespaced key: ``<prefix>:<part>:<part>``."""
    return ":".join((store.prefix, *parts))
