"""Rate limits on the ``limits`` library: in memory embedded, on Redis in production."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from boxoffice.platform.errors import RateLimited
from boxoffice.platform.redisconn import command_pool


@dataclass(frozen=True)
class Rule:
    """``amount`` events per ``seconds`` for one named limit."""

    name: str
    amount: int
    seconds: int

    def item(self) -> RateLimitItem:
        return RateLimitItemPerSecond(self.amount, self.seconds, namespace=self.name)


class RateLimiter:
    def __init__(self, redis_url: str | None, prefix: str = "bo") -> None:
        self.storage: Storage
        if redis_url:
            uri = "async+" + redis_url if not redis_url.startswith("async+") else redis_url
            pool = command_pool(
                redis_url.removeprefix("async+"),
                max_connections=64,
                wait_seconds=5,
                decode_responses=False,
            )
            options: dict[str, Any] = {"connection_pool": pool}  # typed too narrowly upstream
            self.storage = RedisStorage(
                uri, implementation="redispy", key_prefix=f"{prefix}:rl", **options
            )
        else:
            self.storage = MemoryStorage()
        self._limiter = MovingWindowRateLimiter(self.storage)

    async def hit(self, rule: Rule, *identifiers: str, detail: str | None = None) -> None:
        """Count one event; raise :class:`RateLimited` when the rule is exceeded."""
        if not await self._limiter.hit(rule.item(), *identifiers):
            raise RateLimited(detail, retry_after=await self.retry_after(rule, *identifiers))

    async def check(self, rule: Rule, *identifiers: str, detail: str | None = None) -> None:
        """Raise :class:`RateLimited` when one more event would exceed the rule; count nothing."""
        if not await self._limiter.test(rule.item(), *identifiers):
            raise RateLimited(detail, retry_after=await self.retry_after(rule, *identifiers))

    async def record(self, rule: Rule, *identifiers: str) -> None:
        """Count one event without refusing (e.g. a failed login attempt)."""
        await self._limiter.hit(rule.item(), *identifiers)

    async def clear(self, rule: Rule, *identifiers: str) -> None:
        await self._limiter.clear(rule.item(), *identifiers)

    async def retry_after(self, rule: Rule, *identifiers: str) -> int:
        stats = await self._limiter.get_window_stats(rule.item(), *identifiers)
        return max(1, math.ceil(stats.reset_time - time.time()))

    async def ping(self) -> bool:
        return bool(await self.storage.check())
