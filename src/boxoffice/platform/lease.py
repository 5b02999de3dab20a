"""Leader leases: one holder of a named lease at a time, renewed while alive, taken over on expiry.

Used by roles that must run once across instances (the dispatcher, the scheduler). The
memory adapter serves one process; the Redis adapter serves many (SET NX PX to take,
a compare-and-set script to renew or release, so a holder can never extend or drop a
lease another holder has taken since).
"""

from __future__ import annotations

import time
from typing import Protocol

from redis.asyncio import Redis

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class LeaseStore(Protocol):
    async def acquire(self, name: str, holder: str, ttl_seconds: float) -> bool:
        """Take the lease, or renew it if ``holder`` already has it. True when held now."""
        ...

    async def release(self, name: str, holder: str) -> None:
        """Give the lease up if ``holder`` has it."""
        ...

    async def holder(self, name: str) -> str | None: ...


class MemoryLeases:
    def __init__(self) -> None:
        self._leases: dict[str, tuple[str, float]] = {}

    async def acquire(self, name: str, holder: str, ttl_seconds: float) -> bool:
        now = time.monotonic()
        current = self._leases.get(name)
        if current is None or current[1] <= now or current[0] == holder:
            self._leases[name] = (holder, now + ttl_seconds)
            return True
        return False

    async def release(self, name: str, holder: str) -> None:
        current = self._leases.get(name)
        if current is not None and current[0] == holder:
            del self._leases[name]

    async def holder(self, name: str) -> str | None:
        current = self._leases.get(name)
        if current is None or current[1] <= time.monotonic():
            return None
        return current[0]


class RedisLeases:
    def __init__(self, client: Redis, prefix: str) -> None:
        self._client = client
        self._prefix = prefix
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)

    def _key(self, name: str) -> str:
        return f"{self._prefix}:lease:{{{name}}}"

    async def acquire(self, name: str, holder: str, ttl_seconds: float) -> bool:
        key, ttl_ms = self._key(name), max(1, int(ttl_seconds * 1000))
        if await self._client.set(key, holder, nx=True, px=ttl_ms):
            return True
        return bool(await self._renew(keys=[key], args=[holder, ttl_ms]))

    async def release(self, name: str, holder: str) -> None:
        await self._release(keys=[self._key(name)], args=[holder])

    async def holder(self, name: str) -> str | None:
        value = await self._client.get(self._key(name))
        return None if value is None else str(value)
