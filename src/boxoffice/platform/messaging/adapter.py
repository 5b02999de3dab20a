"""The broker port: what the worker needs of a broker, and what every adapter shares.

An adapter subscribes a consumer's group to a topic (each group sees every message once;
the workers running it share the work), hands the handler whole batches where the broker
reads them so, and publishes with each key's order kept. ``brokers.broker_for`` picks the
adapter by URL.
"""

from __future__ import annotations

import asyncio
import re
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

Body = bytes | Mapping[str, Any]  # a message as sent, or already decoded from JSON
Settle = Callable[[list[bool]], Awaitable[None]]
BatchHandler = Callable[[Sequence[Body], Settle], Awaitable[None]]
"""Gets the messages of one read and returns when it is ready for the next read; calls
``settle`` (later, perhaps) saying for each message whether it is done (acknowledged)
or not (left to the broker's redelivery)."""


@dataclass(frozen=True)
class Outgoing:
    topic: str
    body: bytes
    key: str  # the aggregate: its messages keep their order
    message_id: str


class NotDone(Exception):
    """A single message the handler did not finish: the broker redelivers it."""


async def raw_body(message: Any) -> bytes:
    # Async on purpose: FastStream runs a sync decoder in a worker thread per message.
    body: bytes = message.body
    return body


def safe_name(name: str) -> str:
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


class BaseAdapter:
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

    async def ping(self) -> bool:
        return bool(await self.broker.ping(timeout=2.0))

    async def close(self) -> None:
        await self.broker.stop()

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


def one_at_a_time(handler: BatchHandler) -> Callable[[bytes], Awaitable[None]]:
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
