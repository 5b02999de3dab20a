"""Changes to one show of an event after it is on sale: cancelling it, moving it.

A cancelled show sells nothing more (its sale info says so: holds, joins and payments are
refused, the dispatcher forgets its line) and orders refunds every paid order of it in
full when it hears ``ShowCancelled`` (``docs/tickets.md``). Cancelling is idempotent: a
second call answers the cancelled show and records nothing.

Moving a show (``reschedule_show``) changes its time and lets its buyers cancel without a
fee for ``refund_days`` (orders' cancellation quote reads ``free_refund_until``); tickets
follow the new time and each holder is e-mailed the choice. Moving it to the time it has
is a no-op, so a retry records nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from boxoffice.catalog.domain import EventStatus, Problem, ShowStatus
from boxoffice.catalog.errors import EventStateConflict, ShowNotFound
from boxoffice.catalog.event_rules import (
    invalid_event,
    invalidate_event,
    one_show_per_start,
    owned_event,
)
from boxoffice.catalog.events import ShowCancelled, ShowRescheduled
from boxoffice.catalog.models import Event, Show
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Principal
from boxoffice.platform.uow import UnitOfWork


async def cancel_show(
    uow: UnitOfWork, runtime: Runtime, principal: Principal, show_id: str, reason: str
) -> Show:
    """scheduled → cancelled, recording ``ShowCancelled``; commits. Raises ``ShowNotFound``,
    ``NotEventOwner`` and ``EventStateConflict`` (the whole event is cancelled)."""
    event_id = await uow.session.scalar(select(Show.event_id).where(Show.id == show_id))
    if event_id is None:
        raise ShowNotFound()
    event = await owned_event(uow, principal, event_id)  # the event's lock, then the show's
    show = await uow.session.scalar(select(Show).where(Show.id == show_id).with_for_update())
    assert show is not None  # shows go only with their event
    if show.status == ShowStatus.CANCELLED:
        return show  # retried: already done, nothing new to tell
    if event.status == EventStatus.CANCELLED:
        raise EventStateConflict("The whole event is cancelled already.")
    show.status = ShowStatus.CANCELLED.value
    event.updated_at = uow.clock.now()
    uow.record(
        ShowCancelled(
            show_id=show.id, event_id=event.id, seller_id=event.seller_id, title=event.title,
            starts_at=show.starts_at.isoformat(), reason=reason,
        )
    )  # fmt: skip
    await invalidate_event(uow, runtime, event.id)
    await uow.commit()
    return show


async def reschedule_show(
    uow: UnitOfWork,
    runtime: Runtime,
    principal: Principal,
    show_id: str,
    starts_at: datetime,
    refund_days: int,
) -> Show:
    """Move the show to ``starts_at``, fee-free cancellation for ``refund_days``; commits.
    Raises ``ShowNotFound``, ``NotEventOwner``, ``EventStateConflict`` (cancelled),
    ``InvalidEvent`` (not in the future), ``ShowExists`` (the event has a show then)."""
    event_id = await uow.session.scalar(select(Show.event_id).where(Show.id == show_id))
    if event_id is None:
        raise ShowNotFound()
    event = await owned_event(uow, principal, event_id)
    show = await uow.session.scalar(select(Show).where(Show.id == show_id).with_for_update())
    assert show is not None
    if ShowStatus.CANCELLED in (show.status, event.status):
        raise EventStateConflict("A cancelled show is not moved.")
    if show.starts_at == starts_at:
        return show  # retried: already there
    now = uow.clock.now()
    if starts_at <= now:
        raise invalid_event([Problem(("starts_at",), "a show starts in the future")])
    old = show.starts_at
    show.starts_at, show.free_refund_until = starts_at, now + timedelta(days=refund_days)
    with one_show_per_start():
        await uow.session.flush()
    await _span(uow, event)
    uow.record(
        ShowRescheduled(
            show_id=show.id, event_id=event.id, title=event.title,
            old_starts_at=old.isoformat(), new_starts_at=starts_at.isoformat(),
            free_refund_until=show.free_refund_until.isoformat(),
        )
    )  # fmt: skip
    await invalidate_event(uow, runtime, event.id)
    with one_show_per_start():
        await uow.commit()
    return show


async def _span(uow: UnitOfWork, event: Event) -> None:
    first, last = (
        await uow.session.execute(
            select(func.min(Show.starts_at), func.max(Show.starts_at)).where(
                Show.event_id == event.id
            )
        )
    ).one()
    event.first_starts_at, event.last_starts_at = first, last
    event.updated_at = uow.clock.now()
