"""seating's use cases: the only module other contexts may call.

Functions that say "no commit" work inside the caller's unit of work, so catalog (creating
a show) and orders (selling a hold) commit once. Board (snapshot) updates run after the
commit through ``uow.on_commit``; the database stays the judge of every seat.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Row, case, func, select

from boxoffice.catalog import service as catalog
from boxoffice.catalog.contracts import (
    SeatSpec,
    ShowNotFound,
    ShowSaleInfo,
)
from boxoffice.merch import service as merch
from boxoffice.platform.errors import Conflict, NotFound
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Principal
from boxoffice.platform.uow import UnitOfWork
from boxoffice.seating import (
    best_available,
    box_office,
    claims,
    codes,
    domain,
    holds,
    inventory,
    redeeming,
    selling,
    waitlist,
    waitlist_stream,
)
from boxoffice.seating import models as models  # tables visible to Alembic
from boxoffice.seating.adapters import seating_of
from boxoffice.seating.code_rules import CodeInfo
from boxoffice.seating.contracts import HeldSeats, SeatAvailability
from boxoffice.seating.entry import admitted, typed_choice
from boxoffice.seating.errors import HoldLapsed as HoldLapsed
from boxoffice.seating.errors import HoldNotFound
from boxoffice.seating.errors import PurchaseLimitExceeded as PurchaseLimitExceeded
from boxoffice.seating.errors import SeatUnavailable as SeatUnavailable
from boxoffice.seating.lifecycle import HoldStatus
from boxoffice.seating.snapshot import SeatMap

__all__ = [
    "HoldLapsed",
    "PurchaseLimitExceeded",
    "SeatUnavailable",
    "attach_order",
    "availability",
    "create_show_inventory",
    "expire_holds",
    "held_seats",
    "release_hold",
    "release_sold_seats",
    "seats_left",
    "sell_hold",
]


async def create_show_inventory(
    uow: UnitOfWork, show_id: str, event_id: str, seats: Sequence[SeatSpec]
) -> int:
    """Create every seat of a show as ``available`` (bulk insert, chunked). No commit.
    Catalog calls it through its ``ShowInventory`` port.

    Returns the number of seats. Raises ``InventoryExists`` (409) if the show already has
    seats, ``UnknownSeats`` (422) for a duplicated or malformed seat id.
    """
    return await inventory.create(uow, show_id=show_id, event_id=event_id, seats=seats)


async def _sale_info(uow: UnitOfWork, runtime: Runtime, show_id: str) -> ShowSaleInfo | None:
    # Through catalog's cache, which falls back to the database when Redis is down.
    return await catalog.show_sale_info(uow, show_id, runtime=runtime)


async def goods_to_offer(runtime: Runtime, held: HeldSeats) -> list[dict[str, Any]]:
    """The event's goods offered next to an active hold (bundles), as merch lists them."""
    if held.status != "active":
        return []
    # A show's event never changes, so a sale info of any age names it exactly.
    info = await catalog.recent_sale_info(runtime, held.show_id, max_age=math.inf)
    return await merch.offered_products(runtime, event_id=info.event_id if info else None)


# --- HTTP use cases ----------------------------------------------------------------------


@dataclass(frozen=True)
class SeatMapAnswer:
    etag: str
    seat_map: SeatMap | None  # None: the client's copy is current (304)


async def seat_map(
    uow: UnitOfWork, runtime: Runtime, show_id: str, *, if_none_match: str | None = None
) -> SeatMapAnswer:
    """The show's seats with their status now, from the board (no database query once this
    process has the show's layout and a current board version)."""
    snapshots = seating_of(runtime).snapshots
    # Layout and board first: they load in transactions of their own, which must not wait
    # behind this request's (SQLite has one writer).
    async with holds.database_reachable():
        layout = await snapshots.layout(show_id)
        view = await snapshots.view(uow, show_id)
        info = await _sale_info(uow, runtime, show_id)
    if info is None or info.event_status == "draft":
        raise ShowNotFound(f"Show {show_id} not found.")
    now_ms = domain.epoch_ms(uow.clock.now())
    salt = format(zlib.crc32(repr(sorted(info.grade_prices.items())).encode()), "x")
    etag = view.etag(now_ms, salt)
    if if_none_match is not None and _matches(if_none_match, etag):
        return SeatMapAnswer(etag, None)
    return SeatMapAnswer(etag, snapshots.render(layout, view, info.grade_prices, etag, now_ms))


