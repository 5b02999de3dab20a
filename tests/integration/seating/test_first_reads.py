"""The first requests of a show arriving together read its seat layout once, not once each;
a show forgotten for being idle is read again as the first time."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from boxoffice.platform.runtime import Runtime
from boxoffice.seating.adapters import seating_of
from boxoffice.seating.snapshot import IDLE_SECONDS
from tests.conftest import BACKENDS
from tests.support.api import API, customer
from tests.support.catalog import open_show


@pytest.mark.parametrize("backend", BACKENDS)
async def test_concurrent_first_requests_share_one_layout_read(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    show = await open_show(client, runtime, rows=4, seats_per_row=25)
    snapshots = seating_of(runtime).snapshots
    snapshots.layouts.clear()  # as a process that has not seen the show
    reads = 0

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        nonlocal reads
        if "FROM seating_seats" in statement and "ORDER BY seating_seats." in statement:
            reads += 1

    engine = runtime.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        layouts = await asyncio.gather(*(snapshots.layout(show.show_id) for _ in range(100)))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert reads == 1
    assert {len(layout.seats) for layout in layouts} == {100}
    assert all(layout is layouts[0] for layout in layouts)


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_forgotten_show_is_served_again_as_before(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    """A show idle long enough is forgotten (docs/seating.md, "Seat map"); its next
    requests read it again: the same map, and the seats held meanwhile shown held."""
    show = await open_show(client, runtime, rows=2, seats_per_row=10)
    seats_url = f"{API}/shows/{show.show_id}/seats"
    before = await client.get(seats_url)
    assert before.status_code == 200
    snapshots = seating_of(runtime).snapshots
    assert show.show_id in snapshots.layouts

    snapshots.forget_idle(time.monotonic() + IDLE_SECONDS + 1)
    assert show.show_id not in snapshots.layouts
    assert show.show_id not in snapshots.rendered

    again = await client.get(seats_url)
    assert again.status_code == 200
    assert again.json() == before.json()

    fan = await customer(client)
    held = await client.post(
        f"{API}/shows/{show.show_id}/holds",
        json={"seat_ids": [show.seat_ids[0]]},
        headers=fan.headers,
    )
    assert held.status_code == 201, held.text
    snapshots.forget_idle(time.monotonic() + IDLE_SECONDS + 1)
    statuses = {s["id"]: s["status"] for s in (await client.get(seats_url)).json()["seats"]}
    assert statuses[show.seat_ids[0]] == "held"
    assert list(statuses.values()).count("available") == len(show.seat_ids) - 1
