"""The runtime: every infrastructure adapter of one process, built once in the app's lifespan."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from boxoffice.platform.clock import Clock, SystemClock
from boxoffice.platform.config import Settings
from boxoffice.platform.db import create_engine, session_factory
from boxoffice.platform.kv import KeyValueStore, MemoryStore, RedisStore
from boxoffice.platform.observability import Metrics
from boxoffice.platform.ratelimit import RateLimiter
from boxoffice.platform.security import KeyRing, VerifiedTokens, generate_key_file
from boxoffice.platform.uow import UnitOfWork


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    kv: KeyValueStore
    limiter: RateLimiter
    keys: KeyRing
    clock: Clock
    metrics: Metrics
    verified_tokens: VerifiedTokens = field(default_factory=VerifiedTokens)
    # Adapters that contexts attach at start-up (seat caches, queue stores, providers, ...).
    extensions: dict[str, Any] = field(default_factory=dict)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessions, self.clock)

    async def close(self) -> None:
        await self.kv.close()
        await self.engine.dispose()


def load_keys(settings: Settings) -> KeyRing:
    """The configured key, or in dev and test a key generated once into the data directory."""
    path = settings.jwt_private_key_file
    if path is None:
        path = settings.dev_key_path
        if not path.exists():
            with contextlib.suppress(FileExistsError):  # another process made it first
                generate_key_file(path)
    return KeyRing.from_files(path, settings.jwt_extra_public_key_files, settings.jwt_issuer)


def build_runtime(settings: Settings, clock: Clock | None = None) -> Runtime:
    settings.refuse_unsafe_production()
    engine = create_engine(
        settings.database_url, pool_size=settings.database_pool_size, echo=settings.database_echo
    )
    kv: KeyValueStore = (
        RedisStore(settings.redis_url, settings.redis_prefix)
        if settings.redis_url
        else MemoryStore(settings.redis_prefix)
    )
    return Runtime(
        settings=settings,
        engine=engine,
        sessions=session_factory(engine),
        kv=kv,
        limiter=RateLimiter(settings.redis_url, settings.redis_prefix),
        keys=load_keys(settings),
        clock=clock or SystemClock(),
        metrics=Metrics(),
    )
