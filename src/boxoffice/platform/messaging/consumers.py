"""Consumers and the dispatcher that makes them idempotent, retried and dead-lettered.

A consumer is a named handler of one topic. The dispatcher skips an event the consumer
already processed, runs the handler, and records the event id as processed in the
consumer's transaction (``Delivery.commit``), so at-least-once delivery has exactly-once
effects. A handler that raises is retried after growing delays through the retry topic,
then dead-lettered.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

import structlog
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from boxoffice.platform.db import backend_name
from boxoffice.platform.ids import new_id
from boxoffice.platform.jsonutil import dumps
from boxoffice.platform.messaging.envelope import Envelope
from boxoffice.platform.messaging.group import GROUP_MAX, GroupCommit, run_group
from boxoffice.platform.messaging.models import DeadLetter, ProcessedEvent, ScheduledRetry
from boxoffice.platform.uow import UnitOfWork

if TYPE_CHECKING:
    from boxoffice.platform.runtime import Runtime

log = structlog.get_logger("boxoffice.messaging")
Handler = Callable[["Delivery"], Awaitable[None]]
RETRY_TOPIC_PREFIX = "boxoffice.retry."
BUSY_PAUSE_SECONDS = 0.5


@dataclass(frozen=True)
class Consumer:
    """``name`` is stable (it keys processed ids, broker groups and dead letters)."""

    name: str  # e.g. "notifications.welcome_email"
    topic: str  # e.g. "boxoffice.identity.UserRegistered"
    handler: Handler
    kind: str = "event"  # what a dead letter of this consumer is: "event" or "email"
    # The handler acts outside the database (sends an e-mail, calls a provider): the event
    # is claimed first, so two deliveries never act at once. Database-only handlers skip
    # the claim: their processed id is inserted in their own transaction.
    acts_outside_db: bool = False
    # The handler works only through ``delivery.uow()``/``delivery.commit()`` and its
    # services do not commit on their own: deliveries arriving together share one
    # transaction (group commit), falling back to one by one if any of them fails.
    group_commit: bool = False

    @property
    def retry_topic(self) -> str:
        return f"{RETRY_TOPIC_PREFIX}{self.name}"


class PermanentFailure(Exception):
    """Raised by a handler when retrying cannot help: the delivery is dead-lettered at once."""


class AlreadyProcessed(Exception):
    """Another delivery of the same event won the race to record it."""


class DeliveryBusy(Exception):
    """Another delivery holds the claim on this event right now: let the broker redeliver."""


class Delivery:
    """One event handed to one consumer. The handler does its work in ``uow()`` and calls
    ``commit(uow)``, which records the event as processed in that same transaction."""

    def __init__(
        self,
        runtime: Runtime,
        consumer: Consumer,
        envelope: Envelope,
        shared: UnitOfWork | None = None,
    ) -> None:
        self.runtime = runtime
        self.shared = shared  # the group's transaction, under group commit
        self.consumer = consumer
        self.envelope = envelope
        # This delivery's token on the (consumer, event) claim, when the consumer claims.
        self.claim: str | None = new_id() if consumer.acts_outside_db else None
        self.recorded = False

    @property
    def event_id(self) -> str:
        return self.envelope.event_id

    @property
    def payload(self) -> dict[str, object]:
        return self.envelope.payload

    def uow(self) -> AbstractAsyncContextManager[UnitOfWork]:
        if self.shared is not None:
            return nullcontext(self.shared)
        return self.runtime.uow()

    async def commit(self, uow: UnitOfWork) -> None:
        """Record the event as processed by this consumer and commit ``uow``.

        Raises :class:`AlreadyProcessed` when this delivery lost its claim (it outlived
        the claim and another delivery finished the event): the transaction is rolled
        back, so its effects are not applied twice.
        """
        now = uow.clock.now()
        if self.shared is not None:  # the group commits (and catches duplicates) for all
            uow.session.add(
                ProcessedEvent(
                    consumer=self.consumer.name, event_id=self.event_id, processed_at=now
                )
            )
            self.recorded = True
            return
        if self.claim is None:
            uow.session.add(
                ProcessedEvent(
                    consumer=self.consumer.name, event_id=self.event_id, processed_at=now
                )
            )
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
        result = await uow.session.execute(
            update(ProcessedEvent)
            .where(
                ProcessedEvent.consumer == self.consumer.name,
                ProcessedEvent.event_id == self.event_id,
                ProcessedEvent.claim == self.claim,
            )
            .values(claim=None, claimed_until=None, processed_at=uow.clock.now())
        )
        if getattr(result, "rowcount", 0) != 1:
            await uow.rollback()
            raise AlreadyProcessed(self.event_id)

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


_HELD = "messaging.held_transactions"


def _single_writer(runtime: Runtime) -> bool:
    return backend_name(runtime.settings.database_url) == "sqlite"


class HeldTransactions(asyncio.Semaphore):
    """How many consumers may hold a database transaction at once in this process."""


def _held_transactions(runtime: Runtime) -> asyncio.Semaphore:
    size = runtime.settings.database_pool_size
    return runtime.adapters.ensure(HeldTransactions, lambda: HeldTransactions(size))


def _error_text(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text[:500]


class Dispatcher:
    """Runs consumers on envelopes with idempotency, retries and dead letters."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.outcomes: Counter[str] = Counter()  # processed, duplicate, retry, dead
        self._groups: dict[str, GroupCommit] = {}
        self._gates: dict[str, asyncio.Semaphore] = {}
        self._running: set[asyncio.Task[str | Exception]] = set()

    @property
    def delays(self) -> list[float]:
        return list(self.runtime.settings.retry_delays_seconds)

    async def already_processed(self, consumer: Consumer, event_id: str) -> bool:
        async with self.runtime.uow() as uow:
            found = await uow.session.get(ProcessedEvent, (consumer.name, event_id))
            return found is not None and found.claim is None

    async def _claim(self, delivery: Delivery) -> str | None:
        assert delivery.claim is not None
        """Take the (consumer, event) claim for ``delivery``: ``None`` when taken, else
        ``duplicate`` (done before) or ``busy`` (another live delivery holds it)."""
        name, event_id = delivery.consumer.name, delivery.event_id
        async with self.runtime.uow() as uow:
            now = uow.clock.now()
            until = now + timedelta(seconds=self.runtime.settings.consumer_claim_seconds)
            uow.session.add(
                ProcessedEvent(
                    consumer=name,
                    event_id=event_id,
                    processed_at=now,
                    claim=delivery.claim,
                    claimed_until=until,
                )
            )
            try:
                await uow.commit()
                return None
            except IntegrityError:
                await uow.rollback()
            found = await uow.session.get(ProcessedEvent, (name, event_id), populate_existing=True)
            if found is None:
                return "busy"  # released meanwhile: the redelivery will take it
            if found.claim is None:
                return "duplicate"
            if found.claimed_until is not None and found.claimed_until > now:
                return "busy"
            # The holder died (or outlived its claim): take over, unless someone else just did.
            result = await uow.session.execute(
                update(ProcessedEvent)
                .where(
                    ProcessedEvent.consumer == name,
                    ProcessedEvent.event_id == event_id,
                    ProcessedEvent.claim == found.claim,
                )
                .values(claim=delivery.claim, claimed_until=until)
            )
            await uow.commit()
            return None if getattr(result, "rowcount", 0) == 1 else "busy"

    async def _release(self, uow: UnitOfWork, delivery: Delivery) -> None:
        if delivery.claim is None:
            return
        await uow.session.execute(
            delete(ProcessedEvent).where(
                ProcessedEvent.consumer == delivery.consumer.name,
                ProcessedEvent.event_id == delivery.event_id,
                ProcessedEvent.claim == delivery.claim,
            )
        )

    async def deliver(self, consumer: Consumer, envelope: Envelope) -> str:
        """Handle ``envelope`` once in effect; see :meth:`_deliver` for the outcomes."""
        if consumer.group_commit and not consumer.acts_outside_db:
            group = self._groups.get(consumer.name)
            if group is None:
                group = self._groups[consumer.name] = GroupCommit(self, consumer)
            outcome = await group.submit(envelope)
        else:
            outcome = await self._deliver(consumer, envelope)
        self.outcomes[outcome] += 1
        return outcome

    async def deliver_batch(
        self, consumer: Consumer, envelopes: Sequence[Envelope]
    ) -> list[str | Exception]:
        """Handle a batch read from the broker, each event once in effect; the outcomes in
        the batch's order (see :meth:`start_batch`)."""
        return await (await self.start_batch(consumer, envelopes))

    async def start_batch(
        self, consumer: Consumer, envelopes: Sequence[Envelope]
    ) -> asyncio.Future[list[str | Exception]]:
        """Start handling a batch read from the broker; return once every delivery of it
        has started, with a future of the outcomes in the batch's order.

        Group-commit consumers handle the batch in one transaction (``GROUP_MAX`` events
        at a time) before this returns. The others run up to ``consumer_concurrency``
        deliveries at once per consumer, over all its batches, so a batch's slowest
        delivery does not hold up the next batch. In place of an outcome stands the
        exception that kept that delivery from being recorded (database down, the event
        busy elsewhere): the caller leaves that message to the broker's redelivery and
        acknowledges the others.
        """
        loop = asyncio.get_running_loop()
        if consumer.group_commit and not consumer.acts_outside_db:
            results: list[str | Exception] = []
            for start in range(0, len(envelopes), GROUP_MAX):
                chunk = envelopes[start : start + GROUP_MAX]
                results.extend(await run_group(self, consumer, chunk))
            self._count(results)
            done: asyncio.Future[list[str | Exception]] = loop.create_future()
            done.set_result(results)
            return done
        gate = self._gates.get(consumer.name)
        if gate is None:
            gate = self._gates[consumer.name] = asyncio.Semaphore(
                self.runtime.settings.consumer_concurrency
            )

        async def one(envelope: Envelope) -> str | Exception:
            try:
                return await self._deliver(consumer, envelope)
            except Exception as exc:
                return exc
            finally:
                gate.release()

        running: list[asyncio.Task[str | Exception]] = []
        for envelope in envelopes:
            # Cancelled while waiting (the worker stops): what started finishes on its
            # own (``drain``); the unacknowledged messages come back as duplicates.
            await gate.acquire()
            task = asyncio.create_task(one(envelope))
            self._running.add(task)
            task.add_done_callback(self._running.discard)
            running.append(task)

        async def settle() -> list[str | Exception]:
            results = list(await asyncio.gather(*running))
            self._count(results)
            return results

        return asyncio.ensure_future(settle())

    async def drain(self, grace_seconds: float) -> None:
        """Wait (up to ``grace_seconds``) for the deliveries still running."""
        if self._running:
            await asyncio.wait(set(self._running), timeout=grace_seconds)

    def _count(self, results: Sequence[str | Exception]) -> None:
        for outcome in results:
            if isinstance(outcome, str):
                self.outcomes[outcome] += 1

    async def _deliver(self, consumer: Consumer, envelope: Envelope) -> str:
        """Handle ``envelope`` once in effect. Returns what happened: ``processed``,
        ``duplicate``, ``retry`` (scheduled) or ``dead`` (dead-lettered).

        Raises only when the database cannot record the outcome; the broker then
        redelivers the message.
        """
        delivery = Delivery(self.runtime, consumer, envelope)
        if delivery.claim is not None:
            refused = await self._claim(delivery)
            if refused == "duplicate":
                return refused
            if refused == "busy":
                await asyncio.sleep(BUSY_PAUSE_SECONDS)  # don't spin on the redeliveries
                raise DeliveryBusy(envelope.event_id)
        elif await self.already_processed(consumer, envelope.event_id):
            return "duplicate"
        try:
            await consumer.handler(delivery)
            if not delivery.recorded:
                async with self.runtime.uow() as uow:
                    await delivery.commit(uow)
        except AlreadyProcessed:
            return "duplicate"
        except Exception as exc:
            return await self._failed(delivery, exc)
        if envelope.retried:
            await self._resolve_dead_letter(consumer, envelope)
        return "processed"

    async def resolve_dead_letter_quietly(self, consumer: Consumer, envelope: Envelope) -> None:
        """After a group processed a retried event: its dead letter is resolved (a failure
        here is logged; the event itself is processed)."""
        try:
            await self._resolve_dead_letter(consumer, envelope)
        except Exception:
            log.exception("dead_letter_not_resolved", consumer=consumer.name)

    async def _resolve_dead_letter(self, consumer: Consumer, envelope: Envelope) -> None:
        async with self.runtime.uow() as uow:
            await uow.session.execute(
                update(DeadLetter)
                .where(
                    DeadLetter.consumer == consumer.name,
                    DeadLetter.event_id == envelope.event_id,
                    DeadLetter.status == "retrying",
                )
                .values(status="resolved")
            )
            await uow.commit()

    async def _failed(self, delivery: Delivery, exc: Exception) -> str:
        consumer, envelope = delivery.consumer, delivery.envelope
        attempt = envelope.attempt
        permanent = isinstance(exc, PermanentFailure)
        delays = self.delays
        if not permanent and attempt <= len(delays):
            due = self.runtime.clock.now() + timedelta(seconds=delays[attempt - 1])
            log.warning(
                "consumer_failed_retry_scheduled",
                consumer=consumer.name,
                event_id=envelope.event_id,
                attempt=attempt,
                error=_error_text(exc),
            )
            await self.schedule_retry(
                consumer, envelope, attempt + 1, due, _error_text(exc), release=delivery
            )
            return "retry"
        log.error(
            "consumer_failed_dead_lettered",
            consumer=consumer.name,
            event_id=envelope.event_id,
            attempt=attempt,
            error=_error_text(exc),
        )
        await self.dead_letter(consumer, envelope, _error_text(exc), release=delivery)
        return "dead"

    async def schedule_retry(
        self,
        consumer: Consumer,
        envelope: Envelope,
        attempt: int,
        due: object,
        error: str,
        *,
        release: Delivery | None = None,
    ) -> None:
        """Upsert the one pending retry of (consumer, event); give up the claim."""
        async with self.runtime.uow() as uow:
            if release is not None:
                await self._release(uow, release)
            result = await uow.session.execute(
                update(ScheduledRetry)
                .where(
                    ScheduledRetry.consumer == consumer.name,
                    ScheduledRetry.event_id == envelope.event_id,
                )
                .values(attempt=attempt, due_at=due, last_error=error)
            )
            if getattr(result, "rowcount", 0) == 0:
                uow.session.add(
                    ScheduledRetry(
                        id=new_id(),
                        consumer=consumer.name,
                        event_id=envelope.event_id,
                        topic=envelope.topic,
                        event_type=envelope.event_type,
                        version=envelope.version,
                        aggregate_id=envelope.aggregate_id,
                        payload=dumps(envelope.payload).decode(),
                        occurred_at=envelope.occurred_at,
                        attempt=attempt,
                        due_at=due,
                        last_error=error,
                    )
                )
            try:
                await uow.commit()
            except IntegrityError:
                await uow.rollback()  # a concurrent failure of the same event scheduled it

    async def dead_letter(
        self, consumer: Consumer, envelope: Envelope, error: str, *, release: Delivery | None = None
    ) -> None:
        """Record (or re-open) the dead letter of (consumer, event); drop its pending retry."""
        async with self.runtime.uow() as uow:
            now = uow.clock.now()
            if release is not None:
                await self._release(uow, release)
            await uow.session.execute(
                delete(ScheduledRetry).where(
                    ScheduledRetry.consumer == consumer.name,
                    ScheduledRetry.event_id == envelope.event_id,
                )
            )
            existing = (
                await uow.session.execute(
                    select(DeadLetter).where(
                        DeadLetter.consumer == consumer.name,
                        DeadLetter.event_id == envelope.event_id,
                    )
                )
            ).scalar_one_or_none()
            if existing is not None:
                existing.status = "dead"
                existing.attempts += envelope.attempt
                existing.last_error = error
                existing.failed_at = now
            else:
                uow.session.add(
                    DeadLetter(
                        id=new_id(),
                        kind=consumer.kind,
                        consumer=consumer.name,
                        event_id=envelope.event_id,
                        topic=envelope.topic,
                        event_type=envelope.event_type,
                        version=envelope.version,
                        aggregate_id=envelope.aggregate_id,
                        payload=dumps(envelope.payload).decode(),
                        occurred_at=envelope.occurred_at,
                        attempts=envelope.attempt,
                        last_error=error,
                        status="dead",
                        failed_at=now,
                    )
                )
            try:
                await uow.commit()
            except IntegrityError:
                await uow.rollback()  # a concurrent delivery dead-lettered it first
