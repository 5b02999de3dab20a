"""Consumers fed whole batches by the real Redis Streams, NATS JetStream and Kafka: one failure
inside a batch neither loses nor applies twice the other events of the batch.

The effect counted is a database one, written in the consumer's transaction: each event
handled records a follow-up event in the outbox (as consumers that react with events do).
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select

from boxoffice.platform.config import Settings
from boxoffice.platform.events import DomainEvent
from boxoffice.platform.jsonutil import loads
from boxoffice.platform.messaging import AnyConsumer, Consumer, Delivery, Envelope
from boxoffice.platform.messaging.models import DeadLetter, ProcessedEvent
from boxoffice.platform.messaging.worker import BrokerWorker
from boxoffice.platform.outbox import OutboxMessage
from boxoffice.platform.runtime import Runtime, build_runtime
from tests.support.messaging import broker_url, clean_broker, count, wait_until
from tests.support.messaging_events import SeatCounted

pytestmark = pytest.mark.services
EVENTS = 300
POISONED = 137  # the n whose handler always fails


@dataclass(frozen=True, kw_only=True)
class SeatTallied(DomainEvent):
    """What the consumer under test records for each event it handles."""

    context, name = "test", "SeatTallied"
    show_id: str
    n: int

    @property
    def aggregate_id(self) -> str:
        return self.show_id


@pytest.fixture(params=["redis", "nats", "kafka"])
async def runtime(
    request: pytest.FixtureRequest, make_settings: Callable[..., Settings], broker_prefix: str
) -> AsyncIterator[Runtime]:
    kind: str = request.param
    url = broker_url(kind)
    runtime = build_runtime(
        make_settings(
            broker_url=url,
            broker_prefix=broker_prefix,
            relay_batch_size=1000,
            relay_poll_seconds=0.02,
            redelivery_after_seconds=2.0,
            consumer_claim_seconds=2.0,
            retry_delays_seconds=[0.2],
        )
    )
    try:
        yield runtime
    finally:
        await runtime.close()
        await clean_broker(kind, url, broker_prefix)


async def record_counted(runtime: Runtime, shows: list[str], rounds: int) -> None:
    async with runtime.uow() as uow:
        for n in range(rounds):
            for show_id in shows:
                uow.record(SeatCounted(show_id=show_id, n=n * len(shows) + shows.index(show_id)))
        await uow.commit()


def watch_batches(worker: BrokerWorker) -> list[int]:
    """The size of every batch the worker's dispatcher was handed."""
    sizes: list[int] = []
    start_batch = worker.dispatcher.start_batch

    async def recorded(
        consumer: AnyConsumer, envelopes: Sequence[Envelope]
    ) -> asyncio.Future[list[str | Exception]]:
        sizes.append(len(envelopes))
        return await start_batch(consumer, envelopes)

    worker.dispatcher.start_batch = recorded  # type: ignore[method-assign]
    return sizes


async def tallied(runtime: Runtime) -> Counter[int]:
    async with runtime.uow() as uow:
        payloads = (
            await uow.session.execute(
                select(OutboxMessage.payload).where(OutboxMessage.event_type == "SeatTallied")
            )
        ).scalars()
        return Counter(int(loads(p)["n"]) for p in payloads)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_a_failing_event_in_a_group_committed_batch_leaves_the_others_applied_once(
    runtime: Runtime,
) -> None:
    async def tally(event: SeatCounted, delivery: Delivery) -> None:
        n = event.n
        async with delivery.uow() as uow:
            uow.record(SeatTallied(show_id=event.show_id, n=n))
            if n == POISONED:
                raise ValueError("cannot tally this seat")
            await delivery.commit(uow)

    consumer = Consumer("test.tally", SeatCounted, tally, group_commit=True)
    shows = [str(uuid.uuid4()) for _ in range(10)]
    await record_counted(runtime, shows, EVENTS // 10)  # all waiting: the first read is full
    worker = BrokerWorker(runtime, [consumer])
    sizes = watch_batches(worker)
    await worker.start()
    try:

        async def settled() -> bool:
            done = await count(runtime, ProcessedEvent.event_id)
            dead = await count(runtime, DeadLetter.id)
            return done == EVENTS - 1 and dead == 1

        await wait_until(settled, "every event processed and the bad one dead-lettered")
    finally:
        await worker.stop()

    assert max(sizes) > 50, sizes  # the broker handed over real batches
    effects = await tallied(runtime)
    assert effects == Counter({n: 1 for n in range(EVENTS) if n != POISONED})
    async with runtime.uow() as uow:
        [dead] = (await uow.session.execute(select(DeadLetter))).scalars()
    assert loads(dead.payload)["n"] == POISONED
    assert dead.attempts == 2  # the first delivery and one retry
    assert worker.dispatcher.outcomes["processed"] == EVENTS - 1
    assert worker.dispatcher.outcomes["duplicate"] == 0  # nobody was redelivered


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_an_event_busy_elsewhere_is_redelivered_alone_and_the_rest_of_its_batch_is_acked(
    runtime: Runtime,
) -> None:
    sent: Counter[int] = Counter()

    async def send(event: SeatCounted, delivery: Delivery) -> None:
        sent[event.n] += 1

    consumer = Consumer("test.sender", SeatCounted, send, acts_outside_db=True)
    shows = [str(uuid.uuid4()) for _ in range(4)]
    await record_counted(runtime, shows, 10)
    async with runtime.uow() as uow:
        busy = (
            await uow.session.execute(
                select(OutboxMessage.event_id).where(OutboxMessage.payload.contains('"n":7}'))
            )
        ).scalar_one()
        # Another worker is sending this one right now (its claim lapses in 3 s).
        now = uow.clock.now()
        uow.session.add(
            ProcessedEvent(
                consumer=consumer.name,
                event_id=busy,
                processed_at=now,
                claim=str(uuid.uuid4()),
                claimed_until=now + timedelta(seconds=3),
            )
        )
        await uow.commit()
    worker = BrokerWorker(runtime, [consumer])
    sizes = watch_batches(worker)
    await worker.start()
    try:

        async def all_sent() -> bool:
            done = ProcessedEvent.claim.is_(None)
            return await count(runtime, ProcessedEvent.event_id, done) == 40

        await wait_until(all_sent, "every event sent once the lapsed claim is taken over", 30)
    finally:
        await worker.stop()

    assert max(sizes) > 1, sizes
    assert sent == Counter({n: 1 for n in range(40)})
    # Only the busy event came back: the others of its batch were acknowledged.
    assert worker.dispatcher.outcomes["processed"] == 40
    assert worker.dispatcher.outcomes["duplicate"] == 0
