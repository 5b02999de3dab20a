"""Database leases (the scheduler's lease without Redis) on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from boxoffice.platform.clock import FrozenClock
from boxoffice.platform.db import create_engine
from boxoffice.platform.lease import DatabaseLeases
from tests.conftest import BACKENDS
from tests.support.batch import START

pytestmark = pytest.mark.parametrize("backend", BACKENDS)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[object]:
    engine = create_engine(database_url, pool_size=5)
    yield engine
    await engine.dispose()


async def test_one_holder_among_racing_takers_then_takeover_after_expiry(engine: object) -> None:
    clock = FrozenClock(START)
    leases = DatabaseLeases(engine, clock)  # type: ignore[arg-type]
    won = await asyncio.gather(*(leases.acquire("batch.scheduler", f"p{i}", 15) for i in range(12)))
    assert won.count(True) == 1
    winner = f"p{won.index(True)}"
    assert await leases.holder("batch.scheduler") == winner

    # the holder renews even when the clock has not moved (MySQL counts matched rows)
    assert await leases.acquire("batch.scheduler", winner, 15)
    assert not await leases.acquire("batch.scheduler", "standby", 15)

    clock.advance(timedelta(seconds=14))
    assert await leases.acquire("batch.scheduler", winner, 15)  # renewed: expires at 29s
    clock.advance(timedelta(seconds=14))
    assert not await leases.acquire("batch.scheduler", "standby", 15)

    clock.advance(timedelta(seconds=2))  # the holder died and stopped renewing
    assert await leases.holder("batch.scheduler") is None
    assert await leases.acquire("batch.scheduler", "standby", 15)
    assert not await leases.acquire("batch.scheduler", winner, 15)  # the old holder lost it
    assert await leases.holder("batch.scheduler") == "standby"


async def test_release_only_by_the_holder(engine: object) -> None:
    clock = FrozenClock(START)
    leases = DatabaseLeases(engine, clock)  # type: ignore[arg-type]
    assert await leases.acquire("lease", "a", 15)
    await leases.release("lease", "b")
    assert await leases.holder("lease") == "a"
    await leases.release("lease", "a")
    assert await leases.holder("lease") is None
    assert await leases.acquire("lease", "b", 15)
