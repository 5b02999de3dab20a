"""What happens to a hold after it is made: viewed, attached to an order, sold, released,
expired; and sold seats given back when an order is cancelled. No commits here except in
the sweeper, which owns its transactions."""

from __future__ import annotations

from datetime import datetime

import structlog
from sqlalchemy import select, update

from boxoffice.catalog.contracts import ShowSaleInfo
from boxoffice.platform.errors import Conflict
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.uow import UnitOfWork
from boxoffice.seating import claims
from boxoffice.seating.adapters import seating_of
from boxoffice.seating.contracts import HeldSeat, HeldSeats
from boxoffice.seating.errors import HoldLapsed, HoldNotFound
from boxoffice.seating.events import HoldExpired as HoldExpiredEvent
from boxoffice.seating.holds import board_release, board_sold
from boxoffice.seating.models import Hold, Seat

log = structlog.get_logger("boxoffice.seating")


def visible_status(hold: Hold, now: datetime) -> str:
    """``active`` holds past their expiry are ``expired`` before any sweeper runs."""
    if hold.status == "active" and hold.expires_at <= now:
        return "expired"
    return hold.status


async def load_hold(uow: UnitOfWork, hold_id: str, *, lock: bool = False) -> Hold | None:
    statement = select(Hold).where(Hold.id == hold_id)
    if lock:
        statement = statement.with_for_update()
    hold: Hold | None = await uow.session.scalar(statement)
    return hold


async def view(
    uow: UnitOfWork, runtime: Runtime, hold: Hold, info: ShowSaleInfo | None
) -> HeldSeats:
    seat_ids = claims.hold_seat_ids(hold)
    rows = await uow.session.execute(
        select(Seat.seat_id, Seat.section, Seat.row, Seat.number, Seat.grade).where(
            Seat.show_id == hold.show_id, Seat.seat_id.in_(seat_ids)
        )
    )
    places = {row[0]: row for row in rows}
    prices = info.grade_prices if info is not None else {}
    seats = tuple(
        HeldSeat(s, *places[s][1:], price=prices.get(places[s][4], 0))
        for s in seat_ids
        if s in places
    )
    return HeldSeats(
        hold_id=hold.id,
        show_id=hold.show_id,
        user_id=hold.user_id,
        status=visible_status(hold, uow.clock.now()),
        expires_at=hold.expires_at,
        currency=hold.currency,
        seats=seats,
    )


async def attach_order(uow: UnitOfWork, hold_id: str, *, order_id: str, user_id: str) -> Hold:
    hold = await load_hold(uow, hold_id, lock=True)
    if hold is None or hold.user_id != user_id:
        raise HoldNotFound(f"Hold {hold_id} not found.")
    now = uow.clock.now()
    status = visible_status(hold, now)
    if status == "sold":
        if hold.order_id == order_id:
            return hold
        raise Conflict("This hold already became an order.")
    if status != "active":
        raise HoldLapsed(f"Hold {hold_id} is {status}; choose seats again.")
    if hold.order_id not in (None, order_id):
        raise Conflict("This hold is already attached to another order.")
    await uow.session.execute(
        update(Hold)
        .where(Hold.id == hold_id)
        .values(order_id=order_id)
        .execution_options(synchronize_session=False)
    )
    hold.order_id = order_id
    return hold


async def sell(uow: UnitOfWork, runtime: Runtime, hold_id: str, *, order_id: str) -> Hold:
    hold = await load_hold(uow, hold_id, lock=True)
    if hold is None:
        raise HoldNotFound(f"Hold {hold_id} not found.")
    seat_ids = claims.hold_seat_ids(hold)
    if hold.status == "sold":
        if hold.order_id == order_id:
            return hold
        raise Conflict("This hold was sold to another order.")
    if hold.order_id not in (None, order_id):
        raise Conflict("This hold is attached to another order.")
    if hold.status not in ("active", "expired"):
        raise HoldLapsed(f"Hold {hold_id} was {hold.status}; its seats are gone.")
    now = uow.clock.now()
    sold = await claims.sell_seats(
        uow,
        show_id=hold.show_id,
        seat_ids=seat_ids,
        hold_id=hold.id,
        user_id=hold.user_id,
        order_id=order_id,
        now=now,
    )
    if sold != len(seat_ids):
        raise HoldLapsed("Some seats of this hold were taken after it expired.")
    await uow.session.execute(
        update(Hold)
        .where(Hold.id == hold.id)
        .values(status="sold", order_id=order_id, ended_at=now, end_reason="sold")
        .execution_options(synchronize_session=False)
    )
    hold.status, hold.order_id = "sold", order_id
    uow.on_commit(board_sold(seating_of(runtime), hold.show_id, seat_ids, hold.id))
    return hold


async def release_sold_seats(
    uow: UnitOfWork, runtime: Runtime, *, show_id: str, seat_ids: list[str], order_id: str
) -> None:
    owners = await uow.session.execute(
        select(Seat.seat_id, Seat.hold_id).where(
            Seat.show_id == show_id,
            Seat.seat_id.in_(seat_ids),
            Seat.status == "sold",
            Seat.order_id == order_id,
        )
    )
    by_hold: dict[str, list[str]] = {}
    for seat_id, hold_id in owners:
        by_hold.setdefault(hold_id or "", []).append(seat_id)
    freed = await claims.unsell_seats(uow, show_id=show_id, seat_ids=seat_ids, order_id=order_id)
    if not freed:
        return
    adapters = seating_of(runtime)
    for owner, seats in by_hold.items():
        uow.on_commit(board_release(adapters, show_id, seats, owner, None))


async def expire_one(uow: UnitOfWork, runtime: Runtime, hold_id: str) -> bool:
    """Expire one hold for good if it is still active and past its expiry (no commit)."""
    hold = await load_hold(uow, hold_id)
    now = uow.clock.now()
    if hold is None or hold.status != "active" or hold.expires_at > now:
        return False
    if not await claims.end_hold(uow, hold.id, status="expired", reason="expired", now=now):
        return False
    seat_ids = claims.hold_seat_ids(hold)
    await claims.free_held_seats(uow, hold.id)
    uow.record(
        HoldExpiredEvent(
            hold_id=hold.id, show_id=hold.show_id, user_id=hold.user_id, seat_ids=seat_ids
        )
    )
    uow.on_commit(board_release(seating_of(runtime), hold.show_id, seat_ids, hold.id, hold.user_id))
    return True


async def sweep(runtime: Runtime, *, batch: int = 200) -> int:
    """Release every hold past its expiry; each in its own short transaction. Returns how
    many holds it expired."""
    async with runtime.uow() as uow:
        due = await claims.expired_hold_ids(uow, uow.clock.now(), batch)
    expired = 0
    for hold_id in due:
        async with runtime.uow() as uow:
            if await expire_one(uow, runtime, hold_id):
                await uow.commit()
                expired += 1
    if expired:
        log.info("holds_expired", count=expired)
    return expired
