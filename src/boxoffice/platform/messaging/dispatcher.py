"""The dispatcher: runs consumers on envelopes once in effect, retried and dead-lettered.

It decodes each envelope into the consumer's event class (once; a payload that cannot be
decoded is dead-lettered at once, with the reason), skips an event the consumer already
processed, runs the handler, and records the event id as processed in the consumer's
transaction (``Delivery.commit``). A handler that raises is retried after growing delays
through the retry topic, then dead-lettered (``failures.py``).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import structlog
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from boxoffice.platform.ids import new_id
from boxoffice.platform.jsonutil import loads
from boxoffice.platform.messaging.claim_keeper import claim_kept
from boxoffice.platform.messaging.consumers import (
    AlreadyProcessed,
    AnyConsumer,
    DeliveryBusy,
    UndecodableEvent,
)
from boxoffice.platform.messaging.decoding import Incoming, decode
from boxoffice.platform.messaging.delivery import Delivery
from boxoffice.platform.messaging.envelope import Envelope
from boxoffice.platform.messaging.failures import Failures, error_text
from boxoffice.platform.messaging.group import GROUP_MAX, GroupCommit, GroupRunner
from boxoffice.platform.messaging.models import ProcessedEvent

if TYPE_CHECKING:
    from boxoffice.platform.runtime import Runtime

log = structlog.get_logger("boxoffice.messaging")
BUSY_PAUSE_SECONDS = 0.5
Outcome = str | Exception


class Dispatcher:
    """Runs consumers on envelopes with idempotency, retries and dead letters."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.failures = Failures(runtime)
        self.groups = GroupRunner(runtime, self.failures, self._deliver)
        self.outcomes: Counter[str] = Counter()  # processed, duplicate, retry, dead
        self._commits: dict[str, GroupCommit] = {}
        self._gates: dict[str, asyncio.Semaphore] = {}
        self._running: set[asyncio.Task[Outcome]] = set()

    async def _decoded(self, consumer: AnyConsumer, envelope: Envelope) -> Incoming | None:
        """``envelope`` decoded for ``consumer``; ``None`` once dead-lettered as undecodable."""
        try:
            return decode(consumer, envelope)
        except UndecodableEvent as exc:
            await self.failures.failed(consumer, envelope, exc, claim=None)
            return None

    async def deliver(self, consumer: AnyConsumer, envelope: Envelope) -> str:
        """Handle ``envelope`` once in effect; see :meth:`_deliver` for the outcomes."""
        item = await self._decoded(consumer, envelope)
        if item is None:
            outcome = "dead"
        elif consumer.grouped:
            group = self._commits.get(consumer.name)
            if group is None:
                group = self._commits[consumer.name] = GroupCommit(self.groups, consumer)
            outcome = await group.submit(item)
        else:
            outcome = await self._deliver(consumer, item)
        self.outcomes[outcome] += 1
        return outcome

    async def deliver_batch(
        self, consumer: AnyConsumer, envelopes: Sequence[Envelope]
    ) -> list[Outcome]:
        """Handle a batch read from the broker, each event once in effect; the outcomes in
        the batch's order (see :meth:`start_batch`)."""
        return await (await self.start_batch(consumer, envelopes))

    async def start_batch(
        self, consumer: AnyConsumer, envelopes: Sequence[Envelope]
    ) -> asyncio.Future[list[Outcome]]:
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
        decoded = [await self._decoded(consumer, envelope) for envelope in envelopes]
        if consumer.grouped:
            readable = [item for item in decoded if item is not None]
            handled: list[Outcome] = []
            for start in range(0, len(readable), GROUP_MAX):
                handled += await self.groups.run(consumer, readable[start : start + GROUP_MAX])
            results = iter(handled)
            ordered = ["dead" if item is None else next(results) for item in decoded]
            self._count(ordered)
            done: asyncio.Future[list[Outcome]] = asyncio.get_running_loop().create_future()
            done.set_result(ordered)
            return done
        gate = self._gates.get(consumer.name)
        if gate is None:
            gate = self._gates[consumer.name] = asyncio.Semaphore(
                self.runtime.settings.consumer_concurrency
            )

        async def one(item: Incoming) -> Outcome:
            try:
                return await self._deliver(consumer, item)
            except Exception as exc:
                return exc
            finally:
                gate.release()

        running: list[asyncio.Future[Outcome]] = []
        for item in decoded:
            if item is None:
                running.append(_ready("dead"))
                continue
            # Cancelled while waiting (the worker stops): what started finishes on its
            # own (``drain``); the unacknowledged messages come back as duplicates.
            await gate.acquire()
            task = asyncio.create_task(one(item))
            self._running.add(task)
            task.add_done_callback(self._running.discard)
            running.append(task)

        async def settle() -> list[Outcome]:
            results = list(await asyncio.gather(*running))
            self._count(results)
            return results

        return asyncio.ensure_future(settle())

    async def dead_letter_unreadable(self, consumer: AnyConsumer, body: object) -> None:
        """A message that is not an envelope at all: dead-lettered (never acknowledged and
        redelivered forever), under its event id when one can be read from it."""
        text = body.decode(errors="replace") if isinstance(body, bytes) else str(body)
        try:
            found = loads(text).get("event_id") if text.startswith("{") else None
        except Exception:
            found = None
        now = datetime.now(UTC)
        unreadable = Envelope(
            event_id=str(found)[:36] if found else new_id(),
            topic=consumer.topic,
            event_type=consumer.event.name,
            version=consumer.event.version,
            aggregate_id="",
            payload={"unreadable_message": text[:10_000]},
            occurred_at=now,
        )
        reason = UndecodableEvent("the message is not a boxoffice event envelope")
        log.error("undecodable_message_dead_lettered", consumer=consumer.name)
        await self.failures.dead_letter(consumer, unreadable, error_text(reason))
        self.outcomes["dead"] += 1

    async def drain(self, grace_seconds: float) -> None:
        """Wait (up to ``grace_seconds``) for the deliveries still running."""
        if self._running:
            await asyncio.wait(set(self._running), timeout=grace_seconds)

    def _count(self, results: Sequence[Outcome]) -> None:
        for outcome in results:
            if isinstance(outcome, str):
                self.outcomes[outcome] += 1

    async def already_processed(self, consumer: AnyConsumer, event_id: str) -> bool:
        async with self.runtime.uow(read_only=True) as uow:
            found = await uow.session.get(ProcessedEvent, (consumer.name, event_id))
            return found is not None and found.claim is None

    async def _deliver(self, consumer: AnyConsumer, item: Incoming) -> str:
        """Handle one decoded delivery once in effect. Returns what happened: ``processed``,
        ``duplicate``, ``skipped`` (the consumer's ``applies`` said no), ``retry``
        (scheduled) or ``dead`` (dead-lettered).

        Raises only when the database cannot record the outcome; the broker then
        redelivers the message.
        """
        envelope = item.envelope
        if consumer.applies is not None and not await consumer.applies(item.event, self.runtime):
            if envelope.retried:
                await self.failures.resolve_dead_letter(consumer, envelope)
            return "skipped"
        delivery = Delivery(self.runtime, consumer, envelope, event=item.event)
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
            async with claim_kept(self.runtime, delivery):
                await consumer.handler(item.event, delivery)
                if not delivery.recorded:
                    async with self.runtime.uow() as uow:
                        await delivery.commit(uow)
        except AlreadyProcessed:
            return "duplicate"
        except Exception as exc:
            return await self.failures.failed(consumer, envelope, exc, claim=delivery.claim)
        if envelope.retried:
            await self.failures.resolve_dead_letter(consumer, envelope)
        return "processed"

    async def _claim(self, delivery: Delivery) -> str | None:
        """Take the (consumer, event) claim for ``delivery``: ``None`` when taken, else
        ``duplicate`` (done before) or ``busy`` (another live delivery holds it)."""
        assert delivery.claim is not None
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


def _ready(outcome: Outcome) -> asyncio.Future[Outcome]:
    future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
    future.set_result(outcome)
    return future
