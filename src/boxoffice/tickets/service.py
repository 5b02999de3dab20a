"""tickets' use cases: the only module other contexts may call.

Orders issues and voids tickets inside its own transaction (no commit here); holders read
theirs; staff and the event's seller check them in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from boxoffice.platform.db import table_of
from boxoffice.platform.errors import Conflict
from boxoffice.platform.ids import new_id
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Principal, Role
from boxoffice.platform.uow import UnitOfWork
from boxoffice.tickets import attendees, codes
from boxoffice.tickets.contracts import TicketIssue, TicketSeat
from boxoffice.tickets.errors import (
    AlreadyCheckedIn,
    InvalidTicketCode,
    NotYourEvent,
    TicketNotFound,
    TicketVoid,
)
from boxoffice.tickets.events import TicketCheckedIn, TicketsIssued
from boxoffice.tickets.models import Ticket

VALID, USED, VOID = "valid", "used", "void"
show_attendees = attendees.show_attendees
export_attendees = attendees.export_attendees
door_count = attendees.door_count
door_summary = attendees.door_summary
DoorCount = attendees.DoorCount
INSERT_TICKETS = insert(table_of(Ticket))


@dataclass(frozen=True)
class CodeKey:
    """The key ticket codes are signed with, derived once per process from the secret."""

    key: bytes


def code_key(runtime: Runtime) -> bytes:
    secret = runtime.settings.secret_key.get_secret_value()
    return runtime.adapters.ensure(CodeKey, lambda: CodeKey(codes.derive_key(secret))).key


async def issue_tickets(
    uow: UnitOfWork, runtime: Runtime, issue: TicketIssue, seats: Sequence[TicketSeat]
) -> list[str]:
    """One valid ticket per seat, each with its signed code; records ``TicketsIssued``. No commit.

    The database refuses a second live ticket for a seat of a show (``Conflict``).
    """
    now = uow.clock.now()
    key = code_key(runtime)
    rows = []
    for seat in seats:
        ticket_id = new_id()
        rows.append(
            {
                "id": ticket_id,
                "order_id": issue.order_id,
                "user_id": issue.user_id,
                "show_id": issue.show_id,
                "event_id": issue.event_id,
                "seller_id": issue.seller_id,
                "title": issue.title[:200],
                "starts_at": issue.starts_at,
                "seat_id": seat.seat_id,
                "active_seat": seat.seat_id,
                "section": seat.section,
                "row": seat.row,
                "number": seat.number,
                "grade": seat.grade,
                "price": seat.price,
                "currency": issue.currency,
                "status": VALID,
                "code": codes.issue_code(key, ticket_id),
                "issued_at": now,
                "checked_in_at": None,
                "checked_in_by": None,
                "voided_at": None,
            }
        )
    if rows:  # one multi-row INSERT, whatever the number of seats
        try:
            await (await uow.connection()).execute(INSERT_TICKETS, rows)
        except IntegrityError as exc:
            raise Conflict("A seat of this order already has a valid ticket.") from exc
    ids = [str(row["id"]) for row in rows]
    if ids:
        uow.record(TicketsIssued(order_id=issue.order_id, user_id=issue.user_id, ticket_ids=ids))
    return ids


async def void_order_tickets(uow: UnitOfWork, *, order_id: str) -> list[str]:
    """Void the order's live tickets (refund); returns their seat ids. No commit."""
    rows = (
        await uow.session.execute(
            select(Ticket).where(Ticket.order_id == order_id, Ticket.status != VOID)
        )
    ).scalars()
    now = uow.clock.now()
    seat_ids = []
    for ticket in rows:
        ticket.status = VOID
        ticket.active_seat = None
        ticket.voided_at = now
        seat_ids.append(ticket.seat_id)
    await uow.session.flush()
    return seat_ids


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
    if cursor:
        query = query.where(Ticket.id < cursor)
    rows = list(
        (await uow.session.execute(query.order_by(Ticket.id.desc()).limit(limit + 1))).scalars()
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, rows[-1].id if more and rows else None


async def get_ticket(uow: UnitOfWork, user: Principal, ticket_id: str) -> Ticket:
    """The holder's ticket; anyone else (admins aside) gets ``TicketNotFound``."""
    ticket = await uow.session.get(Ticket, ticket_id)
    if ticket is None or (ticket.user_id != user.id and not user.has_role(Role.ADMIN)):
        raise TicketNotFound()
    return ticket


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


async def check_in(uow: UnitOfWork, runtime: Runtime, user: Principal, code: str) -> Ticket:
    """First scan of a genuine, live code marks the ticket used. Commits.

    Raises ``InvalidTicketCode`` (forged or altered), ``TicketVoid``, ``NotYourEvent``
    (a seller of another event) and ``AlreadyCheckedIn`` with the first scan's time. Two
    gates scanning at once: the conditional UPDATE lets exactly one of them win.
    """
    ticket_id = codes.verify_code(code_key(runtime), code)
    ticket = await uow.session.get(Ticket, ticket_id) if ticket_id else None
    if ticket is None:
        raise InvalidTicketCode("The code was not issued by this box office.")
    if not (user.has_role(Role.STAFF, Role.ADMIN) or ticket.seller_id == user.id):
        raise NotYourEvent("Only staff or this event's seller can check its tickets in.")
    now = uow.clock.now()
    result = await uow.session.execute(
        update(Ticket)
        .where(Ticket.id == ticket.id, Ticket.status == VALID)
        .values(status=USED, checked_in_at=now, checked_in_by=user.id)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        await uow.session.refresh(ticket)
        if ticket.status == VOID:
            raise TicketVoid("This ticket was voided (its order was cancelled or refunded).")
        checked = ticket.checked_in_at
        raise AlreadyCheckedIn(
            "This ticket was already checked in.",
            ticket_id=ticket.id,
            checked_in_at=checked.isoformat() if checked else None,
        )
    uow.record(TicketCheckedIn(ticket_id=ticket.id, show_id=ticket.show_id, checked_in_at=now))
    await uow.commit()
    await uow.session.refresh(ticket)
    return ticket
