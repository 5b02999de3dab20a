"""Several workers relay one outbox at once: each event reaches the broker once, in order
per aggregate, and each is consumed once in effect (counted in the database)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable

import pytest
from sqlalchemy import select

from boxoffice.platform.config import Settings
from boxoffice.platform.messaging.envelope import Envelope
from boxoffice.platform.messaging.models import ProcessedEvent
from boxoffice.platform.messaging.relay import OutboxReader
from boxoffice.platform.messaging.worker import BrokerWorker, group_of
from boxoffice.platform.outbox import OutboxMessage
from boxoffice.platform.runtime import Runtime, build_runtime
from tests.support.messaging import (
    BrokerTap,
    broker_url,
    clean_broker,
    count,
    remember_rabbit_queues,
    wait_until,
)
from tests.support.messaging_events import SeatCounted, Tally

SERVER_BACKENDS = ["postgresql", "mariadb"]
pytestmark = pytest.mark.services


async def record_rounds(runtime: Runtime, shows: list[str], rounds: int) -> None:
    """``rounds`` events per show, each round in its own transaction (as use cases do)."""
    for n in range(rounds):
        async with runtime.uow() as uow:
            for show_id in shows:
                uow.record(SeatCounted(show_id=show_id, n=n))
            await uow.commit()


# NATS is left out: three workers on one durable pull consumer hit the open issue of
# docs/messaging.md (messages delivered to a client but not handed over until ack_wait),
# 8-15 s per run here and over a minute under load.
@pytest.mark.parametrize(
    ("backend", "kind"),
    [
        ("postgresql", "redis"),
        ("mariadb", "redis"),
        ("postgresql", "rabbit"),
        ("postgresql", "kafka"),
        ("mariadb", "kafka"),
    ],
)
async def test_three_workers_relay_each_event_once_in_order_per_aggregate(
    make_settings: Callable[..., Settings], broker_prefix: str, kind: str
) -> None:
    url = broker_url(kind)
    settings = make_settings(
        broker_url=url,
        broker_prefix=broker_prefix,
        relay_batch_size=40,
        relay_poll_seconds=0.02,
    )
    runtime = build_runtime(settings)
    tally = Tally()
    consumer = tally.consumer()
    shows = [str(uuid.uuid4()) for _ in range(30)]
    workers = [BrokerWorker(runtime, [consumer]) for _ in range(3)]
    tap = BrokerTap(kind, url, broker_prefix, "boxoffice.test.SeatCounted")
    if kind == "rabbit":
        remember_rabbit_queues(broker_prefix, [group_of(consumer), group_of(consumer) + ".retry"])
    try:
        for worker in workers:
            await worker.start()
        await tap.open()
        await record_rounds(runtime, shows, 20)  # 600 events while the workers run
        total = len(shows) * 20

        async def all_done() -> bool:
            processed = ProcessedEvent.claim.is_(None)
            waiting = OutboxMessage.published_at.is_(None)
            return (
                await count(runtime, ProcessedEvent.event_id, processed) == total
                and await count(runtime, OutboxMessage.seq, waiting) == 0
            )

        await wait_until(all_done, "every event relayed and processed")
    finally:
        for worker in workers:
            await worker.stop()
    try:
        # What reached the broker: every event once, each show's events in order.
        relayed = await tap.read(total + 1)
        assert len(relayed) == total
        assert len({e.event_id for e in relayed}) == total
        per_show: dict[str, list[int]] = defaultdict(list)
        for envelope in relayed:
            per_show[envelope.aggregate_id].append(int(envelope.payload["n"]))
        assert all(ns == list(range(20)) for ns in per_show.values()), per_show
        # What the consumer did: each event once.
        assert sorted(tally.seen) == sorted((s, n) for s in shows for n in range(20))
        assert sum(w.dispatcher.outcomes["processed"] for w in workers) == total
    finally:
        await runtime.close()
        await clean_broker(kind, url, broker_prefix)


@pytest.mark.parametrize("backend", SERVER_BACKENDS)
async def test_a_row_claimed_elsewhere_holds_back_the_later_rows_of_its_aggregate(
    make_settings: Callable[..., Settings],
) -> None:
    runtime = build_runtime(make_settings())
    show_a, show_b = str(uuid.uuid4()), str(uuid.uuid4())
    await record_rounds(runtime, [show_a, show_b], 3)
    handed: list[tuple[str, int]] = []

    async def sink(envelope: Envelope) -> None:
        handed.append((envelope.aggregate_id, int(envelope.payload["n"])))

    reader = OutboxReader(runtime)
    try:
        async with runtime.sessions() as other, other.begin():
            # Another worker holds show A's first event (claimed, not yet published).
            first_a = (
                await other.execute(
                    select(OutboxMessage)
                    .where(OutboxMessage.aggregate_id == show_a)
                    .order_by(OutboxMessage.seq)
                    .limit(1)
                    .with_for_update()
                )
            ).scalar_one()
            assert await reader.relay_batch(sink) == 3
            assert handed == [(show_b, 0), (show_b, 1), (show_b, 2)]
            first_a.published_at = runtime.clock.now()  # the other worker relays it
        assert await reader.relay_batch(sink) == 2
        assert handed[3:] == [(show_a, 1), (show_a, 2)]
        assert await reader.relay_batch(sink) == 0
    finally:
        await runtime.close()


async def test_relay_waits_while_the_broker_is_down_and_loses_nothing(
    make_settings: Callable[..., Settings],
) -> None:
    runtime = build_runtime(make_settings())
    await record_rounds(runtime, [str(uuid.uuid4())], 5)
    reader = OutboxReader(runtime)

    async def broker_down(envelope: Envelope) -> None:
        raise ConnectionError("broker unreachable")

    try:
        with pytest.raises(ConnectionError):
            await reader.relay_batch(broker_down)
        unpublished = await count(runtime, OutboxMessage.seq, OutboxMessage.published_at.is_(None))
        assert unpublished == 5
        seen: list[int] = []

        async def broker_up(envelope: Envelope) -> None:
            seen.append(int(envelope.payload["n"]))

        assert await reader.relay_batch(broker_up) == 5
        assert seen == [0, 1, 2, 3, 4]
    finally:
        await runtime.close()
