"""The cache port: read-through caching of rendered reads, invalidated by tag.

Invalidation uses *generational tags*: every entry is stored with the version each of
its tags had **before** the value was computed, and an invalidation gives the tag a new
version. A reader that computed a value from data read before a change committed stores
it with the old version, so the next ``get`` sees the mismatch and misses: no stale
entry survives an invalidation, however reads and writes interleave.

Adapters: :class:`MemoryCache` (a bounded LRU with TTLs, per process) and
:class:`RedisCache` (shared by every process; ``get`` is one ``MGET``). On Redis Cluster
``get`` reads with one ``MGET`` per slot its key and tags fall in (``mget_nonatomic``), sent
side by side: an entry whose key and tags share a ``{...}`` hash tag costs one.
:class:`NullCache` turns caching off (benchmarks, debugging).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio.cluster import RedisCluster

from boxoffice.platform.autopipeline import batching
from boxoffice.platform.config import CacheSettings
from boxoffice.platform.ids import new_id
from boxoffice.platform.kv import RedisStore
from boxoffice.platform.redisconn import RedisClient
from boxoffice.platform.runtime import Runtime

ABSENT = "0"  # the version of a tag that was never invalidated (or whose marker expired)
_SEP = "\x1f"  # between the stored versions and the value


@dataclass(frozen=True)
class Lookup:
    """The outcome of :meth:`Cache.get`: the value on a hit, else the versions to store with."""

    value: str | None
    versions: tuple[str, ...]

    @property
    def hit(self) -> bool:
        return self.value is not None


class Cache(Protocol):
    async def get(self, key: str, tags: Sequence[str] = ()) -> Lookup: ...
    async def set(
        self, key: str, value: str, lookup: Lookup, tags: Sequence[str] = (), ttl: float = 300.0
    ) -> None: ...
    async def delete(self, *keys: str) -> None: ...
    async def invalidate_tags(self, *tags: str) -> None: ...
    async def close(self) -> None: ...


async def cached(
    cache: Cache,
    key: str,
    tags: Sequence[str],
    compute: Callable[[], Awaitable[str | None]],
    *,
    ttl: float,
) -> str | None:
    """Read-through: the cached value, or ``compute()`` stored under the pre-read versions.

    ``None`` from ``compute`` (nothing to show) is not cached.
    """
    lookup = await cache.get(key, tags)
    if lookup.value is not None:
        return lookup.value
    value = await compute()
    if value is not None:
        await cache.set(key, value, lookup, tags, ttl)
    return value


def _pack(versions: Sequence[str], value: str) -> str:
    return ",".join(versions) + _SEP + value


def _unpack(raw: str) -> tuple[tuple[str, ...], str] | None:
    head, sep, value = raw.partition(_SEP)
    if not sep:
        return None
    return (tuple(head.split(",")) if head else ()), value


class NullCache:
    """Caches nothing: every read computes."""

    async def close(self) -> None:
        return None

    async def get(self, key: str, tags: Sequence[str] = ()) -> Lookup:
        return Lookup(None, ())

    async def set(
        self, key: str, value: str, lookup: Lookup, tags: Sequence[str] = (), ttl: float = 300.0
    ) -> None:
        return None

    async def delete(self, *keys: str) -> None:
        return None

    async def invalidate_tags(self, *tags: str) -> None:
        return None


class MemoryCache:
    """A per-process LRU bounded to ``max_entries``, with TTLs and generational tags.

    Only right for one process (the embedded run): other processes would not see its
    invalidations. Tag versions are bounded too (least recently touched tags forgotten);
    a forgotten tag reads as absent, which only makes entries that carry it miss.
    """

    def __init__(self, max_entries: int = 10_000, *, max_tags: int | None = None) -> None:
        self.max_entries = max_entries
        self.max_tags = max_tags or max_entries * 4
        self._entries: OrderedDict[str, tuple[str, float]] = OrderedDict()
        self._tags: OrderedDict[str, str] = OrderedDict()

    async def close(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def _versions(self, tags: Sequence[str]) -> tuple[str, ...]:
        return tuple(self._tags.get(tag, ABSENT) for tag in tags)

    async def get(self, key: str, tags: Sequence[str] = ()) -> Lookup:
        versions = self._versions(tags)
        item = self._entries.get(key)
        if item is None:
            return Lookup(None, versions)
        raw, deadline = item
        unpacked = _unpack(raw)
        if deadline <= time.monotonic() or unpacked is None or unpacked[0] != versions:
            del self._entries[key]
            return Lookup(None, versions)
        self._entries.move_to_end(key)
        return Lookup(unpacked[1], versions)

    async def set(
        self, key: str, value: str, lookup: Lookup, tags: Sequence[str] = (), ttl: float = 300.0
    ) -> None:
        if lookup.versions != self._versions(tags):
            return  # invalidated while the value was being computed: it may be stale
        self._entries[key] = (_pack(lookup.versions, value), time.monotonic() + ttl)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    async def delete(self, *keys: str) -> None:
        for key in keys:
            self._entries.pop(key, None)

    async def invalidate_tags(self, *tags: str) -> None:
        for tag in tags:
            self._tags[tag] = new_id()
            self._tags.move_to_end(tag)
        while len(self._tags) > self.max_tags:
            self._tags.popitem(last=False)


class RedisCache:
    """Redis adapter: entries and tag versions as plain keys under ``<prefix>:cache:``.

    A tag's version marker lives ``tag_ttl_factor`` times the longest entry TTL, so when it
    expires every entry stored under an older version has expired too.
    """

    def __init__(
        self,
        client: RedisClient,
        prefix: str,
        *,
        max_ttl: float = 3600.0,
        tag_ttl_factor: float = 2.0,
    ) -> None:
        self.client = client
        # Reads of the same turn share one round trip (a sale reads sale info per request).
        self._batch = batching(client)
        self.prefix = f"{prefix}:cache"
        self.max_ttl = max_ttl
        self.tag_ttl = int(max_ttl * tag_ttl_factor) + 1

    def _key(self, key: str) -> str:
        return f"{self.prefix}:k:{key}"

    def _tag(self, tag: str) -> str:
        return f"{self.prefix}:t:{tag}"

    async def get(self, key: str, tags: Sequence[str] = ()) -> Lookup:
        names = [self._key(key), *(self._tag(t) for t in tags)]
        if isinstance(self.client, RedisCluster):  # one MGET per slot, side by side
            raw = await self.client.mget_nonatomic(names)
        elif self._batch is None:
            raw = await self.client.mget(names)
        else:
            raw = await self._batch.execute("MGET", *names)
        versions = tuple(ABSENT if v is None else _text(v) for v in raw[1:])
        if raw[0] is None:
            return Lookup(None, versions)
        unpacked = _unpack(_text(raw[0]))
        if unpacked is None or unpacked[0] != versions:
            return Lookup(None, versions)
        return Lookup(unpacked[1], versions)

    async def set(
        self, key: str, value: str, lookup: Lookup, tags: Sequence[str] = (), ttl: float = 300.0
    ) -> None:
        ttl = min(ttl, self.max_ttl)
        await self.client.set(self._key(key), _pack(lookup.versions, value), px=int(ttl * 1000))

    async def delete(self, *keys: str) -> None:
        if keys:
            await self.client.delete(*(self._key(k) for k in keys))

    async def close(self) -> None:
        if self._batch is not None:
            await self._batch.close()

    async def invalidate_tags(self, *tags: str) -> None:
        if not tags:
            return
        async with self.client.pipeline(transaction=False) as pipe:
            for tag in tags:
                pipe.set(self._tag(tag), new_id(), ex=self.tag_ttl)
            await pipe.execute()


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


def build_cache(settings: CacheSettings, redis: RedisClient | None, prefix: str) -> Cache:
    """The adapter the settings ask for: off, Redis when a client is given, else memory."""
    if not settings.enabled:
        return NullCache()
    if redis is not None:
        return RedisCache(redis, prefix, max_ttl=max(settings.default_ttl_seconds, 3600.0))
    return MemoryCache(settings.max_entries)


def attach_cache(runtime: Runtime) -> Cache:
    """The process's cache (``runtime.cache``), built once: Redis when the runtime's
    key-value store is Redis, else a bounded in-memory LRU (or off by setting)."""
    if runtime.cache is None:
        redis = runtime.kv.client if isinstance(runtime.kv, RedisStore) else None
        runtime.cache = build_cache(runtime.settings.cache, redis, runtime.kv.prefix)
    return runtime.cache
