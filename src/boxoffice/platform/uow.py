"""Unit of work: one session, one transaction, one commit point per use case.

Events recorded during the use case become outbox rows inside the same commit, so a
state change and the messages it implies are saved together or not at all.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from boxoffice.platform.clock import Clock
from boxoffice.platform.events import DomainEvent
from boxoffice.platform.ids import new_id
from boxoffice.platform.jsonutil import dumps
from boxoffice.platform.outbox import OutboxMessage


class UnitOfWork:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._sessions = sessions
        self.clock = clock
        self._session: AsyncSession | None = None
        self._events: list[DomainEvent] = []

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("unit of work used outside 'async with'")
        return self._session

    async def __aenter__(self) -> Self:
        self._session = self._sessions()
        self._events = []
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session, self._session = self._session, None
        if session is not None:
            try:
                await session.rollback()  # no-op after commit; undoes a half-done use case
            finally:
                await session.close()

    def record(self, event: DomainEvent) -> None:
        """Publish ``event`` when (and only if) this unit of work commits."""
        self._events.append(event)

    async def commit(self) -> None:
        session = self.session
        now = self.clock.now()
        for event in self._events:
            session.add(
                OutboxMessage(
                    event_id=new_id(),
                    topic=event.topic,
                    event_type=event.name,
                    version=event.version,
                    aggregate_id=event.aggregate_id,
                    payload=dumps(event.payload()).decode(),
                    occurred_at=now,
                )
            )
        self._events = []
        await session.commit()

    async def rollback(self) -> None:
        self._events = []
        await self.session.rollback()
