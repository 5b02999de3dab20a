"""catalog's use cases: the only module other contexts may call.

Each public function that changes state commits once, through the unit of work it is
given, and invalidates the cached reads it affects after the commit. ``show_sale_info``
(from ``sale_info``) and ``event_summary`` are read-only and never commit.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert, select

from boxoffice.catalog import domain, reads, show_changes, ticket_types, view_flush
from boxoffice.catalog.categories import (
    create_category,
    ensure_default_categories,
    list_categories,
    update_category,
)
from boxoffice.catalog.contracts import EventSummary, ShowInventory, TicketTypeInfo
from boxoffice.catalog.domain import EventStatus, Problem, ShowStatus
from boxoffice.catalog.errors import EventStateConflict, InvalidEvent, ShowExists
from boxoffice.catalog.event_rules import (
    SHOW_TIME_TAKEN,
    apply_queue,
    check_category,
    check_grades,
    grade_rows,
    invalid_event,
    invalidate_event,
    one_show_per_start,
    owned_event,
    policy_of,
)
from boxoffice.catalog.events import EventCancelled, EventPublished
from boxoffice.catalog.images import add_image, image_read
from boxoffice.catalog.models import Event, EventGrade, Show
from boxoffice.catalog.sale_info import recent_sale_info, show_sale_info
from boxoffice.catalog.schemas import (
    EventCreate,
    EventPage,
    EventRead,
    EventUpdate,
    GradeIn,
    ListingQuery,
    ShowDetail,
)
from boxoffice.catalog.seller import OwnedShow, owned_show, seller_event_view, seller_events
from boxoffice.catalog.venues import create_venue, get_venue, require_approved_seller, seat_specs
from boxoffice.platform.events import DomainEvent
from boxoffice.platform.ids import new_id
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Principal
from boxoffice.platform.uow import UnitOfWork

__all__ = [
    "OwnedShow",
    "add_image",
    "cancel_show",
    "create_category",
    "create_venue",
    "ensure_default_categories",
    "get_venue",
    "image_read",
    "list_categories",
    "owned_show",
    "recent_sale_info",
    "require_approved_seller",
    "reschedule_show",
    "seller_event_view",
    "seller_events",
    "show_sale_info",
    "update_category",
]


# Events


async def create_event(
    uow: UnitOfWork, runtime: Runtime, principal: Principal, body: EventCreate
) -> Event:
    """A draft event of the caller. Raises ``SellerNotApproved`` (403), ``InvalidEvent`` (422:
    category, venue grades not all priced, sale window, fee tiers)."""
    await require_approved_seller(uow, principal)
    problems = domain.sale_window_problems(body.sale_opens_at, body.sale_closes_at)
    tiers = [(t.days_before, t.fee_percent) for t in body.cancellation.tiers]
    problems += domain.tier_problems(tiers)
    if problems:
        raise invalid_event(problems)
    await check_category(uow, body.category)
    await check_grades(uow, body.venue_id, body.grades, principal)
    now = uow.clock.now()
    event = Event(
        **body.model_dump(exclude={"grades", "queue", "cancellation"}),
        id=new_id(),
        seller_id=principal.id,
        status=EventStatus.DRAFT.value,
        cancellation_policy=domain.policy_to_json(policy_of(body.cancellation)),
        view_count=0,
        created_at=now,
        updated_at=now,
    )
    apply_queue(event, body.queue)
    uow.session.add(event)
    await uow.session.flush()
    await uow.session.execute(insert(EventGrade), grade_rows(event.id, body.grades))
    await uow.commit()
    return event


async def _has_shows(uow: UnitOfWork, event_id: str) -> bool:
    found = await uow.session.scalar(select(Show.id).where(Show.event_id == event_id).limit(1))
    return found is not None


async def update_event(
    uow: UnitOfWork, runtime: Runtime, principal: Principal, event_id: str, body: EventUpdate
) -> Event:
    """Change an event. Grades and venue change only in a draft without shows (seat
    inventories and holds are priced from them); a cancelled event changes no more (409)."""
    event = await owned_event(uow, principal, event_id)
    if not domain.can_edit(event.status):
        raise EventStateConflict("A cancelled event cannot be edited.")
    changes = body.model_dump(exclude_unset=True)
    structural = "venue_id" in changes or "grades" in changes
    if structural and (event.status != EventStatus.DRAFT or await _has_shows(uow, event.id)):
        raise EventStateConflict("Venue and grades change only in a draft without shows.")
    opens = body.sale_opens_at or event.sale_opens_at
    closes = body.sale_closes_at or event.sale_closes_at
    problems = domain.sale_window_problems(opens, closes)
    if body.cancellation is not None:
        problems += domain.tier_problems(
            [(t.days_before, t.fee_percent) for t in body.cancellation.tiers]
        )
    if problems:
        raise invalid_event(problems)
    if body.category is not None:
        await check_category(uow, body.category)
        event.category = body.category
    venue_id = body.venue_id or event.venue_id
    if body.venue_id is not None or body.grades is not None:
        grades = body.grades
        if grades is None:
            existing = await uow.session.scalars(
                select(EventGrade).where(EventGrade.event_id == event.id)
            )
            grades = [GradeIn(code=g.code, name=g.name, price=g.price) for g in existing]
        await check_grades(uow, venue_id, grades, principal)
        await uow.session.execute(delete(EventGrade).where(EventGrade.event_id == event.id))
        await uow.session.execute(insert(EventGrade), grade_rows(event.id, grades))
        event.venue_id = venue_id
    fields = ("title", "description", "max_tickets_per_user", "purchase_limit_scope")
    rules = ("transfers_allowed", "transfer_cutoff_hours", "requires_verified_email")
    for field in (*fields, "hold_minutes", *rules):
        value = getattr(body, field)
        if value is not None:
            setattr(event, field, value)
    event.sale_opens_at, event.sale_closes_at = opens, closes
    if body.queue is not None:
        apply_queue(event, body.queue)
    if body.cancellation is not None:
        event.cancellation_policy = domain.policy_to_json(policy_of(body.cancellation))
    event.updated_at = uow.clock.now()
    await invalidate_event(uow, runtime, event.id)
    await uow.commit()
    return event


async def publish_event(
    uow: UnitOfWork, runtime: Runtime, principal: Principal, event_id: str
) -> Event:
    """draft → published (needs at least one show); records ``EventPublished``."""
    event = await owned_event(uow, principal, event_id)
    if not domain.can_publish(event.status):
        raise EventStateConflict(f"A {event.status} event cannot be published.")
    if not await _has_shows(uow, event.id):
        raise InvalidEvent(
            "Add at least one show before publishing.",
            errors=[{"loc": ["shows"], "msg": "an event needs a show to be published"}],
        )
    event.published_at = now = uow.clock.now()
    published = EventPublished(event_id=event.id, seller_id=event.seller_id, title=event.title)
    return await _commit_status(uow, runtime, event, EventStatus.PUBLISHED, now, published)


async def cancel_event(
    uow: UnitOfWork, runtime: Runtime, principal: Principal, event_id: str, reason: str
) -> Event:
    """draft or published → cancelled; records ``EventCancelled`` (orders refunds every
    paid order when it hears it). Cancelling twice is a 409."""
    event = await owned_event(uow, principal, event_id)
    if not domain.can_cancel(event.status):
        raise EventStateConflict(f"A {event.status} event cannot be cancelled.")
    event.cancelled_at = now = uow.clock.now()
    event.cancel_reason = reason or None
    cancelled = EventCancelled(
        event_id=event.id, seller_id=event.seller_id, title=event.title, reason=reason
    )
    return await _commit_status(uow, runtime, event, EventStatus.CANCELLED, now, cancelled)


async def _commit_status(
    uow: UnitOfWork,
    runtime: Runtime,
    event: Event,
    status: EventStatus,
    now: datetime,
    change: DomainEvent,
) -> Event:
    """The event in ``status`` (its caller checked the move and stamped when), the change
    recorded for whoever listens and the event's cached reads dropped after the commit.
    Commits."""
    event.status, event.updated_at = status.value, now
    uow.record(change)
    await invalidate_event(uow, runtime, event.id)
    await uow.commit()
    return event


# Shows


async def create_show(
    uow: UnitOfWork, runtime: Runtime, principal: Principal, event_id: str, starts_at: datetime
) -> Show:
    """A show of the event and, in the same transaction, its seat inventory (through the
    ``ShowInventory`` port, which seating fills).

    Raises ``EventStateConflict`` for a cancelled event, ``InvalidEvent`` for a start in the
    past or before the sale opens, ``ShowExists`` (409) for a second show at the same time.
    """
    event = await owned_event(uow, principal, event_id)
    if event.status == EventStatus.CANCELLED:
        raise EventStateConflict("A cancelled event gets no new shows.")
    now = uow.clock.now()
    if starts_at <= now:
        raise invalid_event([Problem(("starts_at",), "a show starts in the future")])
    if starts_at <= event.sale_opens_at:
        raise invalid_event([Problem(("starts_at",), "a show starts after its sale opens")])
    taken = await uow.session.scalar(
        select(Show.id).where(Show.event_id == event.id, Show.starts_at == starts_at)
    )
    if taken is not None:
        raise ShowExists(SHOW_TIME_TAKEN)
    seats = await seat_specs(uow, event.venue_id)
    show = Show(
        id=new_id(),
        event_id=event.id,
        starts_at=starts_at,
        status=ShowStatus.SCHEDULED.value,
        seat_count=len(seats),
        created_at=now,
    )
    uow.session.add(show)
    await uow.session.flush()
    await runtime.adapters.get(ShowInventory).create(uow, show.id, event.id, seats)
    event.first_starts_at = min(filter(None, (event.first_starts_at, starts_at)))
    event.last_starts_at = max(filter(None, (event.last_starts_at, starts_at)))
    event.updated_at = now
    await invalidate_event(uow, runtime, event.id)
    with one_show_per_start():  # a concurrent request added the same start time
        await uow.commit()
    return show


# Images


# What other contexts read


async def event_summary(uow: UnitOfWork, event_id: str) -> EventSummary | None:
    """Owner, title, status and currency of an event (read-only, no commit)."""
    row = (
        await uow.session.execute(
            select(
                Event.id, Event.seller_id, Event.title, Event.status, Event.currency, Event.venue_id
            ).where(Event.id == event_id)
        )
    ).first()
    if row is None:
        return None
    return EventSummary(*row)


# The public reads, as the API serves them (same cache), typed for other entry points


async def event_listing(runtime: Runtime, query: ListingQuery) -> EventPage:
    """Published events with a show to come, as ``GET /events`` lists them (cached)."""
    return EventPage.model_validate_json(await reads.list_events(runtime, query))


async def event_view(runtime: Runtime, principal: Principal | None, event_id: str) -> EventRead:
    """The event as ``GET /events/{id}`` shows it, counting a view. Raises ``EventNotFound``
    (also for someone else's draft)."""
    raw = await reads.event_detail(runtime, principal, event_id)
    return EventRead.model_validate_json(raw)


async def show_view(
    uow: UnitOfWork, runtime: Runtime, principal: Principal | None, show_id: str
) -> ShowDetail:
    """The show as ``GET /shows/{id}`` shows it. Raises ``ShowNotFound``."""
    raw = await reads.show_detail(uow, runtime, principal, show_id)
    return ShowDetail.model_validate_json(raw)


# View counts


async def flush_view_counts(runtime: Runtime) -> int:
    """Move counted views from Redis (or memory) into ``catalog_events.view_count``.

    Returns how many views were written. Safe against views arriving meanwhile (atomic
    swap) and against a crash or a second flusher (each batch is applied once, by id).
    """
    return await view_flush.flush(runtime)


# Ticket types (docs/selling.md): kept in catalog/ticket_types.py


async def ticket_types_for_show(
    runtime: Runtime, show_id: str, type_ids: list[str]
) -> dict[str, TicketTypeInfo]:
    """The named ticket types of the show's event, read now in a short unit of work of
    their own (only holds that name types pay for it)."""
    async with runtime.uow(read_only=True) as uow:
        return await ticket_types.for_show(uow, show_id, type_ids)


create_ticket_type = ticket_types.create
update_ticket_type = ticket_types.update
event_ticket_types = ticket_types.of_event


cancel_show = show_changes.cancel_show
reschedule_show = show_changes.reschedule_show
