"""What a seller sees of their own catalog: every event of theirs in any state, and the
check that a show is theirs before its orders, attendees or figures are shown.

Read-only; nothing here commits. Admins see every seller's events and shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from boxoffice.catalog import reads
from boxoffice.catalog.errors import EventNotFound, NotEventOwner, ShowNotFound
from boxoffice.catalog.models import Event, Show
from boxoffice.catalog.schemas import EventRead, SellerEventQuery, SellerEventRead
from boxoffice.catalog.venues import require_approved_seller
from boxoffice.platform import listing, search
from boxoffice.platform.db import record_of
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Principal, Role
from boxoffice.platform.uow import UnitOfWork


@dataclass(frozen=True)
class OwnedShow:
    """A show its seller (or an admin) may look into."""

    show_id: str
    event_id: str
    seller_id: str
    title: str
    starts_at: datetime
    status: str
    event_status: str
    currency: str
    seat_count: int


async def seller_events(
    uow: UnitOfWork, principal: Principal, wanted: SellerEventQuery
) -> tuple[list[SellerEventRead], str | None]:
    """The caller's events (every seller's for an admin) in any state, newest first, whose
    title contains ``q``; ``cursor`` is the last id of the previous page."""
    shows = select(func.count(Show.id)).where(Show.event_id == Event.id).scalar_subquery()
    query = select(Event, shows.label("show_count"))
    if not principal.has_role(Role.ADMIN):
        query = query.where(Event.seller_id == principal.id)
    if wanted.q:
        query = query.where(search.contains(wanted.q, Event.title))
    if wanted.status:
        query = query.where(Event.status == wanted.status)
    rows, next_cursor = await listing.keyset_page(
        uow, query, Event.id, wanted.cursor, wanted.limit, newest_first=True, whole_rows=True
    )
    page = [record_of(SellerEventRead, event, show_count=show_count) for event, show_count in rows]
    return page, next_cursor


async def owned_show(uow: UnitOfWork, principal: Principal, show_id: str) -> OwnedShow:
    """The show, if the caller is its event's seller (still approved) or an admin.

    Raises ``ShowNotFound`` (404) and ``NotEventOwner`` (403), as the event's own routes do.
    """
    row = (
        await uow.session.execute(
            select(
                Show.id,
                Show.event_id,
                Event.seller_id,
                Event.title,
                Show.starts_at,
                Show.status,
                Event.status,
                Event.currency,
                Show.seat_count,
            )
            .join(Event, Event.id == Show.event_id)
            .where(Show.id == show_id)
        )
    ).first()
    if row is None:
        raise ShowNotFound()
    owned = OwnedShow(*row)
    if not principal.acts_for(owned.seller_id):
        raise NotEventOwner("Only the event's seller or an admin may see this show's sales.")
    await require_approved_seller(uow, principal)
    return owned


async def seller_event_view(runtime: Runtime, principal: Principal, event_id: str) -> EventRead:
    """The event as ``GET /events/{id}`` shows it (drafts too), for its seller or an admin,
    without counting a view. Raises ``EventNotFound`` and ``NotEventOwner``."""
    async with runtime.uow(read_only=True) as uow:
        seller_id = await uow.session.scalar(select(Event.seller_id).where(Event.id == event_id))
    if seller_id is None:
        raise EventNotFound()
    if not principal.acts_for(seller_id):
        raise NotEventOwner("Only the event's seller or an admin may manage it.")
    raw = await reads.event_detail(runtime, principal, event_id, count_view=False)
    return EventRead.model_validate_json(raw)
