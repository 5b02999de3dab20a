"""Ticket types: several prices for one grade (adult, student, early bird), each with its
own window, an optional cap per show and an eligibility note (``docs/selling.md``).

Catalog keeps what a type is; seating prices a held seat from it and enforces the cap
(the database counts the seats of that type, under a lock row per show and type).
"""

from __future__ import annotations

from sqlalchemy import select

from boxoffice.catalog.contracts import TicketTypeInfo
from boxoffice.catalog.errors import (
    EventNotFound,
    EventStateConflict,
    InvalidEvent,
    NotEventOwner,
    TicketTypeNotFound,
)
from boxoffice.catalog.models import Event, EventGrade, Show, TicketType
from boxoffice.catalog.ticket_type_schemas import TicketTypeCreate, TicketTypeUpdate
from boxoffice.catalog.venues import require_approved_seller
from boxoffice.platform.db import record_of
from boxoffice.platform.ids import new_id
from boxoffice.platform.security import Principal
from boxoffice.platform.uow import UnitOfWork


def info_of(row: TicketType) -> TicketTypeInfo:
    return record_of(TicketTypeInfo, row)


async def _owned(uow: UnitOfWork, principal: Principal, event_id: str) -> Event:
    event = await uow.session.get(Event, event_id)
    if event is None:
        raise EventNotFound()
    if not principal.acts_for(event.seller_id):
        raise NotEventOwner("Only the event's seller or an admin may change it.")
    await require_approved_seller(uow, principal)
    if event.status == "cancelled":
        raise EventStateConflict("A cancelled event cannot be edited.")
    return event


def _check_window(row: TicketType) -> None:
    if row.available_from and row.available_until and row.available_from >= row.available_until:
        message = "available_from must be before available_until"
        raise InvalidEvent(message, errors=[{"loc": ["body", "available_until"], "msg": message}])


async def create(
    uow: UnitOfWork, principal: Principal, event_id: str, body: TicketTypeCreate
) -> TicketTypeInfo:
    """Add a type to one of the event's grades (its seller or an admin). Commits.
    Raises ``InvalidEvent`` (422) for a grade the event does not have or a reversed window."""
    event = await _owned(uow, principal, event_id)
    grades = set(
        await uow.session.scalars(select(EventGrade.code).where(EventGrade.event_id == event.id))
    )
    if body.grade not in grades:
        message = f"The event has no grade {body.grade!r}."
        raise InvalidEvent(message, errors=[{"loc": ["body", "grade"], "msg": message}])
    count = len(
        list(
            await uow.session.scalars(select(TicketType.id).where(TicketType.event_id == event.id))
        )
    )
    row = TicketType(
        id=new_id(),
        event_id=event.id,
        position=count,
        created_at=uow.clock.now(),
        active=True,
        **body.model_dump(),
    )
    _check_window(row)
    uow.session.add(row)
    await uow.commit()
    return info_of(row)


async def update(
    uow: UnitOfWork, principal: Principal, ticket_type_id: str, body: TicketTypeUpdate
) -> TicketTypeInfo:
    """Change a type (its event's seller or an admin). Commits. Seats already held or sold
    keep the price they were held at. ``active: false`` stops selling it."""
    row = await uow.session.get(TicketType, ticket_type_id, with_for_update=True)
    if row is None:
        raise TicketTypeNotFound(f"Ticket type {ticket_type_id} not found.")
    await _owned(uow, principal, row.event_id)
    for field, value in body.model_dump(exclude_unset=True).items():
        setattr(row, field, value)
    _check_window(row)
    await uow.commit()
    return info_of(row)


async def of_event(
    uow: UnitOfWork, event_id: str, principal: Principal | None = None
) -> list[TicketTypeInfo]:
    """The event's types; hidden and inactive ones only for its seller or an admin."""
    event = await uow.session.get(Event, event_id)
    if event is None or (event.status == "draft" and not _may_see_all(principal, event)):
        raise EventNotFound()
    rows = await uow.session.scalars(
        select(TicketType).where(TicketType.event_id == event_id).order_by(TicketType.position)
    )
    everything = _may_see_all(principal, event)
    return [info_of(r) for r in rows if everything or (r.active and not r.hidden)]


def _may_see_all(principal: Principal | None, event: Event) -> bool:
    return principal is not None and principal.acts_for(event.seller_id)


async def for_show(uow: UnitOfWork, show_id: str, type_ids: list[str]) -> dict[str, TicketTypeInfo]:
    """The named types of the show's event (unknown ids and other events' types left
    out), for pricing a hold. One indexed query."""
    rows = await uow.session.scalars(
        select(TicketType)
        .join(Show, Show.event_id == TicketType.event_id)
        .where(Show.id == show_id, TicketType.id.in_(type_ids))
    )
    return {row.id: info_of(row) for row in rows}
