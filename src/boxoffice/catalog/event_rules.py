"""The checks and rows behind creating and editing an event: its owner, its category, its
grades against the venue's seat map, its cancellation policy and its queue settings; and
the cached reads a change drops once it commits."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from boxoffice.catalog import domain
from boxoffice.catalog.adapters import LIST_TAG, adapters, event_tag, show_tag
from boxoffice.catalog.contracts import CancellationPolicy
from boxoffice.catalog.domain import Problem
from boxoffice.catalog.errors import (
    EventNotFound,
    InvalidEvent,
    NotEventOwner,
    ShowExists,
    VenueNotFound,
)
from boxoffice.catalog.models import Category, Event, Show
from boxoffice.catalog.sale_info import recent_memo
from boxoffice.catalog.schemas import CancellationIn, GradeIn, QueueIn
from boxoffice.catalog.venues import require_approved_seller, venue_grades
from boxoffice.platform.ids import new_id
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Principal
from boxoffice.platform.uow import UnitOfWork


def invalid_event(problems: list[Problem], cls: type[InvalidEvent] = InvalidEvent) -> InvalidEvent:
    return cls(
        problems[0].msg,
        errors=[{"loc": ["body", *map(str, p.loc)], "msg": p.msg} for p in problems],
    )


SHOW_TIME_TAKEN = "The event already has a show at that time."


@contextmanager
def one_show_per_start() -> Iterator[None]:
    """Turns the (event, starts_at) key refusing a write in the block into ``ShowExists``:
    the database has the last word when two requests put shows at one time."""
    try:
        yield
    except IntegrityError as exc:
        raise ShowExists(SHOW_TIME_TAKEN) from exc


def policy_of(body: CancellationIn) -> CancellationPolicy:
    return CancellationPolicy(
        free_days_after_booking=body.free_days_after_booking,
        fixed_fee=body.fixed_fee,
        cutoff_hours_before_show=body.cutoff_hours_before_show,
        tiers=tuple((t.days_before, t.fee_percent) for t in body.tiers),
    )


def apply_queue(event: Event, queue: QueueIn) -> None:
    """The body's waiting-room settings onto the event's ``queue_*`` columns."""
    for name in domain.QUEUE_FIELDS:
        setattr(event, f"queue_{name}", getattr(queue, name))


async def check_category(uow: UnitOfWork, code: str) -> None:
    category = await uow.session.get(Category, code)
    if category is None or not category.active:
        raise InvalidEvent(
            f"Unknown category {code!r}.",
            errors=[{"loc": ["body", "category"], "msg": f"unknown category {code!r}"}],
        )


async def check_grades(
    uow: UnitOfWork, venue_id: str, grades: list[GradeIn], principal: Principal
) -> None:
    try:
        used = await venue_grades(uow, venue_id, used_by=principal)
    except VenueNotFound as exc:
        raise InvalidEvent(
            f"Venue {venue_id} does not exist.",
            errors=[{"loc": ["body", "venue_id"], "msg": "unknown venue"}],
        ) from exc
    problems = domain.grade_problems(used, [g.code for g in grades])
    if problems:
        raise invalid_event(problems)


def grade_rows(event_id: str, grades: list[GradeIn]) -> list[dict[str, Any]]:
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


async def invalidate_event(uow: UnitOfWork, runtime: Runtime, event_id: str) -> None:
    """After the commit, drop cached reads of the event, its shows and the listings."""
    show_ids = list(await uow.session.scalars(select(Show.id).where(Show.event_id == event_id)))
    tags = [event_tag(event_id), LIST_TAG, *(show_tag(s) for s in show_ids)]
    cache = adapters(runtime).cache
    recent = recent_memo(runtime)

    async def invalidate() -> None:
        for show_id in show_ids:
            recent.forget(show_id)
        await cache.invalidate_tags(*tags)

    uow.on_commit(invalidate)


async def owned_event(
    uow: UnitOfWork, principal: Principal, event_id: str, *, lock: bool = True
) -> Event:
    """The event, if the caller may change it: its seller, or an admin."""
    statement = select(Event).where(Event.id == event_id)
    if lock:
        statement = statement.with_for_update()
    event = await uow.session.scalar(statement)
    if event is None:
        raise EventNotFound()
    if not principal.acts_for(event.seller_id):
        raise NotEventOwner("Only the event's seller or an admin may change it.")
    await require_approved_seller(uow, principal)  # a withdrawn approval stops edits too
    return event
