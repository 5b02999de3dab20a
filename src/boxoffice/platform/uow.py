"""Unit of work: one session, one transaction, one commit point per use case.

Events recorded during the use case become outbox rows inside the same commit, so a
state change and the messages it implies are saved together or not at all.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import TYPE_CHECKING, Protocol, Self, TypeVar

import structlog
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from boxoffice.platform.clock import Clock
from boxoffice.platform.connection_gate import ConnectionGate, Priority
from boxoffice.platform.db import table_of
from boxoffice.platform.events import DomainEvent
from boxoffice.platform.ids import new_id
from boxoffice.platform.jsonutil import dumps
from boxoffice.platform.outbox import OutboxMessage

if TYPE_CHECKING:
    from boxoffice.platform.security import Principal

AfterCommit = Callable[[], Awaitable[None]]
INSERT_OUTBOX = insert(table_of(OutboxMessage))
log = structlog.get_logger("boxoffice.uow")


class _Owned(Protocol):
    @property
    def user_id(self) -> str: ...


OwnedT = TypeVar("OwnedT", bound=_Owned)


class UnitOfWork:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        *,
        read_only: bool = False,
        gate: ConnectionGate | None = None,
        priority: Priority = Priority.NORMAL,
    ) -> None:
        self._sessions = sessions
        self.clock = clock
        # Who gets a connection first when the pool has none (platform/connection_gate.py).
        self._gate = gate
        self._priority = priority
        self._permit = False  # holds one of the gate's permits for its own connection
        # A use case that only reads says so (its sessions come from an engine carrying
        # READ_ONLY): on SQLite its transaction then begins deferred (a snapshot, no write
        # lock), so reads never queue behind writers.
        self.read_only = read_only
        self._entered = False
        self._session: AsyncSession | None = None
        self._connection: AsyncConnection | None = None  # of the current transaction
        # The connection this unit opened itself (no session yet), which it commits.
        self._own: AsyncConnection | None = None
        self._events: list[DomainEvent] = []
        self._after_commit: list[AfterCommit] = []

    @property
    def session(self) -> AsyncSession:
        """The ORM session, made on first use: a use case that only runs Core statements
        (the checkout's hot writes) never pays for one. Made after :meth:`connection`, it
        joins that connection's transaction, which the unit still commits."""
        if not self._entered:
            raise RuntimeError("unit of work used outside 'async with'")
        if self._session is None:
            if self._own is None:
                self._session = self._sessions()
            else:
                self._session = self._sessions(bind=self._own)
        return self._session

    async def connection(self) -> AsyncConnection:
        """The unit's connection, in its transaction, for Core statements: the hot writes
        skip the ORM's per-row bookkeeping (identity map, flush ordering). Without a
        session yet it is checked out of the engine and begun here (a session's begin and
        commit machinery costs about as much as the statement itself)."""
        if self._connection is None:
            if self._session is not None:
                self._connection = await self._session.connection()
            else:
                if not self._entered:
                    raise RuntimeError("unit of work used outside 'async with'")
                if self._gate is not None:
                    await self._gate.acquire(self._priority)
                    self._permit = True
                try:
                    own = await self._sessions.kw["bind"].connect()
                except BaseException:
                    self._give_back_permit()
                    raise
                try:
                    await own.begin()
                except BaseException:
                    try:
                        await own.close()
                    finally:
                        self._give_back_permit()
                    raise
                self._connection = self._own = own
        return self._connection

    async def __aenter__(self) -> Self:
        self._entered = True
        self._events = []
        self._after_commit = []
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._entered = False
        self._events, self._after_commit = [], []
        # close() detaches the objects first, then rolls back whatever was not committed:
        # what a read-only use case returns stays readable (a rollback would expire it),
        # and a half-done use case is undone.
        try:
            await self._release()
        except Exception:
            # The connection died: the server rolls back what was not committed, and
            # what was committed stays. Failing the request now would misreport it.
            log.warning("unit_of_work_close_failed", exc_info=True)

    async def _release(self) -> None:
        """Close the session and give back the unit's own connection (rolling back what
        was not committed); the unit may begin again afterwards."""
        session, own = self._session, self._own
        self._session = self._own = self._connection = None
        try:
            if session is not None:
                await session.close()
        finally:
            try:
                if own is not None:
                    await own.close()
            finally:
                self._give_back_permit()

    def _give_back_permit(self) -> None:
        if self._permit and self._gate is not None:
            self._permit = False
            self._gate.release()

    def record(self, event: DomainEvent) -> None:
        """Publish ``event`` when (and only if) this unit of work commits."""
        self._events.append(event)

    def on_commit(self, callback: AfterCommit) -> None:
        """Run ``callback`` after the next successful commit (cache and snapshot updates).

        Callbacks are best-effort: the database already holds the truth, so a failing
        callback is logged and does not undo the commit. Durable effects use events.
        """
        self._after_commit.append(callback)

    async def commit(self) -> None:
        session = self._session
        if self._events:
            now = self.clock.now()
            rows = [
                {
                    "event_id": new_id(),
                    "topic": event.topic,
                    "event_type": event.name,
                    "version": event.version,
                    "aggregate_id": event.aggregate_id,
                    "payload": dumps(event.payload()).decode(),
                    "occurred_at": now,
                }
                for event in self._events
            ]
            self._events = []
            # One multi-row INSERT on the unit's connection, whatever else it flushes.
            if session is not None:
                await session.flush()
            await (await self.connection()).execute(INSERT_OUTBOX, rows)
        own = self._own
        if own is None:
            self._connection = None
            if session is not None:
                await session.commit()
        else:
            if session is not None:
                await session.flush()  # the session's changes, in the unit's transaction
            await own.commit()
            await self._release()
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            try:
                await callback()
            except Exception:
                log.exception(
                    "after_commit_failed", callback=getattr(callback, "__qualname__", "?")
                )

    async def get_for(
        self, model: type[OwnedT], key: str, principal: Principal, missing: Exception
    ) -> OwnedT:
        """The row of ``model`` with primary key ``key`` when ``principal`` may see it (it is
        theirs, or they are an admin); else raises ``missing`` (the context's "not found"),
        the same whether the row is absent or another user's, so nobody learns which."""
        row = await self.session.get(model, key)
        if row is None or not principal.acts_for(row.user_id):
            raise missing
        return row

    async def rollback(self) -> None:
        self._events = []
        self._after_commit = []
        if self._own is not None:
            await self._release()  # closing the unit's own connection rolls it back
            return
        self._connection = None
        if self._session is not None:
            await self._session.rollback()
