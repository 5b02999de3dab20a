"""batch integration fixtures: a runtime on the test's database with a frozen clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from boxoffice.platform.clock import FrozenClock
from boxoffice.platform.config import Settings
from boxoffice.platform.runtime import Runtime, build_runtime
from tests.support.batch import START


@pytest.fixture
def frozen() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def claim_ttl() -> float:
    """A run's claim lifetime; a frozen clock never renews it, so tests choose."""
    return 60.0


@pytest.fixture
async def batch_runtime(
    make_settings: Callable[..., Settings], frozen: FrozenClock, claim_ttl: float
) -> AsyncIterator[Runtime]:
    runtime = build_runtime(make_settings(batch={"batch_run_claim_ttl_seconds": claim_ttl}), frozen)
    yield runtime
    await runtime.close()
