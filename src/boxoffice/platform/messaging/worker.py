"""The loops that move events: the broker worker (`boxoffice worker`) and the embedded bus.

Broker mode: relay the outbox to the broker, publish due retries to each consumer's retry
topic, and consume both through FastStream. Embedded mode (no broker URL): the same
consumers run in-process on the outbox rows and on due retries.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

import structlog

from boxoffice.platform.ids import new_id
from boxoffice.platform.messaging.adapter import (
    BatchHandler,
    Body,
    BrokerAdapter,
    Outgoing,
    Settle,
)
from boxoffice.platform.messaging.brokers import broker_for
from boxoffice.platform.messaging.consumers import AnyConsumer
from boxoffice.platform.messaging.dispatcher import Dispatcher
from boxoffice.platform.messaging.envelope import Envelope
from boxoffice.platform.messaging.group import GROUP_MAX
from boxoffice.platform.messaging.relay import OutboxReader

if TYPE_CHECKING:
    from boxoffice.platform.runtime import Runtime

log = structlog.get_logger("boxoffice.messaging")
MAX_BACKOFF_SECONDS = 5.0
# Batches read at once per consumer: while one waits for its slowest delivery (or its
# commit), the next is already read and running.
READERS = 2
STOP_GRACE_SECONDS = 30.0


async def _finish(tasks: Sequence[asyncio.Task[None]]) -> None:
    """Let the loops see the stop and end; one that does not, in time, is cancelled."""
    if not tasks:
        return
    _, late = await asyncio.wait(tasks, timeout=STOP_GRACE_SECONDS)
    for task in late:
        log.error("messaging_stop_overran", step=task.get_name(), seconds=STOP_GRACE_SECONDS)
        task.cancel()


async def _bounded(step: str, work: Awaitable[None]) -> None:
    """A step of stopping that may not hang the stop: given up (cancelled, logged) after
    ``STOP_GRACE_SECONDS`` — what is unacknowledged is redelivered to another worker."""
    try:
        await asyncio.wait_for(work, STOP_GRACE_SECONDS)
    except TimeoutError:
        log.error("messaging_stop_overran", step=step, seconds=STOP_GRACE_SECONDS)


def make_broker(runtime: Runtime, worker_id: str | None = None) -> BrokerAdapter:
    settings = runtime.settings
    if not settings.broker_url:
        raise ValueError("BOXOFFICE_BROKER_URL is not set")
    return broker_for(
        settings.broker_url,
        prefix=settings.broker_prefix,
        worker_id=worker_id or f"{socket.gethostname()}-{os.getpid()}-{new_id()[-6:]}",
        concurrency=settings.consumer_concurrency,
        redelivery=settings.redelivery_after_seconds,
    )


def group_of(consumer: AnyConsumer) -> str:
    return f"boxoffice.{consumer.name}"


async def _loop(
    name: str, step: Callable[[], Awaitable[int]], idle: float, stop: asyncio.Event
) -> None:
    """Run ``step`` until stopped: again at once while it finds work, ``idle`` apart when
    not, backing off while it fails (database or broker down)."""
    backoff = idle
    while not stop.is_set():
        try:
            done = await step()
            backoff = idle
        except Exception:
            log.exception("messaging_loop_failed", loop=name)
            done = 0
            backoff = min(MAX_BACKOFF_SECONDS, backoff * 2)
        if done == 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), backoff)


class BrokerWorker:
    """Relays and consumes through a broker. Several can run at once."""

    def __init__(
        self,
        runtime: Runtime,
        consumers: Sequence[AnyConsumer],
        *,
        broker: BrokerAdapter | None = None,
        relay: bool = True,
        consume: bool = True,
    ) -> None:
        self.runtime = runtime
        self.consumers = list(consumers)
        self.broker = broker or make_broker(runtime)
        self.relay = relay
        self.consume = consume
        self.reader = OutboxReader(runtime)
        self.dispatcher = Dispatcher(runtime)
        self.by_name = {c.name: c for c in self.consumers}
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._settling: set[asyncio.Task[None]] = set()

    def _handler(self, consumer: AnyConsumer) -> BatchHandler:
        async def handle(bodies: Sequence[Body], settle: Settle) -> None:
            envelopes: list[Envelope] = []
            positions: list[int] = []
            unreadable: list[int] = []  # dead-lettered, then acknowledged like the others
            for position, body in enumerate(bodies):
                try:
                    envelopes.append(Envelope.decode(body))
                    positions.append(position)
                except Exception:
                    try:
                        await self.dispatcher.dead_letter_unreadable(consumer, body)
                        unreadable.append(position)
                    except Exception:  # not recorded: left to the broker's redelivery
                        log.exception("undecodable_message", consumer=consumer.name)
            outcomes = await self.dispatcher.start_batch(consumer, envelopes)
            task = asyncio.create_task(
                self._settle(consumer, len(bodies), positions, outcomes, settle, unreadable)
            )
            self._settling.add(task)
            task.add_done_callback(self._settling.discard)

        return handle

    async def _settle(
        self,
        consumer: AnyConsumer,
        size: int,
        positions: list[int],
        outcomes: Awaitable[list[str | Exception]],
        settle: Settle,
        unreadable: list[int],
    ) -> None:
        """Acknowledge what was done once the batch's deliveries finish."""
        done = [False] * size
        for position in unreadable:
            done[position] = True
        for position, outcome in zip(positions, await outcomes, strict=True):
            if isinstance(outcome, Exception):
                log.warning(
                    "delivery_left_to_redelivery",
                    consumer=consumer.name,
                    error=f"{type(outcome).__name__}: {outcome}"[:300],
                )
            else:
                done[position] = True
        try:
            await settle(done)
        except Exception:  # unacknowledged: redelivered, and dropped as a duplicate
            log.warning("acknowledgement_failed", consumer=consumer.name, exc_info=True)

    def batch_size(self, consumer: AnyConsumer) -> int:
        """Messages per read: a group commit's worth, else the deliveries run at once."""
        if consumer.group_commit and not consumer.acts_outside_db:
            return GROUP_MAX
        return self.runtime.settings.consumer_concurrency

    async def publish_event(self, envelope: Envelope) -> None:
        await self.broker.publish(
            envelope.topic,
            envelope.encode(),
            key=envelope.aggregate_id,
            message_id=envelope.event_id,
        )

    async def publish_events(self, envelopes: Sequence[Envelope]) -> None:
        await self.broker.publish_many(
            [Outgoing(e.topic, e.encode(), e.aggregate_id, e.event_id) for e in envelopes],
            concurrency=self.reader.concurrency,
        )

    async def publish_retry(self, consumer_name: str, envelope: Envelope) -> None:
        consumer = self.by_name.get(consumer_name)
        if consumer is None:
            log.warning("retry_for_unknown_consumer", consumer=consumer_name)
            return
        await self.broker.publish(
            consumer.retry_topic,
            envelope.encode(),
            key=envelope.aggregate_id,
            message_id=f"{envelope.event_id}.{consumer.name}.{envelope.attempt}",
        )

    async def start(self) -> None:
        if self.consume:
            for consumer in self.consumers:
                handle, batch = self._handler(consumer), self.batch_size(consumer)
                self.broker.subscribe(
                    consumer.topic, group_of(consumer), handle, batch=batch, readers=READERS
                )
                self.broker.subscribe(
                    consumer.retry_topic, group_of(consumer) + ".retry", handle, batch=batch
                )
        await self.broker.start()
        if self.relay:
            idle = self.runtime.settings.relay_poll_seconds
            self._spawn(
                "relay",
                lambda: self.reader.relay_batch(
                    self.publish_event, publish_all=self.publish_events
                ),
                idle,
            )
            self._spawn(
                "retries",
                lambda: self.reader.pump_retries(self.publish_retry, hold_claim=True),
                max(idle, 0.5),
            )
        log.info("messaging_worker_started", broker=self.broker.kind, consumers=len(self.consumers))

    def _spawn(self, name: str, step: Callable[[], Awaitable[int]], idle: float) -> None:
        self._tasks.append(asyncio.create_task(_loop(name, step, idle, self._stop), name=name))

    async def stop(self) -> None:
        """Stop relaying and reading; let the deliveries under way finish and be
        acknowledged (up to ``STOP_GRACE_SECONDS``), then disconnect."""
        self._stop.set()
        await _finish(self._tasks)
        if self.consume:
            await _bounded("stop_reading", self.broker.stop_reading())
            await self.dispatcher.drain(STOP_GRACE_SECONDS)
            if self._settling:
                await asyncio.wait(set(self._settling), timeout=STOP_GRACE_SECONDS)
        await _bounded("close", self.broker.close())

    async def run(self, stop: asyncio.Event) -> None:
        await self.start()
        try:
            await stop.wait()
        finally:
            await self.stop()


