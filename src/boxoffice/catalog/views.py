"""View counters: every detail view counts in Redis (or memory), never in the database.

``flush`` moves counts to the database in batches. Taking a batch is an atomic swap (the
live hash is renamed to a *pending* hash in one Lua script), so a view that races the
flush lands either in the batch or in the fresh live hash, never nowhere. A batch stays
pending until the database has it, and the database records each applied batch id, so a
flush that crashed half-way is retried exactly once, not lost and not counted twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from boxoffice.platform.autopipeline import AutoPipeline
from boxoffice.platform.ids import new_id
from boxoffice.platform.redisconn import RedisClient


@dataclass(frozen=True)
class ViewBatch:
    batch_id: str
    counts: dict[str, int]  # event id -> views


class ViewCounter(Protocol):
    async def add(self, event_id: str, amount: int = 1) -> None: ...
    async def add_and_count(self, event_id: str) -> int: ...
    async def unflushed(self, event_ids: Sequence[str]) -> dict[str, int]: ...
    async def take_batch(self) -> ViewBatch | None: ...
    async def finish_batch(self, batch_id: str) -> None: ...


class MemoryViewCounter:
    """One process's counters (the embedded run)."""

    def __init__(self) -> None:
        self._live: dict[str, int] = {}
        self._pending: dict[str, int] | None = None
        self._batch_id: str | None = None

    async def add(self, event_id: str, amount: int = 1) -> None:
        self._live[event_id] = self._live.get(event_id, 0) + amount

    async def add_and_count(self, event_id: str) -> int:
        """Count one view; the event's views not yet flushed, this one included."""
        await self.add(event_id)
        return (await self.unflushed([event_id]))[event_id]

    async def unflushed(self, event_ids: Sequence[str]) -> dict[str, int]:
        pending = self._pending or {}
        return {e: self._live.get(e, 0) + pending.get(e, 0) for e in event_ids}

    async def take_batch(self) -> ViewBatch | None:
        if self._pending is None or self._batch_id is None:
            if not self._live:
                return None
            self._pending, self._live, self._batch_id = self._live, {}, new_id()
        return ViewBatch(self._batch_id, dict(self._pending))

    async def finish_batch(self, batch_id: str) -> None:
        if self._batch_id == batch_id:
            self._pending, self._batch_id = None, None


# KEYS: live hash, pending hash, batch id. ARGV: a new batch id.
_TAKE = """
local batch = redis.call('GET', KEYS[3])
if batch and redis.call('EXISTS', KEYS[2]) == 1 then
  return {batch, redis.call('HGETALL', KEYS[2])}
end
if redis.call('EXISTS', KEYS[1]) == 0 then
  return false
end
redis.call('RENAME', KEYS[1], KEYS[2])
redis.call('SET', KEYS[3], ARGV[1])
return {ARGV[1], redis.call('HGETALL', KEYS[2])}
"""

# KEYS: live hash, pending hash. ARGV: the event. One view counted; its views not yet
# flushed returned, this one included (atomic: a flush's swap comes before or after both).
_ADD_AND_COUNT = """
local live = redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
return live + tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
"""

# KEYS: pending hash, batch id. ARGV: the batch id that was applied.
_FINISH = """
if redis.call('GET', KEYS[2]) == ARGV[1] then
  return redis.call('DEL', KEYS[1], KEYS[2])
end
return 0
"""


class RedisViewCounter:
    """Counters in one Redis hash; the three keys share a hash tag (Redis Cluster)."""

    def __init__(self, client: RedisClient, prefix: str) -> None:
        self.client = client
        base = f"{prefix}:catalog:{{views}}"
        self.live, self.pending, self.batch = f"{base}:live", f"{base}:pending", f"{base}:batch"
        self._take = client.register_script(_TAKE)
        self._finish = client.register_script(_FINISH)
        self._count = client.register_script(_ADD_AND_COUNT)
        # Every event page read counts a view: sent with the other commands of the loop's
        # turn (the keys share a slot, so a cluster's pipeline takes them to one node).
        self._batch = AutoPipeline(client)

    async def add(self, event_id: str, amount: int = 1) -> None:
        await self.client.hincrby(self.live, event_id, amount)

    async def add_and_count(self, event_id: str) -> int:
        """Count one view; the event's views not yet flushed, this one included (one script,
        in the turn's pipeline)."""
        keys, args = [self.live, self.pending], [event_id]
        return int(await self._batch.evalsha(_ADD_AND_COUNT, self._count.sha, keys, args))

    async def unflushed(self, event_ids: Sequence[str]) -> dict[str, int]:
        if not event_ids:
            return {}
        async with self.client.pipeline(transaction=False) as pipe:
            pipe.hmget(self.live, list(event_ids))
            pipe.hmget(self.pending, list(event_ids))
            live, pending = await pipe.execute()
        return {
            e: int(a or 0) + int(b or 0) for e, a, b in zip(event_ids, live, pending, strict=True)
        }

    async def take_batch(self) -> ViewBatch | None:
        result = await self._take(keys=[self.live, self.pending, self.batch], args=[new_id()])
        if not result:
            return None
        batch_id, flat = _text(result[0]), result[1]
        counts = {_text(flat[i]): int(flat[i + 1]) for i in range(0, len(flat), 2)}
        return ViewBatch(batch_id, counts)

    async def finish_batch(self, batch_id: str) -> None:
        await self._finish(keys=[self.pending, self.batch], args=[batch_id])


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value
