"""tickets' routes for a show's seller: its attendees and their CSV export."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response, StreamingResponse

from boxoffice.platform import csvsafe
from boxoffice.platform.deps import (
    PathId,
    ReadUoW,
    RuntimeDep,
    SellerUser,
    StaffUser,
)
from boxoffice.platform.openapi import owner_problems, problems
from boxoffice.platform.pages import page_answer
from boxoffice.tickets import service
from boxoffice.tickets.schemas import AttendeePage, AttendeeQuery, DoorCountRead

router = APIRouter(tags=["tickets"])

ShowId = PathId
_OWNER = owner_problems("show")


@router.get("/shows/{show_id}/attendees", response_model=AttendeePage, responses=_OWNER)
async def list_show_attendees(
    show_id: ShowId, uow: ReadUoW, seller: SellerUser, query: Annotated[AttendeeQuery, Query()]
) -> Any:
    """The show's tickets with their holders in issue order, keyset-paged (``cursor``), and
    the door count (``live``, ``checked_in``); ``q`` = a holder's e-mail or an order id."""
    items, next_cursor, count = await service.show_attendees(uow, seller, show_id, query)
    return page_answer((items, next_cursor), live=count.live, checked_in=count.checked_in)


@router.get(
    "/shows/{show_id}/attendees/export",
    response_class=StreamingResponse,
    responses={**_OWNER, **csvsafe.responses("CSV, streamed")},
)
async def export_show_attendees(
    show_id: ShowId,
    runtime: RuntimeDep,
    seller: SellerUser,
    ticket_status: Annotated[Literal["valid", "used", "void"] | None, Query(alias="status")] = None,
) -> Response:
    """Every ticket of the show with its holder as CSV (UTF-8 with a BOM), streamed."""
    rows = await service.export_attendees(runtime, seller, show_id, status=ticket_status)
    return csvsafe.download(rows, f"attendees-{show_id}.csv")


@router.get(
    "/shows/{show_id}/checkins",
    response_model=DoorCountRead,
    responses=problems(401, {403: "not staff, and not this event's seller", 404: "no such show"}),
)
async def get_show_door_count(show_id: ShowId, uow: ReadUoW, user: StaffUser) -> Any:
    """Tickets that can come in (valid or used) and those checked in, for the door."""
    count = await service.door_summary(uow, user, show_id)
    return DoorCountRead(show_id=show_id, live=count.live, checked_in=count.checked_in)