class InProcessBus:
    """Embedded run: the outbox's rows go straight to the consumers in this process."""

    def __init__(self, runtime: Runtime, consumers: Sequence[AnyConsumer]) -> None:
        self.runtime = runtime
        self.reader = OutboxReader(runtime)
        self.dispatcher = Dispatcher(runtime)
        self.by_topic: dict[str, list[AnyConsumer]] = defaultdict(list)
        for consumer in consumers:
            self.by_topic[consumer.topic].append(consumer)
        self.by_name = {c.name: c for c in consumers}
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def dispatch(self, envelope: Envelope) -> None:
        for consumer in self.by_topic.get(envelope.topic, ()):
            await self.dispatcher.deliver(consumer, envelope)

    async def dispatch_retry(self, consumer_name: str, envelope: Envelope) -> None:
        consumer = self.by_name.get(consumer_name)
        if consumer is not None:
            await self.dispatcher.deliver(consumer, envelope)

    async def run_once(self) -> int:
        """Consume what is waiting now (outbox rows, then due retries). For tests and jobs."""
        total = 0
        while True:
            done = await self.reader.consume_batch_in_process(self.dispatch)
            done += await self.reader.pump_retries(self.dispatch_retry, hold_claim=False)
            total += done
            if done == 0:
                return total

    def start(self) -> None:
        idle = self.runtime.settings.relay_poll_seconds
        self._tasks.append(
            asyncio.create_task(
                _loop(
                    "outbox",
                    lambda: self.reader.consume_batch_in_process(self.dispatch),
                    idle,
                    self._stop,
                )
            )
        )
        self._tasks.append(
            asyncio.create_task(
                _loop(
                    "retries",
                    lambda: self.reader.pump_retries(self.dispatch_retry, hold_claim=False),
                    max(idle, 0.5),
                    self._stop,
                )
            )
        )

    async def stop(self) -> None:
        self._stop.set()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
