"""How hard the checkout is pressed: what the waiting room's dispatcher admits by.

Every API process counts the checkout requests it answered (a hold taken, an order placed,
a payment) per second of the clock, and how many of those were *strained*: answered
slower than ``checkout_slow_seconds`` or refused because a backend was busy (a 503: the
database's pool had no connection to give, a claim kept deadlocking). At the first request
of a new second it adds the seconds before to two shared counters per second in the
key-value store (Redis in production, so every process and the dispatcher see the same
sums; the process's memory embedded). The dispatcher reads the last complete seconds and
slows its admissions while the checkout is strained (``waitroom/flow.py``).

Counting costs a request nothing but two integer additions; the store sees four
pipelined commands per process per second, and only in seconds with checkout traffic.
Seconds are the runtime's clock, as the dispatcher's (the hosts' wall clocks, which NTP
keeps within a few milliseconds, in production); a process's
last second before it falls idle is handed on with its next request, so the dispatcher
judges with a lag (``waitroom/flow.py``) and a quiet second counts as calm.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TypeVar

from boxoffice.platform.clock import Clock
from boxoffice.platform.errors import DomainError
from boxoffice.platform.kv import KeyValueStore, key
from boxoffice.platform.runtime import Runtime

# One hash tag, so that a Redis Cluster keeps every second's counters in one slot (MGET).
KEY_TAG = "{checkout-pressure}"
# Long enough for a dispatcher that paused to read them, short enough to keep nothing.
_KEEP_SECONDS = 30.0

T = TypeVar("T")


@dataclass(frozen=True)
class Pressure:
    """Checkout requests answered over some seconds, and how many of them were strained."""

    served: int = 0
    strained: int = 0

    @property
    def strained_share(self) -> float:
        return self.strained / self.served if self.served else 0.0


def _keys(store: KeyValueStore, second: int) -> tuple[str, str]:
    return key(store, KEY_TAG, str(second), "served"), key(store, KEY_TAG, str(second), "strained")


def is_strain(error: BaseException) -> bool:
    """A failure that says the checkout is pressed (busy: 503; or unexpected), not the
    buyer's own refusal (a seat taken, a limit reached) nor a payment provider's outage."""
    return not isinstance(error, DomainError) or error.status == 503


class CheckoutGauge:
    """One process's counts of checkout requests, per second, added to the store's."""

    def __init__(self, store: KeyValueStore, clock: Clock, slow_seconds: float) -> None:
        self.store = store
        self.clock = clock
        self.slow_seconds = slow_seconds
        self._second = 0
        self._served = 0
        self._strained = 0
        self._flushing: set[asyncio.Task[None]] = set()

    async def measure(self, request: Awaitable[T]) -> T:
        """Await one checkout request, counting it when it ends (raised or answered)."""
        started = time.monotonic()
        try:
            answer = await request
        except BaseException as error:
            self.observe(self.clock.now().timestamp(), strained=is_strain(error))
            raise
        slow = time.monotonic() - started > self.slow_seconds
        self.observe(self.clock.now().timestamp(), strained=slow)
        return answer

    def observe(self, at: float, *, strained: bool) -> None:
        second = int(at)
        if second != self._second:
            self._hand_on()
            self._second = second
        self._served += 1
        self._strained += strained

    def _hand_on(self) -> None:
        if not self._served:
            return
        task = asyncio.create_task(self._add(self._second, self._served, self._strained))
        self._flushing.add(task)
        task.add_done_callback(self._flushing.discard)
        self._served = self._strained = 0

    async def _add(self, second: int, served: int, strained: int) -> None:
        served_key, strained_key = _keys(self.store, second)
        try:
            await asyncio.gather(
                self.store.incr(served_key, served),
                self.store.incr(strained_key, strained),
                self.store.expire(served_key, _KEEP_SECONDS),
                self.store.expire(strained_key, _KEEP_SECONDS),
            )
        except Exception:  # a lost second only makes the dispatcher less wary
            return

    async def flush(self) -> None:
        """Hand on the current second too, and wait for what is being added (tests, exit)."""
        self._hand_on()
        if self._flushing:
            await asyncio.gather(*self._flushing, return_exceptions=True)


def checkout_gauge(runtime: Runtime) -> CheckoutGauge:
    """This process's gauge (made at its first checkout request)."""
    return runtime.adapters.ensure(
        CheckoutGauge,
        lambda: CheckoutGauge(
            runtime.kv, runtime.clock, runtime.settings.waitroom.checkout_slow_seconds
        ),
    )


async def read_pressure(store: KeyValueStore, seconds: list[int]) -> Pressure:
    """The checkout's counts over ``seconds``, summed over every process."""
    keys = [name for second in seconds for name in _keys(store, second)]
    values = await store.get_many(*keys)
    numbers = [int(value) if value else 0 for value in values]
    return Pressure(served=sum(numbers[0::2]), strained=sum(numbers[1::2]))
