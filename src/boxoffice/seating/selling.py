"""What happens to a hold after it is made, applied to the database: viewed, attached to
an order, sold, released, expired; and sold seats given back when an order is cancelled.

The common case of each change is one conditional statement whose ``WHERE`` is the rule
of :mod:`boxoffice.seating.lifecycle`; only when it matches nothing is the hold read
(locked) and the rule asked why. No commits here except in the sweeper, which owns its
transactions.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import Row

from boxoffice.catalog.contracts import ShowSaleInfo
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.uow import UnitOfWork
from boxoffice.seating import claims, lifecycle, revival
from boxoffice.seating.adapters import seating_of
from boxoffice.seating.contracts import HeldSeat, HeldSeats
from boxoffice.seating.errors import HoldLapsed
from boxoffice.seating.events import HoldExpired, HoldReleased
from boxoffice.seating.holds import board_release, board_sold
from boxoffice.seating.lifecycle import HoldStatus

log = structlog.get_logger("boxoffice.seating")


async def held_seats(
    uow: UnitOfWork, row: Row[Any], prices: dict[str, int] | None = None
) -> HeldSeats:
    """The hold as orders and its buyer see it (``status`` is ``expired`` once past expiry).

    Its seats as the hold kept them; a hold made before holds kept them reads its seats
    and prices them at ``prices`` (the show's grade prices now)."""
    if row.seats is not None:
        seats = lifecycle.decode_seats(row.seats)
    else:
        seat_ids = claims.hold_seat_ids(row)
        places = await claims.seat_places(uow, row.show_id, seat_ids)
        seats = tuple(
            HeldSeat(s, *places[s], price=(prices or {}).get(places[s][3], 0))
            for s in seat_ids
            if s in places
        )
    return HeldSeats(
        hold_id=row.id,
        show_id=row.show_id,
        user_id=row.user_id,
        status=claims.hold_state(row).visible_status(uow.clock.now()).value,
        expires_at=row.expires_at,
        currency=row.currency,
        seats=seats,
    )


async def attach_order(uow: UnitOfWork, hold_id: str, *, order_id: str, user_id: str) -> Row[Any]:
    """Give the user's active hold to ``order_id`` (no commit; idempotent for that order).
    Raises what ``lifecycle.attach`` raises."""
    now = uow.clock.now()
    conn = await uow.connection()
    given = {"key_id": hold_id, "set_order_id": order_id}
    row = await claims.ATTACH(conn, **given, buyer=user_id, now=now)
    if row is not None:
        return row
    found = await claims.read_hold(uow, hold_id, lock=True)
    state = claims.hold_state(found) if found is not None else None
    if not lifecycle.attach(hold_id, state, user_id=user_id, order_id=order_id, now=now):
        assert found is not None
        return found  # attached to this order already
    row = await claims.ATTACH_ANYWAY(conn, **given)  # attachable after all (raced)
    assert row is not None
    return row


async def sell(
    uow: UnitOfWork, runtime: Runtime, hold_id: str, *, order_id: str, info: ShowSaleInfo
) -> Row[Any]:
    """Every seat of the hold becomes sold to ``order_id`` (no commit; idempotent).

    A lapsed hold whose seats nobody took is revived when a new hold of them would be
    allowed now (``revival``: the buyer's limit, the types' caps, the code's uses). Raises
    ``HoldLapsed`` when a seat was taken since, ``PurchaseLimitExceeded``,
    ``TicketTypeSoldOut``, ``CodeExhausted``, and what ``lifecycle.sell`` raises; the
    caller's transaction must then roll back."""
    now = uow.clock.now()
    conn = await uow.connection()
    sold: dict[str, Any] = {"key_id": hold_id, "set_status": HoldStatus.SOLD.value}
    sold |= {"set_order_id": order_id, "set_ended_at": now, "set_end_reason": "sold"}
    row = await claims.SELL_AT_ONCE(conn, **sold, for_order=order_id, now=now)
    if row is None:
        found = await claims.read_hold(uow, hold_id, lock=True)
        state = claims.hold_state(found) if found is not None else None
        if not lifecycle.sell(hold_id, state, order_id=order_id):
            assert found is not None
            return found  # sold to this order already
        assert state is not None
        assert found is not None
        if lifecycle.lapsed(state, now):
            await revival.check(uow, runtime, found, info, now)
        row = await claims.SELL_ANYWAY(conn, **sold)
        assert row is not None
    seat_ids = claims.hold_seat_ids(row)
    changed = await claims.sell_seats(
        uow,
        show_id=row.show_id,
        seat_ids=seat_ids,
        hold_id=row.id,
        user_id=row.user_id,
        order_id=order_id,
        now=now,
    )
    if changed != len(seat_ids):
        raise HoldLapsed("Some seats of this hold were taken after it expired.")
    uow.on_commit(board_sold(seating_of(runtime), row.show_id, seat_ids, row.id))
    return row


async def release(
    uow: UnitOfWork, runtime: Runtime, row: Row[Any], *, reason: str, now: datetime
) -> bool:
    """End an active hold and free its seats (no commit); False if it was not active."""
    if not lifecycle.releasable(claims.hold_state(row)):
        return False
    if not await claims.end_hold(uow, row.id, status=HoldStatus.RELEASED, reason=reason, now=now):
        return False
    seat_ids = claims.hold_seat_ids(row)
    await claims.free_held_seats(uow, row.id)
    uow.record(
        HoldReleased(
            hold_id=row.id,
            show_id=row.show_id,
            user_id=row.user_id,
            seat_ids=seat_ids,
            reason=reason,
        )
    )
    uow.on_commit(board_release(seating_of(runtime), row.show_id, seat_ids, row.id, row.user_id))
    return True


async def release_sold_seats(
    uow: UnitOfWork, runtime: Runtime, *, show_id: str, seat_ids: list[str], order_id: str
) -> None:
    """Give back the seats sold to ``order_id`` (no commit)."""
    owners = await claims.sold_to(uow, show_id, seat_ids, order_id)
    by_hold: dict[str, list[str]] = {}
    for seat_id, hold_id in owners:
        by_hold.setdefault(hold_id or "", []).append(seat_id)
    if not await claims.unsell_seats(uow, show_id=show_id, seat_ids=seat_ids, order_id=order_id):
        return
    adapters = seating_of(runtime)
    for owner, seats in by_hold.items():
        uow.on_commit(board_release(adapters, show_id, seats, owner, None))


async def expire_one(uow: UnitOfWork, runtime: Runtime, hold_id: str) -> bool:
    """Expire one hold for good if it is still active and past its expiry (no commit)."""
    row = await claims.read_hold(uow, hold_id)
    now = uow.clock.now()
    if row is None or not lifecycle.expirable(claims.hold_state(row), now):
        return False
    if not await claims.end_hold(uow, row.id, status=HoldStatus.EXPIRED, reason="expired", now=now):
        return False
    seat_ids = claims.hold_seat_ids(row)
    await claims.free_held_seats(uow, row.id)
    uow.record(
        HoldExpired(hold_id=row.id, show_id=row.show_id, user_id=row.user_id, seat_ids=seat_ids)
    )
    uow.on_commit(board_release(seating_of(runtime), row.show_id, seat_ids, row.id, row.user_id))
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
