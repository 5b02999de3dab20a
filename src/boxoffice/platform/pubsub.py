"""One Redis pub/sub connection per process, owned by one task.

redis-py's ``PubSub`` takes its connection from the pool the first time a command is sent.
Subscribing from every request that finds its channel not yet subscribed lets concurrent
first subscribes each take a pooled connection (all but one then stay subscribed and are
never given back): the opening burst of a sale exhausted the queue store's pool that way.
Here only the subscriber's own task ever touches the ``PubSub``, on a connection pool of
its own (never a command pool), so no burst, reconnect or Redis restart can take a
command connection. Callers ask for a channel and await its confirmation; concurrent asks
for one channel share one ``SUBSCRIBE``. After a dropped connection the task reconnects
with a growing delay, subscribes every channel again and tells its owner (messages sent
while it was away are lost, so the owner re-reads what it keeps).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import structlog
from redis.asyncio import ConnectionPool, Redis
from redis.asyncio.client import PubSub

log = structlog.get_logger("boxoffice.pubsub")

OnMessage = Callable[[str, str], None]  # (channel, data)
OnReconnect = Callable[[], None]

_POLL_SECONDS = 0.05  # how soon a newly asked channel is subscribed while others are quiet
_RETRY_SECONDS = (0.2, 0.5, 1.0, 2.0, 5.0)


class RedisSubscriber:
    """Subscribes channels single-flight on one dedicated connection (see module doc)."""

    def __init__(
        self,
        url: str,
        on_message: OnMessage,
        *,
        on_reconnect: OnReconnect | None = None,
        name: str = "redis-subscriber",
    ) -> None:
        pool = ConnectionPool.from_url(
            url, max_connections=2, decode_responses=True, health_check_interval=15
        )
        self._client = Redis(connection_pool=pool)
        self._on_message = on_message
        self._on_reconnect = on_reconnect
        self._name = name
        self._wanted: set[str] = set()
        self._confirmed: set[str] = set()
        self._waiting: dict[str, asyncio.Future[None]] = {}
        self._task: asyncio.Task[None] | None = None
        self.connected = False
        self.reconnects = 0

    @property
    def started(self) -> bool:
        return self._task is not None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=self._name)

    async def subscribe(self, channel: str, *, wait_seconds: float = 2.0) -> bool:
        """Ask for ``channel`` and wait (at most ``wait_seconds``) until Redis confirmed it.

        Returns False when no confirmation came in time: the channel stays asked for and
        is subscribed as soon as the connection is back."""
        if channel in self._confirmed:
            return True
        self._wanted.add(channel)
        self.start()
        waiter = self._waiting.get(channel)
        if waiter is None:
            waiter = self._waiting[channel] = asyncio.get_running_loop().create_future()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(waiter), wait_seconds)
        return channel in self._confirmed

    def forget(self, channel: str) -> None:
        """Stop wanting ``channel`` (it is unsubscribed with the next reconnect)."""
        self._wanted.discard(channel)

    @property
    def channels(self) -> set[str]:
        return set(self._confirmed)

    async def _run(self) -> None:
        failures = 0
        while True:
            pubsub = self._client.pubsub()
            try:
                await self._serve(pubsub)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # dropped connection, Redis restarting, ...
                self.connected = False
                self._confirmed.clear()
                delay = _RETRY_SECONDS[min(failures, len(_RETRY_SECONDS) - 1)]
                failures += 1
                log.warning("pubsub.disconnected", name=self._name, error=str(error), retry=delay)
                await asyncio.sleep(delay)
            else:
                failures = 0
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def wait_closed(self) -> None:
        """Return when the subscriber is closed (its owner's listen loop ends with it)."""
        if self._task is not None:
            await asyncio.shield(self._task)

    async def _serve(self, pubsub: PubSub) -> None:
        sent: set[str] = set()
        # A channel of its own: redis-py reads nothing before the first SUBSCRIBE, and the
        # connection is made here, by this task, before any channel is asked for.
        await pubsub.subscribe(f"{self._name}:alive")
        self.connected = True
        self.reconnects += 1
        if self.reconnects > 1 and self._on_reconnect is not None:
            self._on_reconnect()
        while True:
            new = self._wanted - sent
            if new:
                await pubsub.subscribe(*sorted(new))
                sent |= new
            message = await pubsub.get_message(timeout=_POLL_SECONDS)
            if message is None:
                continue
            kind, channel = message.get("type"), str(message.get("channel"))
            if kind == "message":
                try:
                    self._on_message(channel, str(message["data"]))
                except Exception:
                    log.exception("pubsub.handler_failed", name=self._name, channel=channel)
            elif kind == "subscribe":
                self._confirmed.add(channel)
                waiter = self._waiting.pop(channel, None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(None)

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for waiter in self._waiting.values():
            waiter.cancel()
        self._waiting.clear()
        self.connected = False
        await self._client.aclose()
        await self._client.connection_pool.disconnect()
