"""Kafka through FastStream (aiokafka): a consumer group per consumer, read in batches,
keyed by aggregate so a partition keeps an aggregate's order, offsets committed once a
batch is done. See docs/messaging.md (Kafka) for the options a ``kafka://`` URL may carry.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import structlog
from faststream import Context
from faststream.middlewares import AckPolicy

from boxoffice.platform.messaging.adapter import BaseAdapter, BatchHandler, Outgoing, safe_name

log = structlog.get_logger("boxoffice.messaging")


# Client options a ``kafka://`` URL may set in its query (``?session_timeout_ms=2000``):
# the defaults suit Apache Kafka; a Kafka-compatible broker may need others (docs/messaging.md).
KAFKA_PRODUCER_OPTIONS = {"enable_idempotence": bool, "linger_ms": int, "request_timeout_ms": int}
KAFKA_CONSUMER_OPTIONS = {
    "session_timeout_ms": int,
    "heartbeat_interval_ms": int,
    "rebalance_timeout_ms": int,
    "max_poll_interval_ms": int,
    "fetch_max_wait_ms": int,
}
KAFKA_BATCH_WAIT_MS = 50  # how long a read waits for a batch to fill when few events come
KAFKA_AGAIN_SECONDS, KAFKA_AGAIN_MAX_SECONDS = 0.5, 5.0  # pauses before a message comes again
KAFKA_STOP_GRACE_SECONDS = 30.0  # a stopping consumer lets the batch it handles finish


def kafka_options(url: str) -> tuple[list[str], dict[str, Any], dict[str, Any]]:
    """``kafka://host:9092,host2:9092?option=value``: the bootstrap servers, the producer's
    and the consumers' options. ValueError for an option not listed above."""
    parts = urlsplit(url)
    producer: dict[str, Any] = {"enable_idempotence": True, "acks": "all"}
    consumer: dict[str, Any] = {}
    for name, value in parse_qsl(parts.query, strict_parsing=bool(parts.query)):
        if name in KAFKA_PRODUCER_OPTIONS:
            target, kind = producer, KAFKA_PRODUCER_OPTIONS[name]
        elif name in KAFKA_CONSUMER_OPTIONS:
            target, kind = consumer, KAFKA_CONSUMER_OPTIONS[name]
        else:
            raise ValueError(f"unknown Kafka option {name!r} in the broker URL")
        target[name] = value.lower() in ("1", "true", "yes", "on") if kind is bool else int(value)
    return parts.netloc.split(","), producer, consumer


class KafkaAdapter(BaseAdapter):
    kind = "kafka"

    def __init__(self, url: str, **kwargs: Any) -> None:
        super().__init__(url, **kwargs)
        from faststream.kafka import KafkaBroker

        servers, producer, self.consumer_options = kafka_options(url)
        self.reading = True
        self.broker = KafkaBroker(
            servers, logger=None, graceful_timeout=KAFKA_STOP_GRACE_SECONDS, **producer
        )

    def subscribe(
        self, topic: str, group: str, handler: BatchHandler, *, batch: int, readers: int = 1
    ) -> None:
        """One consumer per group and worker, reading batches. Kafka acknowledges by offset
        per partition, with no gaps: a message of a batch that was not done (busy at another
        worker, the database down) is handed over again by this worker after a pause, before
        the next read, and the batch's offsets are committed once all of it is done. A
        worker that dies leaves them uncommitted: its partitions are read again elsewhere."""

        async def consume_batch(body: Any, message: Any = Context("message")) -> None:
            pending = list(range(len(body)))
            pause = KAFKA_AGAIN_SECONDS
            while pending and self.reading:
                done = await _settled(handler, [body[i] for i in pending])
                pending = [i for i, ok in zip(pending, done, strict=True) if not ok]
                if pending:
                    await asyncio.sleep(pause)
                    pause = min(pause * 2, KAFKA_AGAIN_MAX_SECONDS)
            if not pending:
                await _commit(message.consumer, message.raw_message)

        self.broker.subscriber(
            self.name(topic),
            group_id=safe_name(self.name(group)),
            auto_offset_reset="earliest",
            batch=True,
            max_records=batch,
            batch_timeout_ms=KAFKA_BATCH_WAIT_MS,
            decoder=_kafka_batch,
            ack_policy=AckPolicy.MANUAL,
            **self.consumer_options,
        )(consume_batch)

    async def stop_reading(self) -> None:
        self.reading = False
        await super().stop_reading()

    async def start(self) -> None:
        """``KafkaBroker.start`` with the consumers joining their groups side by side: a join
        waits for the group's rebalance delay, which one after another adds up per group."""
        await self.broker.connect()
        await asyncio.gather(*(subscriber.start() for subscriber in self.broker.subscribers))
        self.broker.running = True
        self.started = True

    async def publish(self, topic: str, body: bytes, *, key: str, message_id: str) -> None:
        await self.broker.publish(
            body, self.name(topic), key=key.encode(), headers={"message-id": message_id}
        )

    async def publish_many(self, messages: Sequence[Outgoing], *, concurrency: int) -> None:
        """All handed to the producer in the order given, then awaited: it batches them per
        partition and keeps one request in flight per partition, so a key's order holds
        (the same caveat as Redis's pipeline: a request refused for good in the middle of a
        batch, after its retries, while a later one is accepted)."""
        sent = [
            await self.broker.publish(
                m.body,
                self.name(m.topic),
                key=m.key.encode(),
                headers={"message-id": m.message_id},
                no_confirm=True,
            )
            for m in messages
        ]
        await asyncio.gather(*sent)


async def _kafka_batch(message: Any) -> list[bytes]:
    return [record.value for record in message.raw_message]


async def _settled(handler: BatchHandler, bodies: list[bytes]) -> list[bool]:
    """Hand ``bodies`` to ``handler``; which of them it says are done, once it says so."""
    settled: asyncio.Future[list[bool]] = asyncio.get_running_loop().create_future()

    async def settle(done: list[bool]) -> None:
        settled.set_result(done)

    await handler(bodies, settle)
    return await settled


async def _commit(consumer: Any, records: Sequence[Any]) -> None:
    """Commit the offsets after ``records``, per partition."""
    from aiokafka import TopicPartition

    offsets: dict[Any, int] = {}
    for record in records:
        partition = TopicPartition(record.topic, record.partition)
        offsets[partition] = max(offsets.get(partition, 0), record.offset + 1)
    try:
        await consumer.commit(offsets)
    except Exception:  # the partitions moved to another worker, which reads them again from
        log.warning("kafka_commit_failed", exc_info=True)  # the last commit (duplicates)
