"""Seating helpers for tests: seat specs for a made-up venue, and counting in the database."""

from __future__ import annotations

from sqlalchemy import text

from boxoffice.platform.runtime import Runtime
from boxoffice.platform.uow import UnitOfWork
from boxoffice.seating import service as seating
from boxoffice.seating.contracts import SeatSpec


def seat_specs(count: int, *, grades: tuple[str, ...] = ("VIP", "R", "S")) -> list[SeatSpec]:
    """``count`` seats in rows of 20, grades cycling by section of 100 seats."""
    specs = []
    for i in range(count):
        section = i // 100
        specs.append(
            SeatSpec(
                seat_id=f"seat-{i:06d}",
                section=f"S{section}",
                row=str((i % 100) // 20 + 1),
                number=str(i % 20 + 1),
                grade=grades[section % len(grades)],
            )
        )
    return specs


async def make_inventory(
    runtime: Runtime, show_id: str, event_id: str, count: int
) -> list[SeatSpec]:
    specs = seat_specs(count)
    async with runtime.uow() as uow:
        await seating.create_show_inventory(
            uow, runtime, show_id=show_id, event_id=event_id, seats=specs
        )
        await uow.commit()
    return specs


async def seat_status_counts(uow: UnitOfWork, show_id: str) -> dict[str, int]:
    rows = await uow.session.execute(
        text("SELECT status, count(*) FROM seating_seats WHERE show_id = :s GROUP BY status"),
        {"s": show_id},
    )
    return {status: int(n) for status, n in rows}