async def availability(uow: UnitOfWork, runtime: Runtime, show_id: str) -> SeatAvailability:
    """Seats of the show free now, counted from the same snapshot the seat map is served
    from (no database query once warm). Raises ``ShowNotFound``."""
    snapshots = seating_of(runtime).snapshots
    async with holds.database_reachable():
        layout = await snapshots.layout(show_id)
        view = await snapshots.view(uow, show_id)
    now_ms = domain.epoch_ms(uow.clock.now())
    taken = sum(1 for seat_id in view.marks if view.status_of(seat_id, now_ms) != "available")
    return SeatAvailability(show_id, len(layout.seats), len(layout.seats) - taken)


def _matches(if_none_match: str, etag: str) -> bool:
    candidates = [c.strip().removeprefix("W/") for c in if_none_match.split(",")]
    return "*" in candidates or etag in candidates


async def hold_seats(
    runtime: Runtime,
    *,
    show_id: str,
    user: Principal,
    seat_ids: Sequence[str],
    admission_token: str | None,
    ticket_types: Mapping[str, str] | None = None,
    code: str | None = None,
    standing: Mapping[str, int] | None = None,
    best: best_available.Wanted | None = None,
) -> HeldSeats:
    """Hold all of ``seat_ids`` for ``user`` or none. Commits. ``ticket_types`` names the
    type of some seats (seat id -> ticket type id); the others are at the grade's price.
    ``code``: a presale code or voucher of the event (its presale window, hidden type,
    discount), reserved by the hold (``CodeInvalid``, ``CodeExhausted``: 422).
    ``standing``: places of standing areas by quantity (section -> places; 422
    ``out_of_stock`` when fewer are left). ``best``: instead of seats, how many the shop
    chooses (``best_available.py``; 409 ``seat_unavailable`` without ``seat_ids`` when no
    run of them is free).

    Raises ``AdmissionRequired``/``AdmissionInvalid`` (403) when the show's queue is on,
    ``SaleNotOpen`` (422), ``PurchaseLimitExceeded`` (422), ``SeatUnavailable`` (409,
    ``seat_ids``), ``ShowNotFound`` (404), ``TicketTypeUnavailable`` (422) and
    ``TicketTypeSoldOut`` (422 ``out_of_stock``).

    An attempt the seat board refuses (409) touches no database and may have been judged
    on sale info up to a second old; one that reaches the database is checked again
    against the current sale info first.
    """

    redeemed: CodeInfo | None = None

    async def refresh(uow: UnitOfWork) -> ShowSaleInfo:
        fresh = await _sale_info(uow, runtime, show_id)
        return await admitted(runtime, fresh, show_id, user, admission_token, redeemed)

    async with holds.database_reachable():
        layout = await seating_of(runtime).snapshots.layout(show_id)  # its own transaction
        info = await catalog.recent_sale_info(runtime, show_id, max_age=holds.SALE_INFO_SECONDS)
        if code is not None and info is not None:
            redeemed = await redeeming.resolve(runtime, info, code)
        info = await admitted(runtime, info, show_id, user, admission_token, redeemed)
        if best is not None:
            chooser = best_available.Chooser(info, layout, user.id, best, redeemed)
            return await chooser.hold(runtime, refresh)
        request = holds.attempt(info, layout, user.id, seat_ids, standing=standing)
        if ticket_types:
            typed = await typed_choice(runtime, request, ticket_types, redeemed)
            request = replace(request, typed=typed)
        if redeemed is not None:
            request = replace(request, code=redeemed)
        return await holds.hold(runtime, request, refresh)


async def _visible_hold(uow: UnitOfWork, hold_id: str, user: Principal) -> Row[Any]:
    row = await claims.read_hold(uow, hold_id)
    if row is None or not user.acts_for(row.user_id):
        raise HoldNotFound(f"Hold {hold_id} not found.")
    return row


