"""Seating integration fixtures: a show with seats on sale, users to race with."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from boxoffice.catalog.contracts import SeatSpec, ShowSaleInfo
from boxoffice.platform.ids import new_id
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.uow import UnitOfWork
from boxoffice.seating import adapters, holds
from boxoffice.seating.contracts import HeldSeats
from tests.support.seating import make_inventory, sale_info


@dataclass
class OnSale:
    info: ShowSaleInfo
    seats: list[SeatSpec]

    @property
    def show_id(self) -> str:
        return self.info.show_id

    @property
    def seat_ids(self) -> list[str]:
        return [s.seat_id for s in self.seats]

    async def hold(self, runtime: Runtime, seat_ids: list[str], user_id: str) -> HeldSeats:
        """Hold as seating's use case does, with this sale info (admission and window
        already checked)."""
        layout = await adapters.seating_of(runtime).snapshots.layout(self.show_id)

        async def refresh(_uow: UnitOfWork) -> ShowSaleInfo:
            return self.info

        return await holds.hold(
            runtime, holds.attempt(self.info, layout, user_id, seat_ids), refresh
        )


@pytest.fixture
def seat_count() -> int:
    return 100


@pytest.fixture
async def on_sale(runtime: Runtime, seat_count: int) -> OnSale:
    show_id, event_id = new_id(), new_id()
    seats = await make_inventory(runtime, show_id, event_id, seat_count)
    return OnSale(sale_info(show_id, event_id, now=runtime.clock.now()), seats)


@pytest.fixture(autouse=True)
async def seating_started(runtime: Runtime) -> AsyncIterator[None]:
    """Seating's adapters on the runtime (the app attaches them when seating is registered)."""
    if runtime.adapters.find(adapters.Seating) is not None:
        yield
        return
    seating = runtime.adapters.put(adapters.build(runtime))
    yield
    await seating.snapshots.close()
    await seating.board.close()
