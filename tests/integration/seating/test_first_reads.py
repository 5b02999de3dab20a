"""The first requests of a show arriving together read its seat layout once, not once each."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from boxoffice.platform.runtime import Runtime
from boxoffice.seating.adapters import seating_of
from tests.conftest import BACKENDS
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
