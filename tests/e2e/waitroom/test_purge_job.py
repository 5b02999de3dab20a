"""The daily job forgets the waiting rooms of shows whose sale is over, and only those."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from boxoffice.platform.clock import FrozenClock
from boxoffice.platform.runtime import Runtime
from boxoffice.waitroom import service as waitroom
from tests.support.api import API, customer
from tests.support.catalog import open_show

QUEUE = {"enabled": True, "admit_per_second": 10, "max_active": 100}


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime.now(UTC).replace(microsecond=0))


@pytest.mark.parametrize("use_redis", [False, True])
async def test_purge_forgets_finished_queues_only(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock
) -> None:
    show = await open_show(client, runtime, queue=QUEUE)
    fan = await customer(client)
    joined = await client.post(f"{API}/shows/{show.show_id}/queue", headers=fan.headers)
    assert joined.status_code == 201, joined.text
    store = waitroom.room(runtime).store

    assert await waitroom.purge_closed_queues(runtime) == 0  # the sale is still on
    assert show.show_id in await store.shows()

    clock.advance(timedelta(days=31))  # past the sale's close (open_show: 30 days)
    assert await waitroom.purge_closed_queues(runtime) == 1
    assert show.show_id not in await store.shows()
    assert await waitroom.purge_closed_queues(runtime) == 0
