"""A show's attendees as its seller sees them: the list (search, filters, keyset pages),
the CSV export streamed page by page, and how many came through the door.

Every entry checks first that the caller is the show's seller (or an admin), through
catalog's ``owned_show``: the same check for the API and the console's pages.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select

from boxoffice.catalog import service as catalog
from boxoffice.identity import service as identity
from boxoffice.platform import listing
from boxoffice.platform.db import record_of
from boxoffice.platform.errors import NotFound
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Principal, Role
from boxoffice.platform.uow import UnitOfWork
from boxoffice.tickets.models import SEAT_COLUMNS, Ticket
from boxoffice.tickets.schemas import AttendeeRead, SeatRead

CSV_COLUMNS = (
    "ticket_id",
    "status",
    "holder_email",
    "holder_name",
    *SEAT_COLUMNS,
    "order_id",
    "checked_in_at",
)


@dataclass(frozen=True)
class DoorCount:
    live: int  # valid or used
    checked_in: int


async def door_count(uow: UnitOfWork, show_id: str) -> DoorCount:
    """Tickets of the show that can come in, and those already in (one aggregate query)."""
    row = (
        await uow.session.execute(
            select(
                func.sum(case((Ticket.status != "void", 1), else_=0)),
                func.sum(case((Ticket.status == "used", 1), else_=0)),
            ).where(Ticket.show_id == show_id)
        )
    ).one()
    return DoorCount(int(row[0] or 0), int(row[1] or 0))


async def door_summary(uow: UnitOfWork, principal: Principal, show_id: str) -> DoorCount:
    """The door count for whoever may scan the show's tickets: staff and admins, or its
    event's seller (as ``POST /checkin``). Raises ``ShowNotFound`` / ``NotEventOwner``."""
    if principal.has_role(Role.STAFF, Role.ADMIN):
        if await catalog.show_sale_info(uow, show_id) is None:
            raise NotFound("Show not found.")
    else:
        await catalog.owned_show(uow, principal, show_id)
    return await door_count(uow, show_id)


def _read(ticket: Ticket, person: identity.Person | None) -> AttendeeRead:
    return record_of(
        AttendeeRead,
        ticket,
        ticket_id=ticket.id,
        holder_id=ticket.user_id,
        holder_email=person.email if person else None,
        holder_name=person.name if person else None,
        seat=SeatRead.of_ticket(ticket),
    )


def _cells(a: AttendeeRead) -> list[Any]:
    return [
        a.ticket_id,
        a.status,
        a.holder_email or "",
        a.holder_name or "",
        a.seat.section,
        a.seat.row,
        a.seat.number,
        a.seat.grade,
        a.price,
        a.currency,
        a.order_id,
        a.checked_in_at.isoformat() if a.checked_in_at else "",
    ]


_ATTENDEES = listing.ShowRows(
    model=Ticket,
    order=Ticket.order_id,
    newest_first=False,
    directory=identity,
    read=_read,
    authorise=catalog.owned_show,
    csv_columns=CSV_COLUMNS,
    csv_cells=_cells,
)


async def show_attendees(
    uow: UnitOfWork, principal: Principal, show_id: str, query: listing.SellersQuery
) -> tuple[list[AttendeeRead], str | None, DoorCount]:
    """The show's tickets in issue order with their holders, and the door count;
    ``query.q`` is a holder's e-mail (exact) or an order id. Raises ``ShowNotFound``,
    ``NotEventOwner``."""
    page, next_cursor = await _ATTENDEES.page(uow, principal, show_id, query)
    count = await door_count(uow, show_id)
    return page, next_cursor, count


async def export_attendees(
    runtime: Runtime, principal: Principal, show_id: str, *, status: str | None
) -> AsyncIterator[str]:
    """Every one of the show's tickets with their holders as CSV (UTF-8 with a BOM),
    streamed page by page (:meth:`listing.ShowRows.export`). Raises ``ShowNotFound`` and
    ``NotEventOwner`` (catalog's) before the first byte."""
    return await _ATTENDEES.export(runtime, principal, show_id, status)
