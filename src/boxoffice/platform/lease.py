"""Leader leases: one holder of a named lease at a time, renewed while alive, taken over on expiry.

Used by roles that must run once across instances (the dispatcher, the scheduler). The
memory adapter serves one process; the Redis adapter serves many (SET NX PX to take,
a compare-and-set script to renew or release, so a holder can never extend or drop a
lease another holder has taken since). The database adapter serves many processes when
there is no Redis: one row per lease, taken and renewed by a conditional UPDATE (the
database's row lock decides between racing takers), expiry judged by the injected clock.
Its table, ``platform_leases``, is created by the batch migration branch (batch_0001).
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Protocol

from sqlalchemy import String, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Mapped, mapped_column

from boxoffice.platform.clock import Clock
from boxoffice.platform.db import Base, UTCTime
from boxoffice.platform.redisconn import RedisClient

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
    def __init__(self, client: RedisClient, prefix: str) -> None:
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


class LeaseRow(Base):
    """One named lease and its current holder (``DatabaseLeases``)."""

    __tablename__ = "platform_leases"

    name: Mapped[str] = mapped_column(String(120), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[UTCTime]


class DatabaseLeases:
    """Leases in the application database, for deployments without Redis.

    Each call is one short transaction of its own (never inside a use case's unit of
    work). Expiry uses ``clock``: hosts sharing a lease must keep their clocks in sync
    (NTP), with a TTL far above the skew.
    """

    def __init__(self, engine: AsyncEngine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock

    async def acquire(self, name: str, holder: str, ttl_seconds: float) -> bool:
        now = self._clock.now()
        expires = now + timedelta(seconds=ttl_seconds)
        take = (
            update(LeaseRow)
            .where(
                LeaseRow.name == name,
                or_(LeaseRow.holder == holder, LeaseRow.expires_at <= now),
            )
            .values(holder=holder, expires_at=expires)
        )
        async with self._engine.begin() as conn:
            if (await conn.execute(take)).rowcount == 1:
                return True
        try:
            async with self._engine.begin() as conn:
                await conn.execute(
                    insert(LeaseRow).values(name=name, holder=holder, expires_at=expires)
                )
        except IntegrityError:
            return False  # someone else holds it (or took it between our two statements)
        return True

    async def release(self, name: str, holder: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                delete(LeaseRow).where(LeaseRow.name == name, LeaseRow.holder == holder)
            )

    async def holder(self, name: str) -> str | None:
        async with self._engine.connect() as conn:
            row = await conn.scalar(
                select(LeaseRow.holder).where(
                    LeaseRow.name == name, LeaseRow.expires_at > self._clock.now()
                )
            )
        return None if row is None else str(row)
