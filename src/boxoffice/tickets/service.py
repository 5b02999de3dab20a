"""tickets' use cases: the only module other contexts may call.

Orders issues and voids tickets inside its own transaction (no commit here); holders read
theirs; staff and the event's seller check them in.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any, NoReturn

from sqlalchemy import case, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from boxoffice.catalog import service as catalog
from boxoffice.catalog.contracts import ShowNotFound
from boxoffice.platform import listing
from boxoffice.platform.db import table_of
from boxoffice.platform.errors import Conflict
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Principal, Role
from boxoffice.platform.uow import UnitOfWork
from boxoffice.tickets import attendees, codes, issuing, transfers
from boxoffice.tickets.codes import code_key
from boxoffice.tickets.contracts import TicketIssue, TicketSeat
from boxoffice.tickets.errors import (
    AlreadyCheckedIn,
    InvalidTicketCode,
    NotYourEvent,
    TicketNotFound,
    TicketVoid,
    WrongShow,
)
from boxoffice.tickets.events import TicketCheckedIn, TicketsIssued
from boxoffice.tickets.issuing import USED, VALID, VOID
from boxoffice.tickets.models import SEAT_COLUMNS, Ticket

show_attendees = attendees.show_attendees
export_attendees = attendees.export_attendees
door_count = attendees.door_count
door_summary = attendees.door_summary
DoorCount = attendees.DoorCount
offer_transfer = transfers.offer
accept_transfer = transfers.accept
decline_transfer = transfers.decline
cancel_transfer = transfers.cancel
my_transfers = transfers.mine
INSERT_TICKETS = insert(table_of(Ticket))


async def issue_tickets(
    uow: UnitOfWork, runtime: Runtime, issue: TicketIssue, seats: Sequence[TicketSeat]
) -> list[str]:
    """One valid ticket per seat, each with its signed code; records ``TicketsIssued``. No commit.

    The database refuses a second live ticket for a seat of a show (``Conflict``).
    """
    now, key = uow.clock.now(), code_key(runtime)
    rows = [issuing.new_ticket(key, issue, seat, now) for seat in seats]
    if rows:  # one multi-row INSERT, whatever the number of seats
        try:
            await (await uow.connection()).execute(INSERT_TICKETS, rows)
        except IntegrityError as exc:
            raise Conflict("A seat of this order already has a valid ticket.") from exc
    ids = [str(row["id"]) for row in rows]
    if ids:
        uow.record(TicketsIssued(order_id=issue.order_id, user_id=issue.user_id, ticket_ids=ids))
    return ids


async def void_order_tickets(
    uow: UnitOfWork, *, order_id: str, seat_ids: Collection[str] | None = None
) -> dict[str, list[str]]:
    """Void the order's live tickets — of ``seat_ids`` only, when given — for a refund;
    returns the voided tickets' ids by seat, for :func:`restore_tickets`. No commit."""
    query = select(Ticket).where(Ticket.order_id == order_id, Ticket.status != VOID)
    if seat_ids is not None:
        query = query.where(Ticket.seat_id.in_(list(seat_ids)))
    now = uow.clock.now()
    voided: dict[str, list[str]] = {}
    for ticket in (await uow.session.execute(query)).scalars():
        ticket.status = VOID
        ticket.active_seat = None
        ticket.voided_at = now
        voided.setdefault(ticket.seat_id, []).append(ticket.id)
    await uow.session.flush()
    return voided


