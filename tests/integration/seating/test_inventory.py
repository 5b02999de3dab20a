"""A show's seat inventory is created in bulk inside the caller's transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from boxoffice.catalog.contracts import SeatSpec
from boxoffice.platform.ids import new_id
from boxoffice.platform.runtime import Runtime
from boxoffice.seating import service as seating
from boxoffice.seating.errors import InventoryExists, UnknownSeats
from tests.conftest import BACKENDS
from tests.support.seating import make_inventory, seat_specs, seat_status_counts


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_large_show_is_created_with_every_seat_available(runtime: Runtime) -> None:
    show_id = new_id()
    specs = await make_inventory(runtime, show_id, new_id(), 12_345)
    async with runtime.uow() as uow:
        assert await seat_status_counts(uow, show_id) == {"available": 12_345}
        last = (
            await uow.session.execute(
                text(
                    "SELECT seat_id, position, grade FROM seating_seats "
                    "WHERE show_id = :s ORDER BY position DESC LIMIT 1"
                ),
                {"s": show_id},
            )
        ).one()
    assert tuple(last) == (specs[-1].seat_id, 12_344, specs[-1].grade)


async def test_nothing_is_written_until_the_caller_commits(runtime: Runtime) -> None:
    show_id = new_id()
    async with runtime.uow() as uow:
        count = await seating.create_show_inventory(uow, show_id, new_id(), seat_specs(10))
        assert count == 10
    async with runtime.uow() as uow:
        assert await seat_status_counts(uow, show_id) == {}


async def test_a_show_gets_one_inventory_only(runtime: Runtime) -> None:
    show_id = new_id()
    await make_inventory(runtime, show_id, new_id(), 5)
    async with runtime.uow() as uow:
        with pytest.raises(InventoryExists):
            await seating.create_show_inventory(uow, show_id, new_id(), seat_specs(5))


async def test_a_duplicated_seat_id_is_refused(runtime: Runtime) -> None:
    seat = SeatSpec(seat_id="A-1", section="A", row="1", number="1", grade="R")
    async with runtime.uow() as uow:
        with pytest.raises(UnknownSeats):
            await seating.create_show_inventory(uow, new_id(), new_id(), [seat, seat])
