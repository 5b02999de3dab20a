"""How long a unit of work waits for a pooled connection is the setting's, on every backend
(``database_pool_timeout_seconds``, docs/decisions.md); a wait that runs out is still a 503
"try again", never a 500; while units wait for a database server's connection, the next
one goes to the unit that finishes a purchase first (``platform/connection_gate.py``)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from boxoffice.platform.config import Settings
from boxoffice.platform.connection_gate import Priority
from boxoffice.platform.db import pool_capacity
from boxoffice.platform.errors import response_for
from boxoffice.platform.runtime import build_runtime
from tests.conftest import BACKENDS


@pytest.mark.parametrize("backend", BACKENDS)
async def test_the_pool_waits_as_configured_for_a_connection_then_the_request_is_told_to_retry(
    make_settings: Callable[..., Settings],
) -> None:
    assert Settings.model_fields["database_pool_timeout_seconds"].default == 45.0
    runtime = build_runtime(make_settings(database_pool_size=1, database_pool_timeout_seconds=0.2))
    held: list[AsyncConnection] = []
    try:
        assert runtime.engine.pool.timeout() == 0.2  # type: ignore[attr-defined]
        # Every connection the pool may open, checked out and kept.
        size = runtime.engine.pool.size()  # type: ignore[attr-defined]
        held = [await runtime.engine.connect() for _ in range(size)]
        with pytest.raises(sa_exc.TimeoutError) as raised:
            await runtime.engine.connect()
        answer = response_for(raised.value, "/api/v1/orders")
        assert answer.status_code == 503
        assert json.loads(bytes(answer.body))["code"] == "service_unavailable"
        # A connection given back is handed to the next unit at once.
        await held.pop().close()
        async with runtime.engine.connect():
            pass
    finally:
        for conn in held:
            await conn.close()
        await runtime.close()


@pytest.mark.parametrize("backend", ["postgresql", "mariadb"])
async def test_when_the_pool_is_lent_out_a_settlement_gets_the_next_connection_first(
    make_settings: Callable[..., Settings],
) -> None:
    runtime = build_runtime(make_settings(database_pool_size=1, database_pool_timeout_seconds=5))
    assert runtime.connection_gate is not None
    holders = [runtime.uow() for _ in range(pool_capacity(runtime.engine))]
    served: list[str] = []

    async def unit(name: str, priority: Priority) -> None:
        async with runtime.uow(priority=priority) as uow:
            await (await uow.connection()).execute(text("SELECT 1"))
            served.append(name)

    try:
        for holder in holders:  # every connection lent to a unit of work in progress
            await holder.__aenter__()
            await holder.connection()
        waiting = []
        for name, priority in [
            ("hold", Priority.NORMAL),
            ("order", Priority.FINISHING),
            ("settlement", Priority.SETTLING),
        ]:
            waiting.append(asyncio.create_task(unit(name, priority)))
            await asyncio.sleep(0.05)
        assert served == []
        await holders.pop().__aexit__(None, None, None)  # one connection comes back
        await asyncio.wait_for(asyncio.gather(*waiting), 5)
        assert served == ["settlement", "order", "hold"]
    finally:
        for holder in holders:
            await holder.__aexit__(None, None, None)
        await runtime.close()


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_sqlite_has_no_gate_its_writes_queue_in_order_for_its_write_lock(
    make_settings: Callable[..., Settings],
) -> None:
    runtime = build_runtime(make_settings())
    try:
        assert runtime.connection_gate is None
    finally:
        await runtime.close()


@pytest.mark.parametrize("backend", ["postgresql", "mariadb"])
async def test_a_crowd_of_units_some_given_up_leaves_every_permit_and_connection_returned(
    make_settings: Callable[..., Settings],
) -> None:
    """300 units of every priority race for a pool of 4 connections; a third of them are
    cancelled one after another, while they wait, work or give their connection back.
    Every unit not cancelled runs, and afterwards the gate lends all its permits at once
    and the pool has every connection back."""
    runtime = build_runtime(make_settings(database_pool_size=2, database_pool_timeout_seconds=30))
    gate = runtime.connection_gate
    assert gate is not None
    capacity = pool_capacity(runtime.engine)
    ran: list[Priority] = []

    async def unit(priority: Priority) -> None:
        async with runtime.uow(priority=priority) as uow:
            await (await uow.connection()).execute(text("SELECT 1"))
            await asyncio.sleep(0.001)
            ran.append(priority)

    try:
        tasks = [asyncio.create_task(unit(Priority(n % 3))) for n in range(300)]
        for task in tasks[1::3]:  # given up at every stage: waiting, working, closing
            await asyncio.sleep(0.0005)
            task.cancel()
        outcomes = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 60)
        finished = [o for o in outcomes if not isinstance(o, BaseException)]
        # Every unit not cancelled ran (some cancelled ones ran too, then were cancelled
        # while they gave their connection back).
        assert len(ran) >= len(finished) >= 200
        assert all(o is None or isinstance(o, asyncio.CancelledError) for o in outcomes)
        assert runtime.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
        for _ in range(capacity):  # every permit is free again: none waits
            await asyncio.wait_for(gate.acquire(), 0.1)
        gate.timeout = 0.05  # and there are no more than the pool's connections
        with pytest.raises(sa_exc.TimeoutError):
            await gate.acquire()
    finally:
        await runtime.close()
