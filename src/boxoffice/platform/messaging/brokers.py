"""Broker adapters on FastStream, chosen by URL: one contract for every broker.

``redis://`` Redis Streams (consumer groups; entries left unacknowledged by a dead worker
are claimed with XAUTOCLAIM), ``nats://`` NATS JetStream (one stream, durable pull
consumers; publishes deduplicated by ``Nats-Msg-Id``), ``amqp://`` RabbitMQ (a topic
exchange, one durable queue per consumer, persistent messages, publisher confirms),
``kafka://`` Kafka (a consumer group per consumer, keyed by aggregate so a partition
keeps an aggregate's order; offsets committed up to the first message not done).

Each consumer has a group (queue, durable) of its own: every consumer sees every event
of its topic once, and the workers running it share the work.

Redis Streams, NATS JetStream and Kafka hand the consumer whole batches (one XREADGROUP,
one pull, one poll), so a batch costs one pass through FastStream and one transaction
under group commit; each message of a batch is acknowledged on its own outcome (Kafka:
by offset, see ``KafkaAdapter.subscribe``). RabbitMQ hands over one message at a time.
"""

from __future__ import annotations

import asyncio
import re
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

import structlog
from faststream import Context
from faststream.middlewares import AckPolicy

from boxoffice.platform.jsonutil import loads

log = structlog.get_logger("boxoffice.messaging")

Body = bytes | Mapping[str, Any]  # a message as sent, or already decoded from JSON
Settle = Callable[[list[bool]], Awaitable[None]]
BatchHandler = Callable[[Sequence[Body], Settle], Awaitable[None]]
"""Gets the messages of one read and returns when it is ready for the next read; calls
``settle`` (later, perhaps) saying for each message whether it is done (acknowledged)
or not (left to the broker's redelivery)."""


# How long a NATS pull collects a batch when few events come (the latency then). Short
# waits (50 ms) sometimes left a few messages of 10,000 delivered to the client but not
# handed over until ack_wait redelivered them (nats-py 2.16, Python 3.11; cause not
# found, see docs/messaging.md); with 0.5 s it was not seen again.
BATCH_WAIT_SECONDS = 0.5


@dataclass(frozen=True)
class Outgoing:
    topic: str
    body: bytes
    key: str  # the aggregate: its messages keep their order
    message_id: str


class NotDone(Exception):
    """A single message the handler did not finish: the broker redelivers it."""


async def _raw_body(message: Any) -> bytes:
    # Async on purpose: FastStream runs a sync decoder in a worker thread per message.
    body: bytes = message.body
    return body


async def _decoded_batch(message: Any) -> list[Any]:
    # FastStream's Redis batch parser has already decoded each entry and joined them.
    items: list[Any] = loads(message.body)
    return items


async def _nats_batch(message: Any) -> list[bytes]:
    return [msg.data for msg in message.raw_message]


