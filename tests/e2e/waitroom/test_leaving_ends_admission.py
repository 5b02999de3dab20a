"""Leaving the line ends the admission it granted (issue 16, defect 2).

Leaving frees the admitted person's active slot, so the dispatcher admits the next one:
were the token to keep placing holds, ``max_active`` would no longer bound the buyers.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from boxoffice.app import BoxOfficeApp, create_app
from boxoffice.platform.clock import FrozenClock
from boxoffice.platform.config import Settings
from boxoffice.platform.runtime import Runtime
from boxoffice.waitroom import service as waitroom
from tests.support.api import API, assert_problem, customer
from tests.support.catalog import open_show

QUEUE = {"enabled": True, "admit_per_second": 10, "max_active": 1}


@pytest.fixture(params=[True, False], ids=["fast-lane", "fastapi"])
def app(
    settings: Settings, clock: FrozenClock | None, request: pytest.FixtureRequest
) -> BoxOfficeApp:
    return create_app(settings.model_copy(update={"fast_lane": request.param}), clock=clock)


@pytest.mark.parametrize("use_redis", [False, True])
async def test_an_admission_token_stops_placing_holds_once_its_holder_leaves(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    show = await open_show(client, runtime, queue=QUEUE)
    fan = await customer(client)
    joined = await client.post(f"{API}/shows/{show.show_id}/queue", headers=fan.headers)
    assert joined.status_code == 201, joined.text
    entry_id = joined.json()["entry_id"]
    dispatcher, start = waitroom.room(runtime).dispatcher(runtime), datetime.now(UTC)
    for second in (0, 1):
        await dispatcher.tick(start + timedelta(seconds=second))
    polled = await client.get(f"{API}/queue/{entry_id}", headers=fan.headers)
    assert polled.json()["status"] == "admitted", polled.text
    admitted = {**fan.headers, "X-Admission-Token": polled.json()["admission_token"]}
    holds = f"{API}/shows/{show.show_id}/holds"
    first = await client.post(holds, json={"seat_ids": show.seat_ids[:1]}, headers=admitted)
    assert first.status_code == 201, first.text  # the token works while its holder is in line

    left = await client.delete(f"{API}/queue/{entry_id}", headers=fan.headers)
    assert left.status_code == 204
    again = await client.post(holds, json={"seat_ids": show.seat_ids[1:2]}, headers=admitted)
    assert_problem(again, 403, "admission_invalid")
