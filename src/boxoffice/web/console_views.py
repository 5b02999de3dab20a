"""What the console's live dashboard shows of a show, gathered from the contexts' services.

Seats by state come from seating's snapshot (the one the seat map is served from), money
and pace from orders, the door count from tickets, the waiting line from this process's
serving board (the waiting room's push channel) and the queue settings from catalog's
cached sale info. The ownership check is orders' ``sales_figures`` (catalog's
``owned_show``): the one the API's ``GET /shows/{id}/sales`` makes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import asdict
from typing import Any

from boxoffice.catalog import service as catalog
from boxoffice.orders import service as orders
from boxoffice.platform.jsonutil import dumps
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Principal
from boxoffice.seating import service as seating
from boxoffice.tickets import service as tickets
from boxoffice.waitroom import service as waitroom

HEARTBEAT_SECONDS = 15.0


async def dashboard(runtime: Runtime, principal: Principal, show_id: str) -> dict[str, Any]:
    """One reading of the show's figures. Raises ``ShowNotFound`` / ``NotEventOwner``."""
    async with runtime.uow(read_only=True) as uow:
        sales = await orders.sales_figures(uow, principal, show_id)
        door = await tickets.door_count(uow, show_id)
        info = await catalog.show_sale_info(uow, show_id, runtime=runtime)
    async with runtime.uow() as uow:  # seating loads its snapshot in a transaction of its own
        seats = await seating.seat_counts(uow, runtime, show_id)
    line = await waitroom.queue_figures(runtime, show_id)
    queue = asdict(info.queue) if info is not None else {}
    return {
        "show_id": show_id,
        "event_id": info.event_id if info is not None else None,
        "title": info.title if info is not None else "",
        "starts_at": info.starts_at.isoformat() if info is not None else None,
        "seats": asdict(seats),
        "sales": sales.model_dump(mode="json"),
        "door": asdict(door),
        "queue": {**queue, **asdict(line)},
    }


def _sse(name: str, data: dict[str, Any]) -> str:
    return f"event: {name}\ndata: {dumps(data).decode()}\n\n"


async def dashboard_events(
    runtime: Runtime, principal: Principal, show_id: str, first: dict[str, Any], every: float
) -> AsyncIterator[str]:
    """A ``history`` event (the waiting line since the sale opened, as the dispatcher
    sampled it), then ``stats`` events: the first reading at once, then a new one whenever
    the figures change (read every ``every`` seconds), a comment heartbeat when nothing
    does."""
    yield "retry: 3000\n\n"
    line = await waitroom.line_history(runtime, show_id)
    now_ms = int(runtime.clock.now().timestamp() * 1000)  # the page maps it to its own clock
    yield _sse("history", {"line": line, "now_ms": now_ms})
    yield _sse("stats", first)
    last, quiet_since = first, time.monotonic()
    while True:
        await asyncio.sleep(every)
        reading = await dashboard(runtime, principal, show_id)
        if reading != last:
            last, quiet_since = reading, time.monotonic()
            yield _sse("stats", reading)
        elif time.monotonic() - quiet_since > HEARTBEAT_SECONDS:
            quiet_since = time.monotonic()
            yield ": heartbeat\n\n"
