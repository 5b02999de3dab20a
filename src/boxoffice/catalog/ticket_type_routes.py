"""Ticket types over HTTP (``docs/selling.md``): the seller adds and changes them, anyone
lists the ones on offer."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status

from boxoffice.catalog import service
from boxoffice.catalog.ticket_type_schemas import TicketTypeCreate, TicketTypeRead, TicketTypeUpdate
from boxoffice.platform.deps import OptionalUser, ReadUoW, SellerUser, UoW
from boxoffice.platform.openapi import owner_problems, problems

router = APIRouter(tags=["catalog"])

_OWNER = owner_problems("event", "ticket type") | problems(
    {409: "the event is cancelled", 422: "validation_error: unknown grade, reversed window"}
)


@router.post(
    "/events/{event_id}/ticket-types",
    status_code=status.HTTP_201_CREATED,
    response_model=TicketTypeRead,
    responses=_OWNER,
)
async def create_ticket_type(
    event_id: str, body: TicketTypeCreate, uow: UoW, seller: SellerUser
) -> Any:
    return await service.create_ticket_type(uow, seller, event_id, body)


@router.get(
    "/events/{event_id}/ticket-types",
    response_model=list[TicketTypeRead],
    responses=problems({404: "no such event"}),
)
async def list_ticket_types(event_id: str, uow: ReadUoW, user: OptionalUser) -> Any:
    return await service.event_ticket_types(uow, event_id, user)


@router.patch("/ticket-types/{ticket_type_id}", response_model=TicketTypeRead, responses=_OWNER)
async def update_ticket_type(
    ticket_type_id: str, body: TicketTypeUpdate, uow: UoW, seller: SellerUser
) -> Any:
    return await service.update_ticket_type(uow, seller, ticket_type_id, body)
