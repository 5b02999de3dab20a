"""Who gets the next pooled connection when the pool has none: the checkout finishing
what it started before it starts more.

Under a sale's press every API process's pool is lent out and its units of work queue
for a connection (docs/decisions.md: up to ``database_pool_timeout_seconds``).
SQLAlchemy's pool hands connections on in the order they were asked for, so a payment
whose money the provider has already taken waited behind every new hold that came
before it — and a buyer further along (placing the order, paying) behind those only
starting. The gate lends the pool's connections by :class:`Priority` first, then in
order of asking: settling a captured payment, then the steps that finish a purchase,
then everything else. It stands in front of the pool with as many permits as the pool
has connections, so a unit that passed it finds a connection free (only units of work
that open an ORM session before any Core statement take theirs from the pool directly;
the checkout's hot steps do not). Database servers only: SQLite's writes already wait
their turn, in order, for its one write lock (``platform/runtime.connection_gate``).

A unit opened inside another's (a nested read) asks the gate like any other, by its own
priority, while its caller holds a permit: had the prioritised steps such a read on the
Core path, a press could leave it waiting behind the very units holding the permits.
They have none: the one read nested in them, the sale info's memo refreshing
(``catalog.recent_sale_info`` inside placing an order), runs on a session, which takes
its connection from the pool directly, as before the gate.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from enum import IntEnum

from sqlalchemy.exc import TimeoutError as PoolTimeout


class Priority(IntEnum):
    """How soon a unit of work gets a connection when several wait (higher first)."""

    NORMAL = 0
    # Placing an order for seats already held, taking a payment: a purchase under way.
    FINISHING = 1
    # Booking a payment the provider has captured: the buyer's money is already taken.
    SETTLING = 2


class ConnectionGate:
    """``capacity`` permits, one per pooled connection, lent by priority and then in the
    order asked; a wait longer than ``timeout`` seconds raises the pool's own
    ``TimeoutError``, which every route already answers 503 "try again"."""

    def __init__(self, capacity: int, timeout: float) -> None:
        self.timeout = timeout
        self._free = capacity
        self._order = itertools.count()
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []

    async def acquire(self, priority: Priority = Priority.NORMAL) -> None:
        # A permit is only ever free while nobody waits (release hands it on first).
        if self._free > 0:
            self._free -= 1
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (-priority, next(self._order), future))
        try:
            async with asyncio.timeout(self.timeout):
                await future
        except BaseException as error:
            if future.done() and not future.cancelled():
                self.release()  # handed a permit as the wait ended: pass it on
            else:
                future.cancel()
            if isinstance(error, TimeoutError):
                raise PoolTimeout(
                    f"No database connection was free within {self.timeout:g} s."
                ) from None
            raise

    def release(self) -> None:
        while self._waiting:
            _, _, future = heapq.heappop(self._waiting)
            if not future.done():
                future.set_result(None)  # the permit goes straight to the next in line
                return
        self._free += 1
