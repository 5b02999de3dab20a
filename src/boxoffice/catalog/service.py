"""catalog's use cases: the only module other contexts may call.

Each public function that changes state commits once, through the unit of work it is
given, and invalidates the cached reads it affects after the commit. ``show_sale_info`` and
``event_summary`` are read-only and never commit.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import structlog
from redis.exceptions import RedisError
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from boxoffice.catalog import domain, reads, sale_info, ticket_types, view_flush
from boxoffice.catalog.adapters import LIST_TAG, adapters, event_tag, show_tag
from boxoffice.catalog.categories import (
    create_category,
    ensure_default_categories,
    list_categories,
    update_category,
)
from boxoffice.catalog.contracts import (
    CancellationPolicy,
    EventSummary,
    ShowInventory,
    ShowSaleInfo,
    TicketTypeInfo,
)
from boxoffice.catalog.domain import EventStatus, Problem, ShowStatus
from boxoffice.catalog.errors import (
    EventNotFound,
    EventStateConflict,
    InvalidEvent,
    NotEventOwner,
    ShowExists,
    VenueNotFound,
)
from boxoffice.catalog.events import EventCancelled, EventPublished
from boxoffice.catalog.models import Category, Event, EventGrade, EventImage, Show
from boxoffice.catalog.recent import RecentSaleInfo
from boxoffice.catalog.schemas import (
    CancellationIn,
    EventCreate,
    EventPage,
    EventRead,
    EventUpdate,
    GradeIn,
    ListingQuery,
    QueueIn,
    ShowDetail,
)
from boxoffice.catalog.venues import (
    create_venue,
    get_venue,
    require_approved_seller,
    seat_specs,
    venue_grades,
)
from boxoffice.platform import media
from boxoffice.platform.ids import new_id
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Principal, Role
from boxoffice.platform.uow import UnitOfWork

log = structlog.get_logger("boxoffice.catalog")

__all__ = [
    "create_category",
    "create_venue",
    "ensure_default_categories",
    "get_venue",
    "list_categories",
    "update_category",
]


def _invalid(problems: list[Problem], cls: type[InvalidEvent] = InvalidEvent) -> InvalidEvent:
    return cls(
        problems[0].msg,
        errors=[{"loc": ["body", *map(str, p.loc)], "msg": p.msg} for p in problems],
    )


def _policy(body: CancellationIn) -> CancellationPolicy:
    return CancellationPolicy(
        free_days_after_booking=body.free_days_after_booking,
        fixed_fee=body.fixed_fee,
        cutoff_hours_before_show=body.cutoff_hours_before_show,
        tiers=tuple((t.days_before, t.fee_percent) for t in body.tiers),
    )


def _apply_queue(event: Event, queue: QueueIn) -> None:
    event.queue_enabled = queue.enabled
    event.queue_admit_per_second = queue.admit_per_second
    event.queue_max_active = queue.max_active
    event.queue_pre_queue_minutes = queue.pre_queue_minutes


async def _check_category(uow: UnitOfWork, code: str) -> None:
    category = await uow.session.get(Category, code)
    if category is None or not category.active:
        raise InvalidEvent(
            f"Unknown category {code!r}.",
            errors=[{"loc": ["body", "category"], "msg": f"unknown category {code!r}"}],
        )


async def _check_grades(uow: UnitOfWork, venue_id: str, grades: list[GradeIn]) -> None:
    try:
        used = await venue_grades(uow, venue_id)
    except VenueNotFound as exc:
        raise InvalidEvent(
            f"Venue {venue_id} does not exist.",
            errors=[{"loc": ["body", "venue_id"], "msg": "unknown venue"}],
        ) from exc
    problems = domain.grade_problems(used, [g.code for g in grades])
    if problems:
        raise _invalid(problems)


def _grade_rows(event_id: str, grades: list[GradeIn]) -> list[dict[str, Any]]:
    return [
        {
            "id": new_id(),
            "event_id": event_id,
            "code": g.code,
            "name": g.name or g.code,
            "price": g.price,
            "position": i,
        }
        for i, g in enumerate(grades)
    ]


async def _invalidate_event(uow: UnitOfWork, runtime: Runtime, event_id: str) -> None:
    """After the commit, drop cached reads of the event, its shows and the listings."""
    show_ids = list(await uow.session.scalars(select(Show.id).where(Show.event_id == event_id)))
    tags = [event_tag(event_id), LIST_TAG, *(show_tag(s) for s in show_ids)]
    cache = adapters(runtime).cache
    recent = _recent(runtime)

    async def invalidate() -> None:
        for show_id in show_ids:
            recent.forget(show_id)
        await cache.invalidate_tags(*tags)

    uow.on_commit(invalidate)


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
        raise _invalid(problems)
    await _check_category(uow, body.category)
    await _check_grades(uow, body.venue_id, body.grades)
    now = uow.clock.now()
    event = Event(
        id=new_id(),
        seller_id=principal.id,
        venue_id=body.venue_id,
        category=body.category,
        title=body.title,
        description=body.description,
        status=EventStatus.DRAFT.value,
        currency=body.currency,
        sale_opens_at=body.sale_opens_at,
        sale_closes_at=body.sale_closes_at,
        max_tickets_per_user=body.max_tickets_per_user,
        purchase_limit_scope=body.purchase_limit_scope,
        hold_minutes=body.hold_minutes,
        cancellation_policy=domain.policy_to_json(_policy(body.cancellation)),
        view_count=0,
        created_at=now,
        updated_at=now,
    )
    _apply_queue(event, body.queue)
    uow.session.add(event)
    await uow.session.flush()
    await uow.session.execute(insert(EventGrade), _grade_rows(event.id, body.grades))
    await uow.commit()
    return event


async def _owned_event(
    uow: UnitOfWork, principal: Principal, event_id: str, *, lock: bool = True
) -> Event:
    """The event, if the caller may change it: its seller, or an admin."""
    statement = select(Event).where(Event.id == event_id)
    if lock:
        statement = statement.with_for_update()
    event = await uow.session.scalar(statement)
    if event is None:
        raise EventNotFound()
    if event.seller_id != principal.id and not principal.has_role(Role.ADMIN):
        raise NotEventOwner("Only the event's seller or an admin may change it.")
    await require_approved_seller(uow, principal)  # a withdrawn approval stops edits too
    return event


async def _has_shows(uow: UnitOfWork, event_id: str) -> bool:
    found = await uow.session.scalar(select(Show.id).where(Show.event_id == event_id).limit(1))
    return found is not None


async def update_event(
    uow: UnitOfWork, runtime: Runtime, principal: Principal, event_id: str, body: EventUpdate
) -> Event:
    """Change an event. Grades and venue change only in a draft without shows (seat
    inventories and holds are priced from them); a cancelled event changes no more (409)."""
    event = await _owned_event(uow, principal, event_id)
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
        raise _invalid(problems)
    if body.category is not None:
        await _check_category(uow, body.category)
        event.category = body.category
    venue_id = body.venue_id or event.venue_id
    if body.venue_id is not None or body.grades is not None:
        grades = body.grades
        if grades is None:
            existing = await uow.session.scalars(
                select(EventGrade).where(EventGrade.event_id == event.id)
            )
            grades = [GradeIn(code=g.code, name=g.name, price=g.price) for g in existing]
        await _check_grades(uow, venue_id, grades)
        await uow.session.execute(delete(EventGrade).where(EventGrade.event_id == event.id))
        await uow.session.execute(insert(EventGrade), _grade_rows(event.id, grades))
        event.venue_id = venue_id
    fields = ("title", "description", "max_tickets_per_user", "purchase_limit_scope")
    for field in (*fields, "hold_minutes"):
        value = getattr(body, field)
        if value is not None:
            setattr(event, field, value)
    event.sale_opens_at, event.sale_closes_at = opens, closes
    if body.queue is not None:
        _apply_queue(event, body.queue)
    if body.cancellation is not None:
        event.cancellation_policy = domain.policy_to_json(_policy(body.cancellation))
    event.updated_at = uow.clock.now()
    await _invalidate_event(uow, runtime, event.id)
    await uow.commit()
    return event


async def publish_event(
    uow: UnitOfWork, runtime: Runtime, principal: Principal, event_id: str
) -> Event:
    """draft → published (needs at least one show); records ``EventPublished``."""
    event = await _owned_event(uow, principal, event_id)
    if not domain.can_publish(event.status):
        raise EventStateConflict(f"A {event.status} event cannot be published.")
    if not await _has_shows(uow, event.id):
        raise InvalidEvent(
            "Add at least one show before publishing.",
            errors=[{"loc": ["shows"], "msg": "an event needs a show to be published"}],
        )
    now = uow.clock.now()
    event.status = EventStatus.PUBLISHED.value
    event.published_at = event.updated_at = now
    uow.record(EventPublished(event_id=event.id, seller_id=event.seller_id, title=event.title))
    await _invalidate_event(uow, runtime, event.id)
    await uow.commit()
    return event


async def cancel_event(
    uow: UnitOfWork, runtime: Runtime, principal: Principal, event_id: str, reason: str
) -> Event:
    """draft or published → cancelled; records ``EventCancelled`` (orders refunds every
    paid order when it hears it). Cancelling twice is a 409."""
    event = await _owned_event(uow, principal, event_id)
    if not domain.can_cancel(event.status):
        raise EventStateConflict(f"A {event.status} event cannot be cancelled.")
    now = uow.clock.now()
    event.status = EventStatus.CANCELLED.value
    event.cancelled_at = event.updated_at = now
    event.cancel_reason = reason or None
    uow.record(
        EventCancelled(
            event_id=event.id, seller_id=event.seller_id, title=event.title, reason=reason
        )
    )
    await _invalidate_event(uow, runtime, event.id)
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
    event = await _owned_event(uow, principal, event_id)
    if event.status == EventStatus.CANCELLED:
        raise EventStateConflict("A cancelled event gets no new shows.")
    now = uow.clock.now()
    if starts_at <= now:
        raise _invalid([Problem(("starts_at",), "a show starts in the future")])
    if starts_at <= event.sale_opens_at:
        raise _invalid([Problem(("starts_at",), "a show starts after its sale opens")])
    taken = await uow.session.scalar(
        select(Show.id).where(Show.event_id == event.id, Show.starts_at == starts_at)
    )
    if taken is not None:
        raise ShowExists("The event already has a show at that time.")
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
    await _invalidate_event(uow, runtime, event.id)
    try:
        await uow.commit()
    except IntegrityError as exc:  # a concurrent request added the same start time
        raise ShowExists("The event already has a show at that time.") from exc
    return show


# Images


async def add_image(
    uow: UnitOfWork,
    runtime: Runtime,
    principal: Principal,
    event_id: str,
    *,
    kind: str,
    data: bytes,
) -> EventImage:
    """Check the content (Pillow), store the image and a thumbnail, attach them to the event.

    Raises ``ImageTooLarge`` (413), ``UnsupportedImage`` (415), ``InvalidImage`` (422).
    """
    event = await _owned_event(uow, principal, event_id, lock=False)
    if not domain.can_edit(event.status):
        raise EventStateConflict("A cancelled event cannot be edited.")
    media.refuse_oversized(data, runtime.settings.max_upload_bytes)
    state = adapters(runtime)
    checked = await asyncio.to_thread(
        media.check_and_thumbnail, data, max_pixels=state.settings.max_image_pixels
    )
    image_id = new_id()
    key = f"events/{event.id}/{image_id}.{checked.extension}"
    thumbnail_key = f"events/{event.id}/{image_id}.thumb.webp"
    await state.storage.put(key, checked.data, checked.content_type)
    await state.storage.put(thumbnail_key, checked.thumbnail, "image/webp")
    image = EventImage(
        id=image_id,
        event_id=event.id,
        kind=kind,
        key=key,
        thumbnail_key=thumbnail_key,
        content_type=checked.content_type,
        width=checked.width,
        height=checked.height,
        size_bytes=len(data),
        created_at=uow.clock.now(),
    )
    uow.session.add(image)
    await uow.session.execute(
        update(Event).where(Event.id == event.id).values(updated_at=uow.clock.now())
    )
    await _invalidate_event(uow, runtime, event.id)
    await uow.commit()
    return image


def image_urls(runtime: Runtime, image: EventImage) -> tuple[str, str]:
    storage = adapters(runtime).storage
    return storage.url(image.key), storage.url(image.thumbnail_key)


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


async def recent_sale_info(
    runtime: Runtime, show_id: str, *, max_age: float
) -> ShowSaleInfo | None:
    """The show's sale info as this process read it at most ``max_age`` seconds ago (0:
    now), read through catalog's cache in a short transaction of its own. The one
    per-process memo of sale info (``catalog/recent.py``): for the hottest reads (joins,
    refused holds, dispatcher ticks), never for a decision the database makes."""
    return await _recent(runtime).get(show_id, max_age=max_age)


def _recent(runtime: Runtime) -> RecentSaleInfo:
    async def read(show_id: str) -> ShowSaleInfo | None:
        async with runtime.uow(read_only=True) as uow:
            return await show_sale_info(uow, show_id, runtime=runtime)

    return runtime.adapters.ensure(RecentSaleInfo, lambda: RecentSaleInfo(read))


async def show_sale_info(
    uow: UnitOfWork, show_id: str, *, runtime: Runtime | None = None
) -> ShowSaleInfo | None:
    """What a sale needs of a show (status, window, limits, prices, queue, fees). Read-only.

    Pass ``runtime`` to read through catalog's cache (holds call this on every request);
    every change to the event or its shows invalidates it. Without it: two indexed queries.
    When the cache's Redis is unreachable it reads the database: a sale does not stop
    with Redis.
    """
    if runtime is None:
        return await sale_info.load(uow, show_id)
    try:
        return await sale_info.cached_load(uow, runtime, show_id)
    except (RedisError, OSError) as error:
        log.warning("sale_info_cache_unreachable", show_id=show_id, error=str(error))
        return await sale_info.load(uow, show_id)


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
