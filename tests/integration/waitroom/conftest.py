from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from boxoffice.waitroom.store import QueueStore
from tests.support.waitroom import STORES, queue_store


@pytest.fixture(params=STORES)
async def store(request: pytest.FixtureRequest) -> AsyncIterator[QueueStore]:
    async for made in queue_store(request.param):
        yield made
