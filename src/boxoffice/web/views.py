"""What a page shows, gathered from the contexts' service modules (never their tables).

A page needs several reads (an event, each show's sale state, the goods offered with it);
they are put together here so the routes stay thin. Every read is one the API makes too,
through the same caches. Each read runs in a short unit of work of its own, closed before
the next: seating and merch load their caches in transactions of their own, which must not
wait behind a page's (SQLite has one writer, and takes its lock at BEGIN).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from boxoffice.catalog import service as catalog
from boxoffice.catalog.schemas import EventRead, ShowDetail, ShowRead
from boxoffice.merch import service as merch
from boxoffice.orders import service as orders
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Principal
from boxoffice.platform.uow import UnitOfWork
from boxoffice.seating import service as seating
from boxoffice.seating.contracts import HeldSeats
from boxoffice.tickets import service as tickets

GOODS_ON_EVENT_PAGE = 12


@dataclass(frozen=True)
class ShowState:
    """A show as a fan sees it: ``upcoming`` (with ``opens_at``), ``on_sale``,
    ``sold_out``, ``closed`` or ``cancelled``."""

    show: ShowRead
    state: str
    opens_at: datetime | None = None
    available: int | None = None
    queue: bool = False


async def show_state(runtime: Runtime, show: ShowRead) -> ShowState:
    async with runtime.uow() as uow:
        info = await catalog.show_sale_info(uow, show.id, runtime=runtime)
    now = runtime.clock.now()
    if info is None or "cancelled" in (info.event_status, info.show_status):
        return ShowState(show, "cancelled")
    queue = info.queue.enabled
    if info.sale_open_at(now):
        async with runtime.uow() as uow:
            seats = await seating.availability(uow, runtime, show.id)
        state = "sold_out" if seats.sold_out else "on_sale"
        return ShowState(show, state, available=seats.available, queue=queue)
    if now < info.sale_opens_at:
        return ShowState(show, "upcoming", opens_at=info.sale_opens_at, queue=queue)
    return ShowState(show, "closed")


@dataclass(frozen=True)
class EventPage:
    event: EventRead
    shows: list[ShowState]
    goods: list[dict[str, Any]] = field(default_factory=list)


async def event_page(runtime: Runtime, user: Principal | None, event_id: str) -> EventPage:
    event = await catalog.event_view(runtime, user, event_id)
    shows = [await show_state(runtime, show) for show in event.shows]
    goods = await merch.offered_products(runtime, event_id=event.id, limit=GOODS_ON_EVENT_PAGE)
    return EventPage(event, shows, goods)


@dataclass(frozen=True)
class ShowPage:
    show: ShowDetail
    state: ShowState


async def show_page(runtime: Runtime, user: Principal | None, show_id: str) -> ShowPage:
    async with runtime.uow() as uow:
        show = await catalog.show_view(uow, runtime, user, show_id)
    return ShowPage(show, await show_state(runtime, show))


@dataclass(frozen=True)
class CheckoutPage:
    hold: HeldSeats
    show: ShowDetail
    goods: list[dict[str, Any]]
    providers: list[str]


async def checkout(runtime: Runtime, user: Principal, hold_id: str) -> CheckoutPage:
    """The user's hold (``HoldNotFound`` for anyone else's, as the API answers)."""
    hold = await seating.get_hold(runtime, hold_id, user)
    async with runtime.uow() as uow:
        show = await catalog.show_view(uow, runtime, user, hold.show_id)
    goods = await seating.goods_to_offer(runtime, hold)
    return CheckoutPage(hold, show, goods, orders.payment_providers(runtime))


@dataclass(frozen=True)
class TicketCard:
    ticket: Any  # tickets' Ticket row, read-only here
    qr_svg: str


async def my_tickets(uow: UnitOfWork, user: Principal, limit: int = 50) -> list[TicketCard]:
    rows, _ = await tickets.list_tickets(uow, user, cursor=None, limit=limit)
    return [TicketCard(ticket, tickets.qr_svg(ticket)) for ticket in rows]
