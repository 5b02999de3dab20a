"""Concurrent requests for the same lazily made thing share one making of it.

The moment a sale opens, hundreds of requests arrive at a process that has not yet seen
the show: each would load the same seat layout, fetch the same provider metadata or open
the same subscription. A :class:`SingleFlight` lets the first caller start the work and
every caller that comes while it runs await that same work; the next caller after it
ended (in success or failure) starts afresh. The work runs in a task of its own, so a
caller that gives up (a client that went away) does not cancel it for the others.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class SingleFlight(Generic[K, V]):
    """At most one call of the work per key in flight; concurrent callers share it."""

    def __init__(self) -> None:
        self._calls: dict[K, asyncio.Task[V]] = {}

    def __len__(self) -> int:
        return len(self._calls)

    async def do(self, key: K, work: Callable[[], Awaitable[V]]) -> V:
        """``work()``'s result, shared with every caller for ``key`` while it runs."""
        task = self._calls.get(key)
        if task is None:
            task = asyncio.ensure_future(work())
            self._calls[key] = task
            task.add_done_callback(lambda done: self._forget(key, done))
        return await asyncio.shield(task)

    def _forget(self, key: K, done: asyncio.Task[V]) -> None:
        if self._calls.get(key) is done:
            del self._calls[key]
        if not done.cancelled():
            done.exception()  # retrieved: a failure every caller left behind is not "unseen"

    async def close(self) -> None:
        """Cancel the work still running (process shutdown)."""
        tasks = list(self._calls.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._calls.clear()