async def _view(uow: UnitOfWork, runtime: Runtime, row: Row[Any]) -> HeldSeats:
    prices = None
    if row.seats is None:  # a hold from before holds kept their seats: priced as now
        info = await _sale_info(uow, runtime, row.show_id)
        prices = info.grade_prices if info is not None else {}
    return await selling.held_seats(uow, row, prices)


async def get_hold(runtime: Runtime, hold_id: str, user: Principal) -> HeldSeats:
    """The hold, for its holder or an admin (anyone else: 404). Its own short unit of work."""
    async with runtime.uow(read_only=True) as uow:
        return await _view(uow, runtime, await _visible_hold(uow, hold_id, user))


async def cancel_hold(runtime: Runtime, hold_id: str, user: Principal) -> None:
    """Release the hold's seats now (holder or admin). Idempotent for ended holds; a hold
    that became a sale is refused (409). Commits."""
    async with runtime.uow() as uow:
        row = await _visible_hold(uow, hold_id, user)
        if row.status == HoldStatus.SOLD.value:
            raise Conflict("This hold became an order; cancel the order instead.")
        reason = "released_by_user" if row.user_id == user.id else "released_by_admin"
        if await selling.release(uow, runtime, row, reason=reason, now=uow.clock.now()):
            await uow.commit()


async def expire_holds(runtime: Runtime) -> int:
    """The sweeper: releases every hold past its expiry for good (records ``HoldExpired``),
    then offers the seats that came back to the shows' waitlists. Returns how many holds it
    expired. Safe to run in several processes at once."""
    expired = await selling.sweep(runtime)
    for show_id in await waitlist.shows_with_waitlist(runtime):
        await offer_returned_seats(runtime, show_id)
    return expired


# --- the sold-out waitlist (docs/selling.md) ------------------------------------------------


async def join_waitlist(
    runtime: Runtime, show_id: str, user: Principal, grade: str | None
) -> tuple[waitlist.EntryView, bool]:
    """Join a sold-out show's waitlist (True when new). Raises ``ShowNotFound``,
    ``SaleNotOpen``, ``SeatsStillAvailable`` (409 ``seats_available``)."""
    info = await catalog.recent_sale_info(runtime, show_id, max_age=holds.SALE_INFO_SECONDS)
    info = waitlist.sale_info_or_404(info, show_id, runtime.clock.now())
    return await waitlist.join(runtime, info, user, grade)


async def waitlist_entry(runtime: Runtime, entry_id: str, user: Principal) -> waitlist.EntryView:
    return await waitlist.get(runtime, entry_id, user)


def waitlist_events(
    runtime: Runtime, user: Principal, first: waitlist.EntryView
) -> AsyncIterator[bytes]:
    """The entry as Server-Sent Events (``entry`` at once and at each change), for the fan
    who got ``first`` from :func:`waitlist_entry` (which decided who may see it)."""
    return waitlist_stream.entry_events(runtime, user, first)


async def leave_waitlist(runtime: Runtime, entry_id: str, user: Principal) -> None:
    await waitlist.leave(runtime, entry_id, user)


async def offer_returned_seats(runtime: Runtime, show_id: str) -> int:
    """Offer the show's free seats to its waitlist in join order (each a hold of
    ``waitlist.OFFER_MINUTES``, e-mailed). Commits. Returns how many were offered."""
    info = await catalog.recent_sale_info(runtime, show_id, max_age=0)
    if info is None:
        return 0
    return await waitlist.offer_returned_seats(runtime, info)


# --- what orders calls (no commit) -------------------------------------------------------


async def held_seats(uow: UnitOfWork, runtime: Runtime, hold_id: str) -> HeldSeats | None:
    """The hold as orders sees it (``status`` says ``expired`` once past expiry), or None."""
    row = await claims.read_hold(uow, hold_id)
    return None if row is None else await _view(uow, runtime, row)


async def attach_order(
    uow: UnitOfWork, runtime: Runtime, hold_id: str, *, order_id: str, user_id: str
) -> HeldSeats:
    """Attach the user's active hold to an order. No commit. Idempotent for the same order.

    Raises ``HoldNotFound`` (404: unknown, or another user's), ``HoldLapsed`` (409:
    expired or released), ``Conflict`` (409: attached to or sold to another order).
    """
    row = await selling.attach_order(uow, hold_id, order_id=order_id, user_id=user_id)
    return await _view(uow, runtime, row)


