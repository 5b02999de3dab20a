"""A show's attendees as its seller sees them: the list (search, filters, keyset pages),
the CSV export streamed page by page, and how many came through the door.

Every entry checks first that the caller is the show's seller (or an admin), through
catalog's ``owned_show``: the same check for the API and the console's pages.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, case, func, select

from boxoffice.catalog import service as catalog
from boxoffice.identity import service as identity
from boxoffice.platform import csvsafe, listing
from boxoffice.platform.errors import NotFound
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Principal, Role
from boxoffice.platform.uow import UnitOfWork
from boxoffice.tickets.models import Ticket
from boxoffice.tickets.schemas import AttendeeRead, SeatRead

EXPORT_PAGE = 500  # rows per read while exporting: the memory a stream holds at once
CSV_COLUMNS = (
    "ticket_id",
    "status",
    "holder_email",
    "holder_name",
    "section",
    "row",
    "number",
    "grade",
    "price",
    "currency",
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


async def _filters(
    uow: UnitOfWork, show_id: str, status: str | None, q: str | None
) -> Select[Any] | None:
    return await listing.sellers_search(
        select(Ticket).where(Ticket.show_id == show_id),
        status=(Ticket.status, status),
        person=Ticket.user_id,
        order=Ticket.order_id,
        q=q,
        person_by_email=lambda email: identity.user_id_by_email(uow, email),
    )


async def _page(
    uow: UnitOfWork, query: Select[Any], cursor: str | None, limit: int
) -> tuple[list[AttendeeRead], str | None]:
    rows, next_cursor = await listing.keyset_page(
        uow, query, Ticket.id, cursor, limit, newest_first=False
    )
    holders = await identity.people(uow, (ticket.user_id for ticket in rows))
    page = []
    for ticket in rows:
        person = holders.get(ticket.user_id)
        page.append(
            AttendeeRead(
                ticket_id=ticket.id,
                order_id=ticket.order_id,
                status=ticket.status,
                holder_id=ticket.user_id,
                holder_email=person.email if person else None,
                holder_name=person.name if person else None,
                seat=SeatRead.of_ticket(ticket),
                price=ticket.price,
                currency=ticket.currency,
                issued_at=ticket.issued_at,
                checked_in_at=ticket.checked_in_at,
            )
        )
    return page, next_cursor


async def show_attendees(
    uow: UnitOfWork,
    principal: Principal,
    show_id: str,
    *,
    status: str | None,
    q: str | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[AttendeeRead], str | None, DoorCount]:
    """The show's tickets in issue order with their holders, and the door count; ``q`` is
    a holder's e-mail (exact) or an order id. Raises ``ShowNotFound``, ``NotEventOwner``."""
    await catalog.owned_show(uow, principal, show_id)
    count = await door_count(uow, show_id)
    query = await _filters(uow, show_id, status, q)
    if query is None:
        return [], None, count
    page, next_cursor = await _page(uow, query, cursor, limit)
    return page, next_cursor, count


async def export_attendees(
    runtime: Runtime, principal: Principal, show_id: str, *, status: str | None
) -> AsyncIterator[str]:
    """The show's attendees as CSV, checked for ownership before the first byte; then read
    ``EXPORT_PAGE`` tickets at a time, each page in a short read-only unit of work, so a
    70,000-seat show streams in bounded memory (tests/e2e/console/test_exports.py)."""
    async with runtime.uow(read_only=True) as uow:
        await catalog.owned_show(uow, principal, show_id)
    return _attendee_rows(runtime, show_id, status)


async def _attendee_rows(runtime: Runtime, show_id: str, status: str | None) -> AsyncIterator[str]:
    out = io.StringIO()
    csvsafe.writer(out).writerow(CSV_COLUMNS)
    yield "\ufeff" + out.getvalue()  # the BOM: spreadsheet apps read UTF-8 names
    cursor: str | None = None
    while True:
        async with runtime.uow(read_only=True) as uow:
            query = await _filters(uow, show_id, status, None)
            assert query is not None
            page, cursor = await _page(uow, query, cursor, EXPORT_PAGE)
        chunk = io.StringIO()
        writer = csvsafe.writer(chunk)
        for a in page:
            checked = a.checked_in_at.isoformat() if a.checked_in_at else ""
            writer.writerow(
                [
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
                    checked,
                ]
            )
        yield chunk.getvalue()
        if cursor is None:
            return
