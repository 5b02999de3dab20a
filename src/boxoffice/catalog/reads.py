"""Public reads: event detail, listing and show detail, rendered once and cached.

Each read is a fixed number of queries whatever the data (detail 4, listing 3, show 2):
related rows are fetched for the whole page with ``IN``, never one query per event.
Rendered JSON is cached under generational tags (``platform.cache``); every change to an
event, its shows, grades or images invalidates its tags after the commit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, exists, func, or_, select

from boxoffice.catalog import domain
from boxoffice.catalog.adapters import LIST_TAG, adapters, event_tag, show_tag
from boxoffice.catalog.domain import EventStatus, ShowStatus
from boxoffice.catalog.errors import EventNotFound, InvalidCursor, ShowNotFound
from boxoffice.catalog.images import image_read
from boxoffice.catalog.models import Event, EventGrade, EventImage, Show, Venue
from boxoffice.catalog.schemas import (
    CancellationRead,
    EventCard,
    EventPage,
    EventRead,
    FeeTier,
    GradeRead,
    ListingQuery,
    QueueRead,
    ShowDetail,
    ShowRead,
    VenueBrief,
)
from boxoffice.platform import cursors, search
from boxoffice.platform.cache import cached
from boxoffice.platform.db import record_of
from boxoffice.platform.jsonutil import loads
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Principal
from boxoffice.platform.uow import UnitOfWork


def _may_see_draft(principal: Principal | None, seller_id: str) -> bool:
    return principal is not None and principal.acts_for(seller_id)


async def _grades(uow: UnitOfWork, event_id: str) -> list[GradeRead]:
    rows = await uow.session.execute(
        select(EventGrade.code, EventGrade.name, EventGrade.price)
        .where(EventGrade.event_id == event_id)
        .order_by(EventGrade.position)
    )
    return [GradeRead(code=c, name=n, price=int(p)) for c, n, p in rows]


def _sale_terms(event: Event, venue_name: str, venue_address: str) -> dict[str, Any]:
    """What a buyer needs of an event's sale, the same in its detail and its shows'."""
    return {
        "venue": VenueBrief(id=event.venue_id, name=venue_name, address=venue_address),
        "sale_opens_at": event.sale_opens_at,
        "sale_closes_at": event.sale_closes_at,
        "max_tickets_per_user": event.max_tickets_per_user,
        "purchase_limit_scope": event.purchase_limit_scope,
        "hold_minutes": event.hold_minutes,
        "currency": event.currency,
        "queue": record_of(QueueRead, domain.queue_of(event)),
    }


async def _render_event(uow: UnitOfWork, runtime: Runtime, event_id: str) -> EventRead | None:
    row = (
        await uow.session.execute(
            select(Event, Venue.name, Venue.address)
            .join(Venue, Venue.id == Event.venue_id)
            .where(Event.id == event_id)
        )
    ).first()
    if row is None:
        return None
    event, venue_name, venue_address = row
    shows = await uow.session.scalars(
        select(Show).where(Show.event_id == event.id).order_by(Show.starts_at, Show.id)
    )
    images = list(
        await uow.session.scalars(
            select(EventImage)
            .where(EventImage.event_id == event.id)
            .order_by(EventImage.created_at, EventImage.id)
        )
    )
    posters = [i for i in images if i.kind == "poster"]
    # The event's own columns by their names; the rest is composed here.
    return record_of(
        EventRead,
        event,
        status=EventStatus(event.status).value,
        **_sale_terms(event, venue_name, venue_address),
        cancellation=_cancellation(event.cancellation_policy),
        grades=await _grades(uow, event.id),
        shows=[ShowRead.model_validate(show) for show in shows],
        images=[image_read(runtime, i) for i in images],
        poster_url=image_read(runtime, posters[-1]).url if posters else None,
        view_count=int(event.view_count),
    )


def _cancellation(stored: str) -> CancellationRead:
    policy = domain.policy_from_json(stored)
    return CancellationRead(
        free_days_after_booking=policy.free_days_after_booking,
        fixed_fee=policy.fixed_fee,
        cutoff_hours_before_show=policy.cutoff_hours_before_show,
        tiers=[FeeTier(days_before=d, fee_percent=f) for d, f in policy.tiers],
    )


_VIEWS = '"view_count":'
_SEP = "\x1e"  # JSON escapes control characters: never in the rendered text


def _packed(rendered: EventRead) -> str:
    """The event as cached: its status and seller (for the draft rule), and its JSON cut
    around the view count (so a hit answers by joining text, with no JSON work)."""
    raw = rendered.model_dump_json()
    head, views, rest = raw.partition(_VIEWS)  # the one top-level key of that name
    digits = len(rest) - len(rest.lstrip("0123456789"))
    return _SEP.join(
        (rendered.status, rendered.seller_id, head + views, rest[:digits], rest[digits:])
    )


async def event_detail(
    runtime: Runtime,
    principal: Principal | None,
    event_id: str,
    *,
    count_view: bool = True,
    gzip: bool = False,
) -> bytes:
    """The event as JSON (gzipped with ``gzip``), counting a view of a published event;
    from catalog's cache, or rendered in a short unit of work of its own.

    Drafts are visible to their seller and admins only (404 for everyone else) and are
    never cached; ``view_count`` adds the views not yet flushed to the database.
    """
    state = adapters(runtime)
    key, tags = f"catalog:event:{event_id}", [event_tag(event_id)]
    lookup = await state.cache.get(key, tags)
    packed = lookup.value
    if packed is None:
        async with runtime.uow(read_only=True) as uow:
            rendered = await _render_event(uow, runtime, event_id)
        if rendered is None:
            raise EventNotFound()
        packed = _packed(rendered)
        if rendered.status != EventStatus.DRAFT.value:
            await state.cache.set(key, packed, lookup, tags, state.settings.detail_cache_seconds)
    status, seller_id, head, views, tail = packed.split(_SEP)
    if status == EventStatus.DRAFT and not _may_see_draft(principal, seller_id):
        raise EventNotFound()
    if count_view and status == EventStatus.PUBLISHED:
        unflushed = await state.views.add_and_count(event_id)
    else:
        unflushed = (await state.views.unflushed([event_id]))[event_id]
    count = int(views) + unflushed
    if gzip:  # the text around the count is the same for every view: compressed once
        return state.gzip.around(key, head, str(count), tail)
    return f"{head}{count}{tail}".encode()


def _listing_key(query: ListingQuery, starts_from: datetime) -> str:
    parts = [
        query.q or "",
        query.category or "",
        starts_from.isoformat(),
        query.starts_to.isoformat() if query.starts_to else "",
        query.cursor or "",
        str(query.limit),
    ]
    return "catalog:list:" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]


async def list_events(runtime: Runtime, query: ListingQuery, *, gzip: bool = False) -> bytes:
    """Published events with a show still to come (or in the asked range), ordered by
    first show then id, keyset-paginated, as JSON (gzipped with ``gzip``). Three queries
    per page (in a short unit of work of its own), cached per query."""
    if query.cursor:
        try:
            cursor = cursors.decode_cursor(query.cursor)
        except cursors.BadCursor as exc:
            raise InvalidCursor(str(exc)) from exc
    else:
        cursor = None
    # Whole minutes keep the cache key stable for a minute; the filter is "still to come".
    now = runtime.clock.now().replace(second=0, microsecond=0)
    starts_from = query.starts_from or now
    state = adapters(runtime)

    async def compute() -> str:
        async with runtime.uow(read_only=True) as uow:
            page = await _listing_page(uow, runtime, query, starts_from, cursor)
        return page.model_dump_json()

    key = _listing_key(query, starts_from)
    result = await cached(
        state.cache, key, [LIST_TAG], compute, ttl=state.settings.listing_cache_seconds
    )
    assert result is not None
    return state.gzip.whole(key, result) if gzip else result.encode()


async def _listing_page(
    uow: UnitOfWork,
    runtime: Runtime,
    query: ListingQuery,
    starts_from: datetime,
    cursor: tuple[datetime, str] | None,
) -> EventPage:
    statement = _listing_statement(query, starts_from, cursor)
    statement = statement.order_by(Event.first_starts_at, Event.id).limit(query.limit + 1)
    rows = list((await uow.session.execute(statement)).all())
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    ids = [row[0].id for row in rows]
    min_prices, posters = await _page_extras(uow, ids)
    items = []
    for event, venue_name, venue_address in rows:
        poster = posters.get(event.id)
        storage = adapters(runtime).storage
        items.append(
            record_of(
                EventCard,
                event,
                venue=VenueBrief(id=event.venue_id, name=venue_name, address=venue_address),
                min_price=min_prices.get(event.id),
                poster_url=storage.url(poster.key) if poster else None,
                thumbnail_url=storage.url(poster.thumbnail_key) if poster else None,
            )
        )
    next_cursor = None
    if more and rows:
        last = rows[-1][0]
        assert last.first_starts_at is not None  # published events have shows
        next_cursor = cursors.encode_cursor(last.first_starts_at, last.id)
    return EventPage(items=items, next_cursor=next_cursor)


def _listing_statement(
    query: ListingQuery, starts_from: datetime, cursor: tuple[datetime, str] | None
) -> Select[Event, str, str]:
    show_filter = [
        Show.event_id == Event.id,
        Show.status == ShowStatus.SCHEDULED.value,
        Show.starts_at >= starts_from,
    ]
    if query.starts_to is not None:
        show_filter.append(Show.starts_at < query.starts_to)
    statement = (
        select(Event, Venue.name, Venue.address)
        .join(Venue, Venue.id == Event.venue_id)
        .where(Event.status == EventStatus.PUBLISHED.value)
        .where(exists(select(Show.id).where(*show_filter)))
    )
    if query.q:
        statement = statement.where(search.contains(query.q, Event.title, Event.description))
    if query.category:
        statement = statement.where(Event.category == query.category)
    if cursor is not None:
        after_starts, after_id = cursor
        statement = statement.where(
            or_(
                Event.first_starts_at > after_starts,
                and_(Event.first_starts_at == after_starts, Event.id > after_id),
            )
        )
    return statement


async def _page_extras(
    uow: UnitOfWork, ids: Sequence[str]
) -> tuple[dict[str, int], dict[str, EventImage]]:
    """Lowest price and newest poster of every event on the page: two queries in all."""
    if not ids:
        return {}, {}
    prices = await uow.session.execute(
        select(EventGrade.event_id, func.min(EventGrade.price))
        .where(EventGrade.event_id.in_(ids))
        .group_by(EventGrade.event_id)
    )
    images = await uow.session.scalars(
        select(EventImage)
        .where(EventImage.event_id.in_(ids), EventImage.kind == "poster")
        .order_by(EventImage.created_at, EventImage.id)
    )
    posters = {image.event_id: image for image in images}  # the newest wins
    return {e: int(p) for e, p in prices}, posters


async def show_detail(
    uow: UnitOfWork, runtime: Runtime, principal: Principal | None, show_id: str
) -> str:
    """A show with its event's sale terms and prices; a draft's shows only for its seller."""
    state = adapters(runtime)
    key, tags = f"catalog:show:{show_id}", [show_tag(show_id)]
    lookup = await state.cache.get(key, tags)
    raw = lookup.value
    if raw is None:
        row = (
            await uow.session.execute(
                select(Show, Event, Venue.name, Venue.address)
                .join(Event, Event.id == Show.event_id)
                .join(Venue, Venue.id == Event.venue_id)
                .where(Show.id == show_id)
            )
        ).first()
        if row is None:
            raise ShowNotFound()
        show, event, venue_name, venue_address = row
        detail = record_of(
            ShowDetail,
            show,
            event_title=event.title,
            event_status=event.status,
            **_sale_terms(event, venue_name, venue_address),
            grades=await _grades(uow, event.id),
        )
        raw = detail.model_dump_json()
        if event.status != EventStatus.DRAFT:
            await state.cache.set(key, raw, lookup, tags, state.settings.detail_cache_seconds)
        seller_id = event.seller_id
        status = event.status
    else:
        peek = loads(raw)
        status, seller_id = peek["event_status"], None
    if status == EventStatus.DRAFT and not _may_see_draft(principal, seller_id or ""):
        raise ShowNotFound()
    return raw