async def sell_hold(
    uow: UnitOfWork, runtime: Runtime, hold_id: str, *, order_id: str, info: ShowSaleInfo
) -> HeldSeats:
    """Every seat of the hold becomes sold to ``order_id``. No commit. Idempotent.

    A lapsed hold whose seats nobody took is revived when a new hold of them would be
    allowed now. Raises ``HoldLapsed`` (409) when a seat was taken since (the caller's
    transaction must then roll back), ``PurchaseLimitExceeded``, ``TicketTypeSoldOut``,
    ``CodeExhausted`` (422: the rules a hold checks), ``NotFound``, ``Conflict`` (sold to or
    attached to another order).
    """
    row = await selling.sell(uow, runtime, hold_id, order_id=order_id, info=info)
    if row.code_id is not None:  # its use of a code is spent now (docs/selling.md)
        await codes.spend(uow, hold_id, order_id, uow.clock.now())
    return await _view(uow, runtime, row)


# Blocked or free seats sold to a complimentary order (no commit): the box office's.
give_seats = box_office.give_seats


async def release_hold(uow: UnitOfWork, runtime: Runtime, hold_id: str, *, reason: str) -> None:
    """Release an active hold's seats (order expired or failed). No commit. A hold that is
    not active (already released, expired, sold) is left as it is."""
    row = await claims.read_hold(uow, hold_id)
    if row is None:
        raise NotFound(f"Hold {hold_id} not found.")
    await selling.release(uow, runtime, row, reason=reason, now=uow.clock.now())


async def release_sold_seats(
    uow: UnitOfWork, runtime: Runtime, *, show_id: str, seat_ids: Sequence[str], order_id: str
) -> None:
    """Give back seats sold to ``order_id`` (order cancelled or refunded). No commit.
    Seats not sold to this order are left alone."""
    await selling.release_sold_seats(
        uow, runtime, show_id=show_id, seat_ids=list(seat_ids), order_id=order_id
    )
    await codes.release_for_order(uow, order_id, uow.clock.now())


def gzip_seat_map(runtime: Runtime, seat_map: SeatMap) -> bytes:
    """The seat map's body compressed (cached with it)."""
    return seating_of(runtime).snapshots.gzip(seat_map)


async def seats_left(runtime: Runtime, show_id: str) -> tuple[int, int] | None:
    """(available, held) seats of the show now, counted by the database (a seat held past
    its hold's expiry counts as available); (0, 0) means sold out, None a show without
    seats."""
    now = runtime.clock.now()
    seat = models.Seat
    lapsed = (seat.status == "held") & (seat.hold_expires_at <= now)
    free = case(((seat.status == "available") | lapsed, 1), else_=0)
    taken = case(((seat.status == "held") & (seat.hold_expires_at > now), 1), else_=0)
    query = select(func.count(), func.sum(free), func.sum(taken)).where(seat.show_id == show_id)
    async with runtime.uow(read_only=True) as uow:
        total, available, held = (await uow.session.execute(query)).one()
    if not total:
        return None
    return int(available or 0), int(held or 0)


@dataclass(frozen=True)
class SeatCounts:
    """A show's seats by state now, for its seller's dashboard."""

    total: int
    available: int
    held: int
    sold: int


async def seat_counts(uow: UnitOfWork, runtime: Runtime, show_id: str) -> SeatCounts:
    """Seats available, held and sold, counted from the snapshot the seat map is served
    from (as :func:`availability`; no database query once warm). Raises ``ShowNotFound``."""
    snapshots = seating_of(runtime).snapshots
    async with holds.database_reachable():
        layout = await snapshots.layout(show_id)
        view = await snapshots.view(uow, show_id)
    now_ms = domain.epoch_ms(uow.clock.now())
    held = sold = 0
    for seat_id in view.marks:
        status = view.status_of(seat_id, now_ms)
        held += status == "held"
        sold += status == "sold"
    total = len(layout.seats)
    return SeatCounts(total, total - held - sold, held, sold)
