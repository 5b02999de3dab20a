"""tickets' HTTP routes: parse, call one service function, shape the response."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response

from boxoffice.platform.deps import CurrentUser, ReadUoW, RuntimeDep, StaffUser, UoW
from boxoffice.tickets import service
from boxoffice.tickets.models import Ticket
from boxoffice.tickets.schemas import CheckIn, CheckInRead, SeatRead, TicketPage, TicketRead

router = APIRouter(tags=["tickets"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "not signed in"},
    404: {"description": "no such ticket for this user"},
}


def _seat(ticket: Ticket) -> SeatRead:
    return SeatRead(
        id=ticket.seat_id,
        section=ticket.section,
        row=ticket.row,
        number=ticket.number,
        grade=ticket.grade,
    )


def ticket_read(ticket: Ticket) -> TicketRead:
    return TicketRead(
        id=ticket.id,
        order_id=ticket.order_id,
        show_id=ticket.show_id,
        event_id=ticket.event_id,
        title=ticket.title,
        starts_at=ticket.starts_at,
        seat=_seat(ticket),
        price=ticket.price,
        currency=ticket.currency,
        status=ticket.status,
        code=ticket.code,
        issued_at=ticket.issued_at,
        checked_in_at=ticket.checked_in_at,
        voided_at=ticket.voided_at,
    )


@router.get("/users/me/tickets", response_model=TicketPage, operation_id="list_my_tickets")
async def list_my_tickets(
    uow: UoW,
    user: CurrentUser,
    cursor: str | None = Query(default=None, max_length=64),
    limit: int = Query(default=20, ge=1, le=100),
) -> Any:
    tickets, next_cursor = await service.list_tickets(uow, user, cursor=cursor, limit=limit)
    return TicketPage(items=[ticket_read(t) for t in tickets], next_cursor=next_cursor)


@router.get(
    "/tickets/{ticket_id}", response_model=TicketRead, operation_id="get_ticket", responses=_ERRORS
)
async def get_ticket(ticket_id: str, uow: ReadUoW, user: CurrentUser) -> Any:
    return ticket_read(await service.get_ticket(uow, user, ticket_id))


@router.get(
    "/tickets/{ticket_id}/qr",
    operation_id="get_ticket_qr",
    responses={
        **_ERRORS,
        200: {"content": {"image/svg+xml": {}, "image/png": {}}, "description": "the QR code"},
    },
)
async def get_ticket_qr(
    ticket_id: str,
    uow: UoW,
    user: CurrentUser,
    fmt: Annotated[Literal["svg", "png"], Query(alias="format")] = "svg",
) -> Response:
    body, media_type = await service.ticket_qr(uow, user, ticket_id, fmt)
    return Response(body, media_type=media_type, headers={"Cache-Control": "private, no-store"})


@router.post(
    "/checkin",
    response_model=CheckInRead,
    operation_id="check_in",
    responses={
        403: {"description": "not staff, and not the seller of the show scanned for"},
        404: {"description": "no such show"},
        409: {"description": "already_checked_in, wrong_show"},
        422: {"description": "validation_error, invalid_ticket_code or ticket_void"},
    },
)
async def check_in(body: CheckIn, uow: UoW, runtime: RuntimeDep, user: StaffUser) -> Any:
    ticket = await service.check_in(uow, runtime, user, body.code, show_id=body.show_id)
    assert ticket.checked_in_at is not None
    return CheckInRead(
        ticket_id=ticket.id,
        show_id=ticket.show_id,
        seat=_seat(ticket),
        status=ticket.status,
        checked_in_at=ticket.checked_in_at,
    )