async def restore_tickets(uow: UnitOfWork, ticket_ids: Collection[str]) -> int:
    """Undo :func:`void_order_tickets` for tickets whose refund was refused: each is live
    again as it was (used if it had been checked in). No commit. Their seats never left
    the order, so no other live ticket holds them; a ticket voided by a transfer is never
    among them (the refund voided only live ones)."""
    if not ticket_ids:
        return 0
    result = await uow.session.execute(
        update(Ticket)
        .where(Ticket.id.in_(list(ticket_ids)), Ticket.status == VOID)
        .values(
            status=case((Ticket.checked_in_at.is_(None), VALID), else_=USED),
            active_seat=Ticket.seat_id,
            voided_at=None,
        )
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def given_away_count(
    uow: UnitOfWork, order_id: str, buyer_id: str, *, seat_ids: Collection[str] | None = None
) -> int:
    """Live tickets of the order (of ``seat_ids``, when given) that were transferred to
    someone else: the buyer cannot refund what they gave away (an operator's refund still
    can, voiding them)."""
    query = (
        select(func.count())
        .select_from(Ticket)
        .where(Ticket.order_id == order_id, Ticket.user_id != buyer_id, Ticket.status != VOID)
    )
    if seat_ids is not None:
        query = query.where(Ticket.seat_id.in_(list(seat_ids)))
    return int(await uow.session.scalar(query) or 0)


async def export_of(uow: UnitOfWork, user: Principal) -> dict[str, Any]:
    """The user's tickets and transfers, as their data export shows them."""
    tickets = (
        await uow.session.execute(
            select(Ticket).where(Ticket.user_id == user.id).order_by(Ticket.id)
        )
    ).scalars()
    ticket_fields = [
        "id",
        "order_id",
        "show_id",
        "event_id",
        "title",
        "starts_at",
        *SEAT_COLUMNS,
        "status",
        "issued_at",
        "checked_in_at",
        "voided_at",
    ]
    transfer_fields = "id ticket_id show_id to_email status new_ticket_id created_at closed_at"
    return {
        "tickets": [{f: getattr(t, f) for f in ticket_fields} for t in tickets],
        "transfers": [
            {**{f: getattr(t, f) for f in transfer_fields.split()}, "direction": direction}
            for t, direction, _ticket in await transfers.mine(uow, user, limit=10_000)
        ],
    }


async def upcoming_tickets_guard(uow: UnitOfWork, user_id: str) -> str | None:
    """``upcoming_tickets`` when the user holds a valid ticket for a show to come."""
    held = await uow.session.scalar(
        select(Ticket.id)
        .where(
            Ticket.user_id == user_id, Ticket.status == VALID, Ticket.starts_at > uow.clock.now()
        )
        .limit(1)
    )
    return "upcoming_tickets" if held is not None else None


async def used_ticket_count(
    uow: UnitOfWork,
    order_id: str,
    *,
    lock: bool = True,
    seat_ids: Collection[str] | None = None,
) -> int:
    """How many of the order's tickets (of ``seat_ids``, when given) were checked in (the
    show was, at least partly, delivered: refund rules look at this). With ``lock`` the
    order's tickets stay locked until the caller's transaction ends, so a scan racing a
    refund's claim waits for it (and then finds the ticket void), or the claim waits for
    the scan (and finds it used)."""
    query = select(Ticket.status).where(Ticket.order_id == order_id)
    if seat_ids is not None:
        query = query.where(Ticket.seat_id.in_(list(seat_ids)))
    if lock:
        query = query.with_for_update()
    return sum(1 for status in await uow.session.scalars(query) if status == USED)


async def order_ticket_ids(uow: UnitOfWork, order_id: str) -> list[str]:
    rows = await uow.session.execute(
        select(Ticket.id).where(Ticket.order_id == order_id).order_by(Ticket.id)
    )
    return [row[0] for row in rows]


async def list_tickets(
    uow: UnitOfWork, user: Principal, *, cursor: str | None, limit: int
) -> tuple[list[Ticket], str | None]:
    """The user's tickets, newest first, ``limit`` at a time (``cursor`` is the last id seen)."""
    query = select(Ticket).where(Ticket.user_id == user.id)
    return await listing.keyset_page(uow, query, Ticket.id, cursor, limit, newest_first=True)


async def get_ticket(uow: UnitOfWork, user: Principal, ticket_id: str) -> Ticket:
    """The holder's ticket; anyone else (admins aside) gets ``TicketNotFound``."""
    return await uow.get_for(Ticket, ticket_id, user, TicketNotFound())


async def ticket_qr(
    uow: UnitOfWork, user: Principal, ticket_id: str, fmt: str
) -> tuple[bytes, str]:
    ticket = await get_ticket(uow, user, ticket_id)
    if fmt == "png":
        return codes.qr_png(ticket.code), "image/png"
    return codes.qr_svg(ticket.code), "image/svg+xml"


def qr_svg(ticket: Ticket) -> str:
    """The ticket's code as an SVG element to inline in a page (no XML declaration)."""
    return codes.qr_svg(ticket.code, xmldecl=False).decode()


async def check_in(
    uow: UnitOfWork, runtime: Runtime, user: Principal, code: str, *, show_id: str
) -> Ticket:
    """First scan of a genuine, live code of ``show_id`` (the show the door scans for)
    marks the ticket used. Commits.

    Raises ``InvalidTicketCode`` (forged or altered), ``ShowNotFound``, ``NotYourEvent``
    (neither staff nor the seller of ``show_id``), ``TicketVoid``, ``WrongShow`` (a ticket
    of another show: it stays valid) and ``AlreadyCheckedIn`` with the first scan's time.
    Two gates scanning at once: the conditional UPDATE lets exactly one of them win.
    """
    ticket_id = codes.verify_code(code_key(runtime), code)
    if ticket_id is None:
        raise InvalidTicketCode("The code was not issued by this box office.")
    door = await catalog.show_sale_info(uow, show_id, runtime=runtime)
    if door is None:
        raise ShowNotFound(f"Show {show_id} not found.")
    staff = user.has_role(Role.STAFF, Role.ADMIN)
    if not (staff or door.seller_id == user.id):
        raise NotYourEvent("Only staff or this show's seller can check its tickets in.")
    ticket = await uow.session.get(Ticket, ticket_id)
    if ticket is None:
        raise InvalidTicketCode("The code was not issued by this box office.")
    now = uow.clock.now()
    result = await uow.session.execute(
        update(Ticket)
        .where(Ticket.id == ticket.id, Ticket.status == VALID, Ticket.show_id == show_id)
        .values(status=USED, checked_in_at=now, checked_in_by=user.id)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        await uow.session.refresh(ticket)
        _refuse_scan(ticket, user, show_id, staff=staff)
    uow.record(
        TicketCheckedIn(
            ticket_id=ticket.id,
            show_id=ticket.show_id,
            checked_in_at=now,
            seller_id=ticket.seller_id,
        )
    )
    await uow.commit()
    await uow.session.refresh(ticket)
    return ticket


def _refuse_scan(ticket: Ticket, user: Principal, show_id: str, *, staff: bool) -> NoReturn:
    """Why the scan's conditional UPDATE matched nothing."""
    if ticket.status == VOID:
        raise TicketVoid("This ticket was voided (its order was cancelled or refunded).")
    if ticket.show_id != show_id:
        # Only someone who may scan the ticket's own show learns which show that is.
        mine = staff or ticket.seller_id == user.id
        raise WrongShow(
            "This ticket is for another show.",
            **({"ticket_show_id": ticket.show_id} if mine else {}),
        )
    checked = ticket.checked_in_at
    raise AlreadyCheckedIn(
        "This ticket was already checked in.",
        ticket_id=ticket.id,
        checked_in_at=checked.isoformat() if checked else None,
    )
