"""tickets' HTTP routes: parse, call one service function, shape the response."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response

from boxoffice.platform.deps import (
    CurrentUser,
    Page,
    ReadUoW,
    RuntimeDep,
    StaffUser,
    UoW,
)
from boxoffice.platform.openapi import problems
from boxoffice.tickets import service
from boxoffice.tickets.schemas import (
    CheckIn,
    CheckInRead,
    SeatRead,
    TicketPage,
    TicketRead,
    TransferAnswer,
    TransferCreate,
    TransferList,
    TransferListed,
    TransferRead,
)

router = APIRouter(tags=["tickets"])

_ERRORS = problems(401, {404: "no such ticket for this user"})


@router.get("/users/me/tickets", response_model=TicketPage)
async def list_my_tickets(uow: UoW, user: CurrentUser, page: Page) -> Any:
    tickets, next_cursor = await service.list_tickets(
        uow, user, cursor=page.cursor, limit=page.limit
    )
    return TicketPage(items=[TicketRead.of_ticket(t) for t in tickets], next_cursor=next_cursor)


@router.get("/tickets/{ticket_id}", response_model=TicketRead, responses=_ERRORS)
async def get_ticket(ticket_id: str, uow: ReadUoW, user: CurrentUser) -> Any:
    return TicketRead.of_ticket(await service.get_ticket(uow, user, ticket_id))


@router.get(
    "/tickets/{ticket_id}/qr",
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
    responses=problems(
        {
            403: "not staff, and not the seller of the show scanned for",
            404: "no such show",
            409: "already_checked_in, wrong_show",
            422: "validation_error, invalid_ticket_code or ticket_void",
        }
    ),
)
async def check_in(body: CheckIn, uow: UoW, runtime: RuntimeDep, user: StaffUser) -> Any:
    ticket = await service.check_in(uow, runtime, user, body.code, show_id=body.show_id)
    assert ticket.checked_in_at is not None
    return CheckInRead(
        ticket_id=ticket.id,
        show_id=ticket.show_id,
        seat=SeatRead.of_ticket(ticket),
        status=ticket.status,
        checked_in_at=ticket.checked_in_at,
    )


# --- transfers ------------------------------------------------------------------------------

_TRANSFER_ERRORS = problems(
    401,
    {
        404: "no such ticket or transfer for this user",
        409: "ticket_not_transferable, transfer_pending, transfers_not_allowed,"
        " transfer_closed, transfer_not_pending",
        422: "validation_error, transfer_to_self",
    },
)


@router.post(
    "/tickets/{ticket_id}/transfers",
    response_model=TransferRead,
    status_code=201,
    responses=_TRANSFER_ERRORS,
)
async def offer_ticket_transfer(
    ticket_id: str, body: TransferCreate, uow: UoW, runtime: RuntimeDep, user: CurrentUser
) -> Any:
    """Offer the ticket to another account by e-mail (e-mailed to them); the ticket stays
    the holder's until they accept. One pending transfer per ticket."""
    transfer = await service.offer_transfer(uow, runtime, user, ticket_id, body.to_email)
    return TransferRead.of_transfer(transfer, "sent")


@router.get("/users/me/transfers", response_model=TransferList, responses=problems(401))
async def list_my_transfers(uow: ReadUoW, user: CurrentUser) -> Any:
    """Transfers sent and received (to this account or its e-mail), newest first (100)."""
    rows = await service.my_transfers(uow, user)
    return TransferList(items=[TransferListed.of_listed(*row) for row in rows])


def _answer(answered: Any, direction: str) -> TransferAnswer:
    ticket = TicketRead.of_ticket(answered.ticket) if answered.ticket is not None else None
    return TransferAnswer(
        transfer=TransferRead.of_transfer(answered.transfer, direction), ticket=ticket
    )


@router.post(
    "/transfers/{transfer_id}/accept", response_model=TransferAnswer, responses=_TRANSFER_ERRORS
)
async def accept_ticket_transfer(
    transfer_id: str, uow: UoW, runtime: RuntimeDep, user: CurrentUser
) -> Any:
    """The receiver takes the ticket: a new ticket with a new code is theirs, the old code
    stops working."""
    return _answer(await service.accept_transfer(uow, runtime, user, transfer_id), "received")


@router.post(
    "/transfers/{transfer_id}/decline", response_model=TransferAnswer, responses=_TRANSFER_ERRORS
)
async def decline_ticket_transfer(transfer_id: str, uow: UoW, user: CurrentUser) -> Any:
    return _answer(await service.decline_transfer(uow, user, transfer_id), "received")


@router.post(
    "/transfers/{transfer_id}/cancel", response_model=TransferAnswer, responses=_TRANSFER_ERRORS
)
async def cancel_ticket_transfer(transfer_id: str, uow: UoW, user: CurrentUser) -> Any:
    """The holder takes a pending offer back."""
    return _answer(await service.cancel_transfer(uow, user, transfer_id), "sent")
