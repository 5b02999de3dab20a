"""What no handler can read is dead-lettered, not redelivered forever; Redis consumer names
of workers that died are forgotten."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from redis.asyncio import Redis
from sqlalchemy import select

from boxoffice.platform.config import Settings
from boxoffice.platform.messaging import Consumer, Delivery, Dispatcher, Envelope
from boxoffice.platform.messaging.models import DeadLetter, ProcessedEvent
from boxoffice.platform.messaging.worker import BrokerWorker, group_of
from boxoffice.platform.runtime import build_runtime
from tests.support.messaging import broker_url, clean_broker, count, wait_until
from tests.support.messaging_events import SeatCounted, Tally

TOPIC = "boxoffice.test.SeatCounted"


async def _never(event: SeatCounted, delivery: Delivery) -> None:
    raise AssertionError("a payload that is not a SeatCounted reached the handler")


async def test_a_payload_that_is_not_its_event_is_dead_lettered_at_once_with_the_reason(
    make_settings: Callable[..., Settings],
) -> None:
    runtime = build_runtime(make_settings(retry_delays_seconds=[60, 60]))
    consumer = Consumer("test.strict", SeatCounted, _never)
    wrong = Envelope(
        event_id=str(uuid.uuid4()),
        topic=TOPIC,
        event_type="SeatCounted",
        version=1,
        aggregate_id="show-1",
        payload={"show_id": "show-1", "n": "seven"},  # not an int, and no retry makes it one
        occurred_at=datetime.now(UTC),
    )
    try:
        assert await Dispatcher(runtime).deliver(consumer, wrong) == "dead"
        async with runtime.uow() as uow:
            [letter] = (await uow.session.execute(select(DeadLetter))).scalars()
        assert letter.event_id == wrong.event_id
        assert letter.attempts == 1  # not retried
        assert letter.last_error.startswith("UndecodableEvent: payload is not a valid SeatCounted")
        assert "n:" in letter.last_error
    finally:
        await runtime.close()


@pytest.mark.services
async def test_a_message_that_is_no_envelope_is_dead_lettered_and_acknowledged(
    make_settings: Callable[..., Settings], broker_prefix: str
) -> None:
    url = broker_url("redis")
    runtime = build_runtime(
        make_settings(broker_url=url, broker_prefix=broker_prefix, relay_poll_seconds=0.02)
    )
    tally = Tally()
    consumer = tally.consumer()
    worker = BrokerWorker(runtime, [consumer])
    stream, group = f"{broker_prefix}{TOPIC}", f"{broker_prefix}{group_of(consumer)}"
    try:
        await worker.start()
        await worker.broker.publish(TOPIC, b"\x00 not an event", key="x", message_id="m-1")
        await wait_until(lambda: count(runtime, DeadLetter.id), "the dead letter")
        client = Redis.from_url(url)
        try:

            async def nothing_pending() -> bool:
                return int((await client.xpending(stream, group))["pending"]) == 0

            await wait_until(nothing_pending, "the message acknowledged")
        finally:
            await client.aclose()
    finally:
        await worker.stop()
        await runtime.close()
        await clean_broker("redis", url, broker_prefix)
    assert worker.dispatcher.outcomes["dead"] == 1
    assert tally.seen == []
    assert await count(runtime, ProcessedEvent.event_id) == 0


@pytest.mark.services
async def test_a_worker_forgets_the_redis_consumer_names_of_workers_that_died(
    make_settings: Callable[..., Settings], broker_prefix: str
) -> None:
    url = broker_url("redis")
    redelivery = 0.1  # names idle for 10 periods (1 s) with nothing pending are dead
    runtime = build_runtime(
        make_settings(
            broker_url=url, broker_prefix=broker_prefix, redelivery_after_seconds=redelivery
        )
    )
    consumer = Tally().consumer()
    stream, group = f"{broker_prefix}{TOPIC}", f"{broker_prefix}{group_of(consumer)}"
    client = Redis.from_url(url)
    worker = BrokerWorker(runtime, [consumer])
    try:
        await client.xgroup_create(stream, group, id="0", mkstream=True)
        await client.xadd(stream, {"x": "1"})
        await client.xreadgroup(group, "died-holding-one", {stream: ">"}, count=1)
        await client.xreadgroup(group, "died-empty", {stream: ">"}, count=1)
        await asyncio.sleep(redelivery * 10 + 0.3)
        await worker.start()
        names = {c["name"].decode() for c in await client.xinfo_consumers(stream, group)}
        assert "died-empty" not in names
        assert "died-holding-one" in names  # its entry is claimed first (XAUTOCLAIM)
    finally:
        await worker.stop()
        await client.aclose()
        await runtime.close()
        await clean_broker("redis", url, broker_prefix)
