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
import contextlib
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import structlog
from faststream import Context
from faststream.middlewares import AckPolicy

from boxoffice.platform.jsonutil import loads
from boxoffice.platform.messaging.adapter import (
    BaseAdapter,
    BatchHandler,
    BrokerAdapter,
    Outgoing,
    one_at_a_time,
    raw_body,
    safe_name,
)
from boxoffice.platform.messaging.kafka import KafkaAdapter

# How long a NATS pull collects a batch when few events come (the latency then). Short
# waits (50 ms) sometimes left a few messages of 10,000 delivered to the client but not
# handed over until ack_wait redelivered them (nats-py 2.16, Python 3.11; cause not
# found, see docs/messaging.md); with 0.5 s it was not seen again.
BATCH_WAIT_SECONDS = 0.5


async def _decoded_batch(message: Any) -> list[Any]:
    # FastStream's Redis batch parser has already decoded each entry and joined them.
    items: list[Any] = loads(message.body)
    return items


async def _nats_batch(message: Any) -> list[bytes]:
    return [msg.data for msg in message.raw_message]


log = structlog.get_logger("boxoffice.messaging")
DEAD_CONSUMER_IDLE = 10  # redelivery periods without a read: a Redis consumer name is dead
GROUP_CHECK_SECONDS = 5.0  # how often a Redis worker makes sure its consumer groups exist


class RedisStreamsAdapter(BaseAdapter):
    kind = "redis"

    def __init__(self, url: str, **kwargs: Any) -> None:
        super().__init__(url, **kwargs)
        from faststream.redis import RedisBroker

        self.broker = RedisBroker(url, logger=None, max_connections=256)  # type: ignore[arg-type]
        self._groups: list[tuple[str, str]] = []
        self._keeper: asyncio.Task[None] | None = None

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
        consume = one_at_a_time(handler)
        self.broker.subscriber(
            stream=StreamSub(
                stream,
                group=group,
                consumer=f"{self.worker_id}-reclaim",
                polling_interval=int(min(self.redelivery, 5.0) * 1000),
                min_idle_time=int(self.redelivery * 1000),
            ),
            decoder=raw_body,
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
                await self._forget_dead_consumers(client, stream, group)
        finally:
            await client.aclose()
        await self.broker.start()
        if self._groups:
            self._keeper = asyncio.create_task(self._keep_groups(), name="redis-stream-groups")
        self.started = True

    async def _keep_groups(self) -> None:
        """A Redis that restarted without its data has lost the streams' consumer groups, and
        the subscribers' reads fail (NOGROUP) and stop: re-create any group that is missing,
        from the start of its (new) stream, and start the stopped subscribers again, so what
        is relayed after the restart is delivered (found by bench/chaos.py's Redis restart)."""
        from redis.asyncio import Redis
        from redis.exceptions import RedisError, ResponseError

        client = Redis.from_url(self.url)
        try:
            while True:
                await asyncio.sleep(GROUP_CHECK_SECONDS)
                for stream, group in self._groups:
                    try:
                        await client.xgroup_create(stream, group, id="0", mkstream=True)
                    except ResponseError as exc:
                        if "BUSYGROUP" in str(exc):
                            continue
                        log.warning("redis_stream_group_failed", stream=stream, error=str(exc))
                    except RedisError as exc:  # Redis down: the next round tries again
                        log.warning("redis_stream_group_failed", stream=stream, error=str(exc))
                        break
                    else:
                        log.warning("redis_stream_group_recreated", stream=stream, group=group)
                await self._restart_stopped_subscribers()
        finally:
            await client.aclose()

    async def _restart_stopped_subscribers(self) -> None:
        """FastStream stops a stream subscriber for good when its read finds no group
        (NOGROUP); once the groups exist again, start those subscribers again."""
        from redis.exceptions import RedisError

        for subscriber in self.broker.subscribers:
            if subscriber.running:
                continue
            try:
                await subscriber.start()
            except RedisError as exc:  # Redis still away: the next round tries again
                log.warning("redis_stream_subscriber_failed", error=str(exc))
                return
            log.warning("redis_stream_subscriber_restarted", stream=subscriber.stream_sub.name)

    async def _forget_dead_consumers(self, client: Any, stream: str, group: str) -> None:
        """Each worker reads under names of its own: those of workers that died stay in the
        group. Drop the ones idle for ``DEAD_CONSUMER_IDLE`` redelivery periods that hold
        nothing pending (what they held is claimed by XAUTOCLAIM first, then they go at a
        later start). A live worker reads at least every few seconds."""
        idle_ms = self.redelivery * DEAD_CONSUMER_IDLE * 1000
        for consumer in await client.xinfo_consumers(stream, group):
            if consumer["pending"] == 0 and consumer["idle"] > idle_ms:
                await client.xgroup_delconsumer(stream, group, consumer["name"])

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

    async def close(self) -> None:
        if self._keeper is not None:
            self._keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._keeper
            self._keeper = None
        await super().close()


class NatsJetStreamAdapter(BaseAdapter):
    kind = "nats"

    def __init__(self, url: str, **kwargs: Any) -> None:
        super().__init__(url, **kwargs)
        from faststream.nats import JStream, NatsBroker

        self.broker = NatsBroker(url, logger=None)
        root = self.name("boxoffice")
        self.stream = JStream(
            safe_name(root), subjects=[f"{root}.>"], duplicate_window=120.0, declare=True
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
                durable=safe_name(self.name(group)),
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


class RabbitAdapter(BaseAdapter):
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
            decoder=raw_body,
            ack_policy=AckPolicy.NACK_ON_ERROR,
        )(one_at_a_time(handler))

    async def start(self) -> None:
        await self.broker.start()
        await self.broker.declare_exchange(self.exchange)
        self.started = True

    async def publish(self, topic: str, body: bytes, *, key: str, message_id: str) -> None:
        await self.broker.publish(
            body, routing_key=topic, exchange=self.exchange, persist=True, message_id=message_id
        )


ADAPTERS: dict[str, type[BaseAdapter]] = {
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
