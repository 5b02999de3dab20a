"""Box-office seats (``docs/selling.md``): the event's seller holds seats back from the
sale (house, press, accessibility partners) and releases them to it later.

A blocked seat has status ``blocked``: no claim matches it (claims take only available
seats or lapsed holds), the seat board shows it taken, and the waitlist never offers it.
Blocking is all or nothing, by one conditional UPDATE the database judges like a claim.
Complimentary seats (:func:`give_seats`, called by orders' comps) are taken the same way:
blocked or free seats become sold to the comp's order in one conditional UPDATE.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import and_, or_, select, update

from boxoffice.catalog import service as catalog
from boxoffice.platform.errors import Forbidden, NotFound
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Principal
from boxoffice.platform.uow import UnitOfWork
from boxoffice.seating.adapters import seating_of
from boxoffice.seating.contracts import HeldSeat
from boxoffice.seating.domain import AVAILABLE, BLOCKED, HELD, SOLD, SOLD_MARK, Mark
from boxoffice.seating.errors import SeatUnavailable
from boxoffice.seating.holds import board_release
from boxoffice.seating.models import Seat, ShowInventory
from boxoffice.seating.snapshot import BOX_OFFICE


async def _owned_show(uow: UnitOfWork, principal: Principal, show_id: str) -> None:
    event_id = await uow.session.scalar(
        select(ShowInventory.event_id).where(ShowInventory.show_id == show_id)
    )
    event = None if event_id is None else await catalog.event_summary(uow, event_id)
    if event is None:
        raise NotFound(f"Show {show_id} not found.")
    if not principal.acts_for(event.seller_id):
        raise Forbidden("Only the event's seller or an admin manages its box-office seats.")


async def block(
    runtime: Runtime, principal: Principal, show_id: str, seat_ids: Sequence[str], reason: str
) -> list[str]:
    """Hold the seats back from the sale, all or none. Commits. Raises ``SeatUnavailable``
    (409, ``seat_ids``) for seats held, sold or blocked now."""
    wanted = sorted(set(seat_ids))
    async with runtime.uow() as uow:
        await _owned_show(uow, principal, show_id)
        now = uow.clock.now()
        free = or_(Seat.status == AVAILABLE, and_(Seat.status == HELD, Seat.hold_expires_at <= now))
        mine = and_(Seat.show_id == show_id, Seat.seat_id.in_(wanted))
        result = await uow.session.execute(
            update(Seat)
            .where(mine, free)
            .values(
                status=BLOCKED,
                blocked_for=reason,
                hold_id=None,
                holder_id=None,
                hold_expires_at=None,
            )
            .execution_options(synchronize_session=False)
        )
        if int(result.rowcount) != len(wanted):  # type: ignore[attr-defined]
            await uow.rollback()
            taken = await uow.session.scalars(select(Seat.seat_id).where(mine, ~free))
            raise SeatUnavailable(
                "Some seats are not free to block.", seat_ids=sorted(taken) or wanted
            )
        adapters = seating_of(runtime)

        async def show_taken() -> None:
            adapters.snapshots.invalidate(show_id)
            await adapters.board.settle(show_id, wanted, Mark(SOLD_MARK, BOX_OFFICE, 0))

        uow.on_commit(show_taken)
        await uow.commit()
    return wanted


async def release(
    runtime: Runtime, principal: Principal, show_id: str, seat_ids: Sequence[str]
) -> list[str]:
    """Give blocked seats to the sale. Commits. Returns the seats released (seats not
    blocked are left alone)."""
    wanted = sorted(set(seat_ids))
    async with runtime.uow() as uow:
        await _owned_show(uow, principal, show_id)
        mine = and_(Seat.show_id == show_id, Seat.seat_id.in_(wanted), Seat.status == BLOCKED)
        released = sorted(await uow.session.scalars(select(Seat.seat_id).where(mine)))
        await uow.session.execute(
            update(Seat)
            .where(mine)
            .values(status=AVAILABLE, blocked_for=None)
            .execution_options(synchronize_session=False)
        )
        uow.on_commit(board_release(seating_of(runtime), show_id, released, BOX_OFFICE, None))
        await uow.commit()
    return released


async def blocked(runtime: Runtime, principal: Principal, show_id: str) -> list[dict[str, str]]:
    """The show's blocked seats and why, for its seller."""
    async with runtime.uow(read_only=True) as uow:
        await _owned_show(uow, principal, show_id)
        rows = await uow.session.execute(
            select(Seat.seat_id, Seat.blocked_for)
            .where(Seat.show_id == show_id, Seat.status == BLOCKED)
            .order_by(Seat.position)
        )
        return [{"seat_id": seat_id, "reason": reason or ""} for seat_id, reason in rows.all()]


async def give_seats(
    uow: UnitOfWork,
    runtime: Runtime,
    *,
    show_id: str,
    seat_ids: Sequence[str],
    order_id: str,
    recipient_id: str,
) -> list[HeldSeat]:
    """Seats become sold to a complimentary order, all or none. No commit.

    A seat may be blocked (the box office's) or free now (available, or a lapsed hold's);
    one conditional UPDATE, judged by the database like a claim, so a comp and a hold
    never both have a seat. The order's id stands as the seats' hold (the board's owner,
    released by the usual ``release_sold_seats``). Raises ``SeatUnavailable`` (409,
    ``seat_ids``) for seats held or sold now; the caller's transaction must roll back.
    """
    wanted = sorted(set(seat_ids))
    now = uow.clock.now()
    free = or_(
        Seat.status.in_((AVAILABLE, BLOCKED)),
        and_(Seat.status == HELD, Seat.hold_expires_at <= now),
    )
    mine = and_(Seat.show_id == show_id, Seat.seat_id.in_(wanted))
    statement = update(Seat).where(mine, free)
    if (await uow.connection()).dialect.name == "postgresql":
        # Lock the rows in seat order, as a hold's claim does (claims.py): two claims on
        # overlapping seats then queue instead of deadlocking.
        in_order = select(Seat.seat_id).where(mine, free).order_by(Seat.seat_id)
        statement = statement.where(Seat.seat_id.in_(in_order.with_for_update()))
    result = await uow.session.execute(
        statement.values(
            status=SOLD,
            blocked_for=None,
            hold_id=order_id,
            holder_id=recipient_id,
            hold_expires_at=None,
            order_id=order_id,
            ticket_type_id=None,
        ).execution_options(synchronize_session=False)
    )
    if int(result.rowcount) != len(wanted):  # type: ignore[attr-defined]
        taken = await uow.session.scalars(
            select(Seat.seat_id).where(mine, Seat.order_id.is_distinct_from(order_id))
        )
        raise SeatUnavailable("Some seats are not free to give.", seat_ids=sorted(taken) or wanted)
    rows = await uow.session.execute(
        select(Seat.seat_id, Seat.section, Seat.row, Seat.number, Seat.grade)
        .where(mine)
        .order_by(Seat.position)
    )
    adapters = seating_of(runtime)

    async def show_sold() -> None:
        adapters.snapshots.invalidate(show_id)
        await adapters.board.settle(show_id, wanted, Mark(SOLD_MARK, order_id, 0))

    uow.on_commit(show_sold)
    return [HeldSeat(*row, price=0) for row in rows.all()]
