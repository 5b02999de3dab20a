from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI

from boxoffice.app import create_app
from boxoffice.platform.clock import FrozenClock
from boxoffice.platform.config import Settings
from boxoffice.waitroom.store import QueueStore
from tests.support.waitroom import STORES, queue_store


@pytest.fixture(params=STORES)
async def store(request: pytest.FixtureRequest) -> AsyncIterator[QueueStore]:
    async for made in queue_store(request.param):
        yield made


@pytest.fixture
def app(settings: Settings, clock: FrozenClock | None) -> FastAPI:
    """Only the contexts the waiting room works with (others may be mid-change)."""
    return create_app(settings, ["identity", "catalog", "waitroom"], clock=clock, background=False)
