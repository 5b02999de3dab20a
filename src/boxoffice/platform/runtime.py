"""The runtime: every infrastructure adapter of one process, built once in the app's lifespan."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar, cast

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from boxoffice.platform.authz import Authorisations
from boxoffice.platform.clock import Clock, SystemClock
from boxoffice.platform.config import Settings
from boxoffice.platform.connection_gate import ConnectionGate, Priority
from boxoffice.platform.db import (
    backend_name,
    create_engine,
    pool_capacity,
    session_factory,
)
from boxoffice.platform.kv import KeyValueStore, MemoryStore, RedisStore
from boxoffice.platform.observability import Metrics
from boxoffice.platform.ratelimit import RateLimiter
from boxoffice.platform.security import KeyRing, Principal, VerifiedTokens, generate_key_file
from boxoffice.platform.sqlite_inline import READ_ONLY
from boxoffice.platform.uow import UnitOfWork

if TYPE_CHECKING:
    from boxoffice.platform.cache import Cache
    from boxoffice.platform.jobs import JobSpec
    from boxoffice.platform.messaging import AnyConsumer
    from boxoffice.platform.storage import Storage

T = TypeVar("T")
Check = Callable[[], Awaitable[object]]  # a readiness check: fails, or returns False


class Adapters:
    """The adapters contexts attach to one process, one per type: ``adapters.get(Seating)``.

    A context attaches its own at start-up (or builds them on first use with
    :meth:`ensure`); the type is the key, so a lookup is typed and a missing adapter is
    named in the error. Ports a higher context provides for a lower one's contract
    (``catalog.contracts.ShowInventory``) are attached the same way by the provider.
    """

    def __init__(self) -> None:
        self._items: dict[type[Any], Any] = {}

    def put(self, value: T, kind: type[T] | None = None) -> T:
        self._items[kind or type(value)] = value
        return value

    def get(self, kind: type[T]) -> T:
        try:
            return cast(T, self._items[kind])
        except KeyError:
            raise LookupError(f"{kind.__name__} is not attached in this process") from None

    def find(self, kind: type[T]) -> T | None:
        return cast(T | None, self._items.get(kind))

    def ensure(self, kind: type[T], build: Callable[[], T]) -> T:
        """The attached ``kind``, built and attached now if there is none (synchronously:
        no request can interleave between the look and the attach)."""
        found = self._items.get(kind)
        if found is None:
            found = self._items[kind] = build()
        return cast(T, found)

    def remove(self, kind: type[Any]) -> None:
        self._items.pop(kind, None)


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
    authorisations: Authorisations
    verified_tokens: VerifiedTokens = field(default_factory=VerifiedTokens)
    cache: Cache | None = None  # built once per process (platform/cache.py)
    storage: Storage | None = None  # attached at start-up by a context that stores files
    # Whether this process runs the in-process loops (sweepers, dispatcher, bus); tests
    # and standalone roles leave them out and drive what they need by hand.
    background: bool = False
    # Every registered context's scheduled jobs and event consumers.
    jobs: list[JobSpec] = field(default_factory=list)
    consumers: list[AnyConsumer] = field(default_factory=list)
    # Backends /ready checks besides the database and Redis, by the name it reports.
    readiness: dict[str, Check] = field(default_factory=dict)
    # Contexts' own adapters, by type (seat board, queue store, providers, ...).
    adapters: Adapters = field(default_factory=Adapters)
    # Sessions whose transactions only read (on SQLite: a deferred BEGIN, no write lock).
    read_sessions: async_sessionmaker[AsyncSession] | None = None
    # Lends the pool's connections by priority when it has none (platform/connection_gate.py).
    connection_gate: ConnectionGate | None = None

    async def principal(self, access_token: str) -> Principal:
        """The user an access token names, as authorised now: raises ``InvalidToken`` /
        ``TokenExpired`` for a bad token or an ended login. Both entries (FastAPI's
        ``CurrentUser`` and the fast lane's ``FastRequest.user``) come through here."""
        claimed = self.verified_tokens.principal(self, access_token)
        return await self.authorisations.current(claimed)

    def uow(self, *, read_only: bool = False, priority: Priority = Priority.NORMAL) -> UnitOfWork:
        """A unit of work; ``read_only`` for a use case that writes nothing (on SQLite it
        then reads a snapshot without waiting for, or holding up, writers); ``priority``,
        how soon it gets a connection when several wait for one (a unit whose first
        statement is Core: platform/connection_gate.py)."""
        sessions = self.sessions
        if read_only and self.read_sessions is not None:
            sessions = self.read_sessions
        return UnitOfWork(
            sessions,
            self.clock,
            read_only=read_only,
            gate=self.connection_gate,
            priority=priority,
        )

    async def close(self) -> None:
        if self.cache is not None:
            await self.cache.close()
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


def connection_gate(engine: AsyncEngine, settings: Settings) -> ConnectionGate | None:
    """The gate that lends a database server's pooled connections by priority; none on
    SQLite, whose writes already wait their turn, in order, for its one write lock (a
    gate there only added a queue before that one: docs/decisions.md)."""
    if backend_name(settings.database_url) == "sqlite":
        return None
    return ConnectionGate(pool_capacity(engine), settings.database_pool_timeout_seconds)


def build_runtime(settings: Settings, clock: Clock | None = None) -> Runtime:
    settings.refuse_unsafe_production()
    engine = create_engine(
        settings.database_url,
        pool_size=settings.database_pool_size,
        pool_timeout=settings.database_pool_timeout_seconds,
        echo=settings.database_echo,
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
        read_sessions=session_factory(engine.execution_options(**{READ_ONLY: True})),
        connection_gate=connection_gate(engine, settings),
        kv=kv,
        limiter=RateLimiter(settings.redis_url, settings.redis_prefix),
        keys=load_keys(settings),
        clock=clock or SystemClock(),
        metrics=Metrics(),
        authorisations=Authorisations(kv, settings.access_token_ttl_minutes * 60),
    )
