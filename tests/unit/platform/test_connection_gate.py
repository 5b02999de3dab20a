"""The connection gate lends its permits by priority, then in the order asked; a wait that
runs out is the pool's own TimeoutError; no permit is lost to a wait that ends."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.exc import TimeoutError as PoolTimeout

from boxoffice.platform.connection_gate import ConnectionGate, Priority


async def settle(turns: int = 5) -> None:
    for _ in range(turns):
        await asyncio.sleep(0)


async def test_permits_are_lent_at_once_while_free() -> None:
    gate = ConnectionGate(capacity=2, timeout=1.0)
    await gate.acquire()
    await gate.acquire(Priority.SETTLING)
    waiter = asyncio.create_task(gate.acquire())
    await settle()
    assert not waiter.done()
    gate.release()
    await asyncio.wait_for(waiter, 1.0)


async def test_waiters_get_a_permit_by_priority_then_in_the_order_they_asked() -> None:
    gate = ConnectionGate(capacity=1, timeout=5.0)
    await gate.acquire()
    served: list[str] = []

    async def wait(name: str, priority: Priority) -> None:
        await gate.acquire(priority)
        served.append(name)

    arrivals = [
        ("hold-1", Priority.NORMAL),
        ("order-1", Priority.FINISHING),
        ("hold-2", Priority.NORMAL),
        ("settle-1", Priority.SETTLING),
        ("order-2", Priority.FINISHING),
    ]
    tasks = []
    for name, priority in arrivals:
        tasks.append(asyncio.create_task(wait(name, priority)))
        await settle()
    for _ in arrivals:  # each holder gives its permit back in turn
        gate.release()
        await settle()
    await asyncio.gather(*tasks)
    assert served == ["settle-1", "order-1", "order-2", "hold-1", "hold-2"]


async def test_a_wait_that_runs_out_raises_the_pools_timeout_and_keeps_no_permit() -> None:
    gate = ConnectionGate(capacity=1, timeout=0.05)
    await gate.acquire()
    with pytest.raises(PoolTimeout):
        await gate.acquire(Priority.SETTLING)
    gate.release()
    # The one permit is free again: the lapsed waiter neither took nor lost it.
    await asyncio.wait_for(gate.acquire(), 0.5)
    with pytest.raises(PoolTimeout):
        await gate.acquire()


async def test_a_cancelled_waiter_passes_on_a_permit_handed_to_it_as_it_was_cancelled() -> None:
    gate = ConnectionGate(capacity=1, timeout=5.0)
    await gate.acquire()
    first = asyncio.create_task(gate.acquire())
    await settle()
    second = asyncio.create_task(gate.acquire())
    await settle()
    gate.release()  # the permit goes to ``first`` ...
    first.cancel()  # ... which is cancelled before it runs again
    with pytest.raises(asyncio.CancelledError):
        await first
    await asyncio.wait_for(second, 1.0)  # so it went on to the next in line
    third = asyncio.create_task(gate.acquire())
    await settle()
    assert not third.done()  # and only one permit exists
    third.cancel()
