"""One event handed to one consumer, and how its handler records it as processed.

The handler does its work in ``delivery.uow()`` and calls ``delivery.commit(uow)``, which
records the event as processed by the consumer in that same transaction, so at-least-once
delivery has exactly-once effects. An act outside the database (a mail handed to its
server) goes through ``delivery.commit_after(uow, act)``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager, nullcontext
from typing import TYPE_CHECKING, Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from boxoffice.platform.db import backend_name
from boxoffice.platform.events import DomainEvent
from boxoffice.platform.ids import new_id
from boxoffice.platform.messaging.consumers import AlreadyProcessed, AnyConsumer
from boxoffice.platform.messaging.decoding import decode
from boxoffice.platform.messaging.envelope import Envelope
from boxoffice.platform.messaging.models import ProcessedEvent
from boxoffice.platform.uow import UnitOfWork

if TYPE_CHECKING:
    from boxoffice.platform.runtime import Runtime


class Delivery:
    """One event handed to one consumer: ``event`` is the payload decoded into the
    consumer's event class (decoded here unless the dispatcher already did)."""

    def __init__(
        self,
        runtime: Runtime,
        consumer: AnyConsumer,
        envelope: Envelope,
        shared: UnitOfWork | None = None,
        *,
        event: DomainEvent | None = None,
    ) -> None:
        self.runtime = runtime
        self.shared = shared  # the group's transaction, under group commit
        self.consumer = consumer
        self.envelope = envelope
        self.event = event if event is not None else decode(consumer, envelope).event
        # This delivery's token on the (consumer, event) claim, when the consumer claims.
        self.claim: str | None = new_id() if consumer.acts_outside_db else None
        self.recorded = False

    @property
    def event_id(self) -> str:
        return self.envelope.event_id

    def uow(self, *, read_only: bool = False) -> AbstractAsyncContextManager[UnitOfWork]:
        """The group's unit of work under group commit, else a new one; ``read_only`` for
        a handler's reads (on SQLite such a one waits for no writer)."""
        if self.shared is not None:
            return nullcontext(self.shared)
        return self.runtime.uow(read_only=read_only)

    def _processed(self, uow: UnitOfWork) -> None:
        uow.session.add(
            ProcessedEvent(
                consumer=self.consumer.name, event_id=self.event_id, processed_at=uow.clock.now()
            )
        )

    async def commit(self, uow: UnitOfWork) -> None:
        """Record the event as processed by this consumer and commit ``uow``.

        Raises :class:`AlreadyProcessed` when this delivery lost its claim (it outlived
        the claim and another delivery finished the event): the transaction is rolled
        back, so its effects are not applied twice.
        """
        if self.shared is not None:  # the group commits (and catches duplicates) for all
            self._processed(uow)
            self.recorded = True
            return
        if self.claim is None:
            self._processed(uow)
            try:
                await uow.commit()
            except IntegrityError as exc:
                await uow.rollback()
                raise AlreadyProcessed(self.event_id) from exc
            self.recorded = True
            return
        await self._clear_claim(uow)
        await uow.commit()
        self.recorded = True

    async def _clear_claim(self, uow: UnitOfWork) -> None:
        """Mark the event processed in ``uow`` (not committed) by clearing our claim."""
        now = uow.clock.now()
        if not await self.update_claimed(uow, claim=None, claimed_until=None, processed_at=now):
            await uow.rollback()
            raise AlreadyProcessed(self.event_id)

    async def update_claimed(self, uow: UnitOfWork, **values: Any) -> bool:
        """Set ``values`` on the event's processed row in ``uow`` (not committed) while the
        row still carries this delivery's claim; False when the claim is ours no more."""
        result = await uow.session.execute(
            update(ProcessedEvent)
            .where(
                ProcessedEvent.consumer == self.consumer.name,
                ProcessedEvent.event_id == self.event_id,
                ProcessedEvent.claim == self.claim,
            )
            .values(**values)
        )
        return getattr(result, "rowcount", 0) == 1

    async def commit_after(self, uow: UnitOfWork, act: Callable[[], Awaitable[None]]) -> None:
        """Do ``act`` (the effect outside the database, e.g. a mail handed to its server)
        and record the event as processed in ``uow`` right after it.

        A crash between the act and the commit makes the act happen again after the
        restart. On PostgreSQL and MariaDB the record (and whatever ``uow`` holds) is
        written before the act, so only the COMMIT round trip follows it; at most
        ``database_pool_size`` deliveries per process keep their transaction open across
        an act, so the pool's overflow stays for the rest. SQLite has a single writer:
        there the record is written after the act. Raises :class:`AlreadyProcessed`
        (without acting, on a server) when this delivery lost its claim.
        """
        if self.claim is None or self.shared is not None or _single_writer(self.runtime):
            await act()
            await self.commit(uow)
            return
        async with _held_transactions(self.runtime):
            await uow.session.flush()
            await self._clear_claim(uow)
            await act()
            await uow.commit()
        self.recorded = True


def _single_writer(runtime: Runtime) -> bool:
    return backend_name(runtime.settings.database_url) == "sqlite"


class HeldTransactions(asyncio.Semaphore):
    """How many consumers may hold a database transaction at once in this process."""


def _held_transactions(runtime: Runtime) -> asyncio.Semaphore:
    size = runtime.settings.database_pool_size
    return runtime.adapters.ensure(HeldTransactions, lambda: HeldTransactions(size))