def _safe(name: str) -> str:
    """A name legal as a NATS durable, stream or Kafka group (no dots or spaces)."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", name)


class BrokerAdapter(Protocol):
    kind: str

    def subscribe(
        self, topic: str, group: str, handler: BatchHandler, *, batch: int, readers: int = 1
    ) -> None:
        """Register before ``start``: ``handler`` gets each message of ``topic`` once per
        group (again if it said not done, or its worker died), up to ``batch`` at a time;
        ``readers`` reads of a batching broker wait for their handler at once."""
        ...

    async def start(self) -> None: ...

    async def publish(self, topic: str, body: bytes, *, key: str, message_id: str) -> None:
        """Return once the broker holds the message durably."""
        ...

    async def publish_many(self, messages: Sequence[Outgoing], *, concurrency: int) -> None:
        """Publish ``messages``, those of one key in the order given; return once the
        broker holds them all, raise if it may not (then all are published again)."""
        ...

    async def ping(self) -> bool: ...

    async def stop_reading(self) -> None:
        """Stop taking messages (what was taken can still be acknowledged)."""
        ...

    async def close(self) -> None: ...


class _Base:
    kind = "base"

    def __init__(
        self, url: str, *, prefix: str, worker_id: str, concurrency: int, redelivery: float
    ) -> None:
        self.url = url
        self.prefix = prefix
        self.worker_id = worker_id
        self.concurrency = concurrency
        self.redelivery = redelivery
        self.started = False

    broker: Any

    def name(self, topic: str) -> str:
        return f"{self.prefix}{topic}"

    async def stop_reading(self) -> None:
        for subscriber in list(self.broker.subscribers):
            await subscriber.stop()

    async def publish(self, topic: str, body: bytes, *, key: str, message_id: str) -> None:
        raise NotImplementedError

    async def publish_many(self, messages: Sequence[Outgoing], *, concurrency: int) -> None:
        """One publish after another within a key, keys side by side."""
        chains: dict[str, list[Outgoing]] = defaultdict(list)
        for message in messages:
            chains[message.key].append(message)
        gate = asyncio.Semaphore(concurrency)

        async def run(chain: list[Outgoing]) -> None:
            async with gate:
                for m in chain:
                    await self.publish(m.topic, m.body, key=m.key, message_id=m.message_id)

        await asyncio.gather(*(run(chain) for chain in chains.values()))


class RedisStreamsAdapter(_Base):
    kind = "redis"

    def __init__(self, url: str, **kwargs: Any) -> None:
        super().__init__(url, **kwargs)
        from faststream.redis import RedisBroker

        self.broker = RedisBroker(url, logger=None, max_connections=256)  # type: ignore[arg-type]
        self._groups: list[tuple[str, str]] = []

    def subscribe(
        self, topic: str, group: str, handler: BatchHandler, *, batch: int, readers: int = 1
    ) -> None:
        from faststream.redis import StreamSub

        stream, group = self.name(topic), self.name(group)
        self._groups.append((stream, group))

        async def consume_batch(body: Any, message: Any = Context("message")) -> None:
            async def settle(done: list[bool]) -> None:
                entries = message.raw_message["message_ids"]
                ids = [entry for entry, ok in zip(entries, done, strict=True) if ok]
                if ids:  # the others stay pending: XAUTOCLAIM hands them out again
                    await message.consumer.xack(stream, group, *ids)

            await handler(body, settle)

        for reader in range(readers):
            self.broker.subscriber(
                stream=StreamSub(
                    stream,
                    group=group,
                    consumer=f"{self.worker_id}-{reader}",
                    polling_interval=200,
                    max_records=batch,
                    batch=True,
                ),
                decoder=_decoded_batch,
                ack_policy=AckPolicy.MANUAL,
            )(consume_batch)
        # Entries a dead worker read but never acknowledged: claimed once idle long enough.
        consume = _one_at_a_time(handler)
        self.broker.subscriber(
            stream=StreamSub(
                stream,
                group=group,
                consumer=f"{self.worker_id}-reclaim",
                polling_interval=int(min(self.redelivery, 5.0) * 1000),
                min_idle_time=int(self.redelivery * 1000),
            ),
            decoder=_raw_body,
            ack_policy=AckPolicy.NACK_ON_ERROR,
        )(consume)

    async def start(self) -> None:
        from redis.asyncio import Redis
        from redis.exceptions import ResponseError

        # Groups start at the beginning of their stream, so events relayed before the
        # first worker subscribed are not skipped.
        client = Redis.from_url(self.url)
        try:
            for stream, group in self._groups:
                try:
                    await client.xgroup_create(stream, group, id="0", mkstream=True)
                except ResponseError as exc:
                    if "BUSYGROUP" not in str(exc):
                        raise
        finally:
            await client.aclose()
        await self.broker.start()
        self.started = True

    async def publish(self, topic: str, body: bytes, *, key: str, message_id: str) -> None:
        await self.broker.publish(body, stream=self.name(topic), correlation_id=message_id)

    async def publish_many(self, messages: Sequence[Outgoing], *, concurrency: int) -> None:
        """All in one pipeline (one round trip): Redis runs its XADDs in the order given."""
        async with self.broker._connection.pipeline(transaction=False) as pipe:
            for m in messages:
                await self.broker.publish(
                    m.body, stream=self.name(m.topic), correlation_id=m.message_id, pipeline=pipe
                )
            await pipe.execute()

    async def ping(self) -> bool:
        return bool(await self.broker.ping(timeout=2.0))

    async def close(self) -> None:
        await self.broker.stop()


class NatsJetStreamAdapter(_Base):
    kind = "nats"

    def __init__(self, url: str, **kwargs: Any) -> None:
        super().__init__(url, **kwargs)
        from faststream.nats import JStream, NatsBroker

        self.broker = NatsBroker(url, logger=None)
        root = self.name("boxoffice")
        self.stream = JStream(
            _safe(root), subjects=[f"{root}.>"], duplicate_window=120.0, declare=True
        )

    def subscribe(
        self, topic: str, group: str, handler: BatchHandler, *, batch: int, readers: int = 1
    ) -> None:
        from faststream.nats import ConsumerConfig, PullSub

        async def consume_batch(body: Any, message: Any = Context("message")) -> None:
            async def settle(done: list[bool]) -> None:
                for msg, ok in zip(message.raw_message, done, strict=True):
                    await (msg.ack() if ok else msg.nak())

            await handler(body, settle)

        for _ in range(readers):  # pull subscriptions sharing the durable consumer
            self.broker.subscriber(
                self.name(topic),
                stream=self.stream,
                durable=_safe(self.name(group)),
                pull_sub=PullSub(batch_size=batch, timeout=BATCH_WAIT_SECONDS, batch=True),
                config=ConsumerConfig(ack_wait=self.redelivery, max_ack_pending=10_000),
                decoder=_nats_batch,
                ack_policy=AckPolicy.MANUAL,
            )(consume_batch)

    async def start(self) -> None:
        from nats.js.errors import BadRequestError

        await self.broker.start()
        # A relay-only process declares no subscriber stream: make sure the stream exists.
        js = self.broker.config.connection_state.stream
        try:
            await js.add_stream(
                name=self.stream.name, subjects=list(self.stream.subjects), duplicate_window=120.0
            )
        except BadRequestError as exc:
            if "already in use" not in str(exc.description):
                raise
        self.started = True

    async def publish(self, topic: str, body: bytes, *, key: str, message_id: str) -> None:
        await self.broker.publish(
            body, self.name(topic), stream=self.stream.name, headers={"Nats-Msg-Id": message_id}
        )

    async def ping(self) -> bool:
        return bool(await self.broker.ping(timeout=2.0))

    async def close(self) -> None:
        await self.broker.stop()


class RabbitAdapter(_Base):
    kind = "rabbit"

    def __init__(self, url: str, **kwargs: Any) -> None:
        super().__init__(url, **kwargs)
        from faststream.rabbit import ExchangeType, RabbitBroker, RabbitExchange

        self.broker = RabbitBroker(url, logger=None)
        self.exchange = RabbitExchange(
            self.name("boxoffice"), type=ExchangeType.TOPIC, durable=True
        )

    def subscribe(
        self, topic: str, group: str, handler: BatchHandler, *, batch: int, readers: int = 1
    ) -> None:
        from faststream.rabbit import RabbitQueue

        queue = RabbitQueue(self.name(group), durable=True, routing_key=topic)
        self.broker.subscriber(
            queue,
            self.exchange,
            decoder=_raw_body,
            ack_policy=AckPolicy.NACK_ON_ERROR,
        )(_one_at_a_time(handler))

    async def start(self) -> None:
        await self.broker.start()
        await self.broker.declare_exchange(self.exchange)
        self.started = True

    async def publish(self, topic: str, body: bytes, *, key: str, message_id: str) -> None:
        await self.broker.publish(
            body, routing_key=topic, exchange=self.exchange, persist=True, message_id=message_id
        )

    async def ping(self) -> bool:
        return bool(await self.broker.ping(timeout=2.0))

    async def close(self) -> None:
        await self.broker.stop()


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


class KafkaAdapter(_Base):
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
            group_id=_safe(self.name(group)),
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

    async def ping(self) -> bool:
        return bool(await self.broker.ping(timeout=2.0))

    async def close(self) -> None:
        await self.broker.stop()


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


def _one_at_a_time(handler: BatchHandler) -> Callable[[bytes], Awaitable[None]]:
    """A per-message subscriber's handler: not done raises, so FastStream nacks it."""

    async def consume(body: bytes) -> None:
        settled: asyncio.Future[list[bool]] = asyncio.get_running_loop().create_future()

        async def settle(done: list[bool]) -> None:
            settled.set_result(done)

        await handler([body], settle)
        [done] = await settled
        if not done:
            raise NotDone

    return consume


ADAPTERS: dict[str, type[_Base]] = {
    "redis": RedisStreamsAdapter,
    "rediss": RedisStreamsAdapter,
    "nats": NatsJetStreamAdapter,
    "tls": NatsJetStreamAdapter,
    "amqp": RabbitAdapter,
    "amqps": RabbitAdapter,
    "kafka": KafkaAdapter,
}


def broker_for(
    url: str, *, prefix: str, worker_id: str, concurrency: int, redelivery: float
) -> BrokerAdapter:
    """The adapter for ``url``'s scheme; ValueError for an unknown one."""
    scheme = urlsplit(url).scheme.lower()
    adapter = ADAPTERS.get(scheme)
    if adapter is None:
        raise ValueError(f"unsupported broker URL scheme {scheme!r} (redis, nats, amqp, kafka)")
    instance: BrokerAdapter = adapter(  # type: ignore[assignment]
        url, prefix=prefix, worker_id=worker_id, concurrency=concurrency, redelivery=redelivery
    )
    return instance
