"""Seating helpers for tests: seat specs for a made-up venue, and counting in the database."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text

from boxoffice.catalog.contracts import QueueSettings, SeatSpec, ShowSaleInfo
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.uow import UnitOfWork
from boxoffice.seating import service as seating
from boxoffice.seating.domain import HELD_MARK, SOLD_MARK, BoardView, Mark
from boxoffice.seating.models import Hold, Seat


def board_view(
    sold: Sequence[str] = (), held: dict[str, int] | None = None, *, version: int = 7
) -> BoardView:
    """A view of a show's board: ``sold`` seats, and ``held`` ones until their deadline."""
    marks = {seat: Mark(SOLD_MARK, "order", 0) for seat in sold}
    marks.update({seat: Mark(HELD_MARK, "hold", until) for seat, until in (held or {}).items()})
    return BoardView.build(version, marks)


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
        await seating.create_show_inventory(uow, show_id, event_id, specs)
        await uow.commit()
    return specs


async def seat_status_counts(uow: UnitOfWork, show_id: str) -> dict[str, int]:
    rows = await uow.session.execute(
        text("SELECT status, count(*) FROM seating_seats WHERE show_id = :s GROUP BY status"),
        {"s": show_id},
    )
    return {status: int(n) for status, n in rows}


def sale_info(
    show_id: str,
    event_id: str,
    *,
    now: datetime | None = None,
    limit: int = 4,
    hold_minutes: int = 7,
    queue: bool = False,
    prices: dict[str, int] | None = None,
) -> ShowSaleInfo:
    """A show on sale now, as catalog would describe it (for tests below the HTTP layer)."""
    moment = now or datetime.now(UTC)
    return ShowSaleInfo(
        show_id=show_id,
        event_id=event_id,
        seller_id="seller",
        title="Test Show",
        event_status="published",
        show_status="scheduled",
        starts_at=moment + timedelta(days=30),
        sale_opens_at=moment - timedelta(hours=1),
        sale_closes_at=moment + timedelta(days=29),
        max_tickets_per_user=limit,
        hold_minutes=hold_minutes,
        currency="KRW",
        grade_prices=prices if prices is not None else {"VIP": 165000, "R": 132000, "S": 99000},
        queue=QueueSettings(enabled=queue),
    )


async def active_holds(uow: UnitOfWork, show_id: str, now: datetime) -> list[tuple[str, list[str]]]:
    """(hold id, seat ids) of every hold of the show still active and not expired."""
    rows = await uow.session.execute(
        select(Hold.id, Hold.seat_ids).where(
            Hold.show_id == show_id, Hold.status == "active", Hold.expires_at > now
        )
    )
    return [(hold_id, json.loads(seat_ids)) for hold_id, seat_ids in rows]


async def assert_no_double_hold(uow: UnitOfWork, show_id: str, now: datetime) -> int:
    """Counting in the database: no seat is in two live holds, every live hold's seats are
    held by it, and nothing else is held. Returns the number of held seats."""
    holds = await active_holds(uow, show_id, now)
    claimed = [seat for _, seats in holds for seat in seats]
    assert len(claimed) == len(set(claimed)), "a seat is in two live holds"
    rows = await uow.session.execute(
        select(Seat.seat_id, Seat.hold_id).where(
            Seat.show_id == show_id, Seat.status == "held", Seat.hold_expires_at > now
        )
    )
    owner = {seat_id: hold_id for seat_id, hold_id in rows}
    for hold_id, seats in holds:
        assert all(owner.get(seat) == hold_id for seat in seats), "a live hold lost a seat"
    assert set(owner) == set(claimed), "held seats without a live hold"
    return len(claimed)
