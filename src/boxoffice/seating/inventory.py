"""Creating a show's seat inventory: one bulk insert, chunked, inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, insert, select

from boxoffice.catalog.contracts import SeatSpec
from boxoffice.platform.uow import UnitOfWork
from boxoffice.seating.errors import InventoryExists, UnknownSeats
from boxoffice.seating.models import SEAT_ID_LENGTH, Seat, ShowInventory

# executemany batches; large enough to be fast, small enough for MySQL's packet limit.
CHUNK = 5000


def _rows(show_id: str, seats: Sequence[SeatSpec]) -> list[dict[str, Any]]:
    seen: set[str] = set()
    rows: list[dict[str, Any]] = []
    for position, spec in enumerate(seats):
        if spec.seat_id in seen:
            raise UnknownSeats(f"Seat {spec.seat_id!r} appears twice.", seat_ids=[spec.seat_id])
        if not spec.seat_id or len(spec.seat_id) > SEAT_ID_LENGTH:
            raise UnknownSeats(f"Seat ids must be 1 to {SEAT_ID_LENGTH} characters.")
        seen.add(spec.seat_id)
        rows.append(
            {
                "show_id": show_id,
                "seat_id": spec.seat_id,
                "position": position,
                "section": spec.section,
                "row": spec.row,
                "number": spec.number,
                "grade": spec.grade,
                "x": spec.x,
                "y": spec.y,
                "status": "available",
            }
        )
    return rows


async def create(uow: UnitOfWork, *, show_id: str, event_id: str, seats: Sequence[SeatSpec]) -> int:
    session = uow.session
    exists = await session.scalar(
        select(ShowInventory.show_id).where(ShowInventory.show_id == show_id)
    )
    if exists is not None:
        raise InventoryExists(f"Show {show_id} already has a seat inventory.")
    rows = _rows(show_id, seats)
    session.add(
        ShowInventory(
            show_id=show_id, event_id=event_id, seat_count=len(rows), created_at=uow.clock.now()
        )
    )
    await session.flush()
    table = Seat.__table__
    assert isinstance(table, Table)
    for start in range(0, len(rows), CHUNK):
        await session.execute(insert(table), rows[start : start + CHUNK])
    return len(rows)
