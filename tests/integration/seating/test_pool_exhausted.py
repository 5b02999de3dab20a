"""A hold that waits out the database pool is answered 503 "busy, try again", logged for
the operator as every other context's is (``backend_unavailable``), and leaves its seats
free on the board for the next buyer."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection
from structlog.testing import capture_logs

from boxoffice.platform.config import Settings
from boxoffice.platform.ids import new_id
from boxoffice.platform.runtime import Runtime
from boxoffice.seating import adapters
from boxoffice.seating.errors import SeatingBusy
from tests.conftest import BACKENDS
from tests.integration.seating.conftest import OnSale


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(database_pool_size=1, database_pool_timeout_seconds=0.2)


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_hold_that_waits_out_the_pool_is_logged_and_leaves_its_seats_free(
    runtime: Runtime, on_sale: OnSale
) -> None:
    seats = on_sale.seat_ids[:2]
    # The show's layout is loaded (its own transaction) before the pool is taken.
    await adapters.seating_of(runtime).snapshots.layout(on_sale.show_id)
    size = runtime.engine.pool.size()  # type: ignore[attr-defined]
    held: list[AsyncConnection] = [await runtime.engine.connect() for _ in range(size)]
    try:
        with capture_logs() as logs, pytest.raises(SeatingBusy) as refused:
            await on_sale.hold(runtime, seats, new_id())
    finally:
        for connection in held:
            await connection.close()
    assert refused.value.status == 503
    assert {"event": "backend_unavailable", "context": "seating", "error": "TimeoutError"} in [
        {k: entry.get(k) for k in ("event", "context", "error")} for entry in logs
    ]
    # The board's mark was taken back: the same seats are free for the next buyer.
    won = await on_sale.hold(runtime, seats, new_id())
    assert sorted(s.seat_id for s in won.seats) == sorted(seats)
