"""Holding seats: the Redis fast path, then one conditional claim the database judges.

1. The board's Lua script marks every requested seat or none (contended requests end
   here with 409, without a database round trip).
2. One transaction: lock the (show, user) row, count what the user already has, claim
   the seats with one ``UPDATE ... WHERE free`` and check the row count. Fewer rows than
   seats means someone else won a seat: roll back, undo the marks, answer 409.
3. After the commit, the board records the hold with its real expiry (snapshot update).

If Redis is unreachable or loses its keys, step 1 is skipped or rebuilt: the database
alone still refuses every double hold.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import structlog
from redis.exceptions import RedisError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from boxoffice.catalog.contracts import ShowSaleInfo, TicketTypeInfo
from boxoffice.platform.db import retry_transaction, unreachable
from boxoffice.platform.ids import new_id
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.uow import UnitOfWork
from boxoffice.seating import (
    claims,
    code_rules,
    codes,
    domain,
    limits,
    pricing,
    suggestions,
    typed,
)
from boxoffice.seating import standing as standing_areas
from boxoffice.seating.adapters import Seating, seating_of
from boxoffice.seating.contracts import HeldSeat, HeldSeats
from boxoffice.seating.domain import HELD_MARK, PENDING_MARK, SOLD_MARK, Mark, epoch_ms
from boxoffice.seating.errors import (
    PurchaseLimitExceeded,
    SeatingBusy,
    TicketTypeSoldOut,
    UnknownSeats,
)
from boxoffice.seating.events import SeatsHeld
from boxoffice.seating.layout import Layout
from boxoffice.seating.lifecycle import HoldStatus, encode_seats

log = structlog.get_logger("boxoffice.seating")
ATTEMPTS = 4  # a deadlock or serialization failure is retried; then 503
_BUSY = "Seat selection is busy; try again in a moment."  # every 503 of seating's
# How stale the sale info that refuses a contended attempt may be (docs/seating.md); an
# attempt the board lets through is checked again against the current one.
SALE_INFO_SECONDS = 1.0
# Reads the sale info again in the claim's unit of work and refuses what it no longer
# allows (the entry's memo may be a second old); returns the info to hold with.
Refresh = Callable[[UnitOfWork], Awaitable[ShowSaleInfo]]


@dataclass(frozen=True)
class HoldAttempt:
    """A hold request resolved once at its entry: the show's sale info and seat layout,
    the buyer, and the distinct seats asked for (every one of them on the map)."""

    info: ShowSaleInfo
    layout: Layout
    user_id: str
    wanted: list[str]
    # Seats asked at a ticket type (seat id -> type), already checked by pricing; the
    # others are sold at their grade's base price.
    typed: Mapping[str, TicketTypeInfo] = field(default_factory=dict)
    code: code_rules.CodeInfo | None = None  # a presale code or voucher, checked usable
    # Standing areas asked for by quantity (section -> places), picked in the claim.
    standing: Mapping[str, int] = field(default_factory=dict)

    @property
    def quantity(self) -> int:
        return len(self.wanted) + sum(self.standing.values())


def attempt(
    info: ShowSaleInfo,
    layout: Layout,
    user_id: str,
    seat_ids: Sequence[str],
    typed: Mapping[str, TicketTypeInfo] | None = None,
    standing: Mapping[str, int] | None = None,
) -> HoldAttempt:
    """Check the request against the show before any I/O: ``UnknownSeats`` (422) for an
    empty, oversized or unknown seat list (or standing area), ``PurchaseLimitExceeded``
    for more seats than one person may have."""
    places = standing_areas.check_request(layout, standing) if standing else {}
    try:
        wanted = domain.requested_seats(seat_ids) if seat_ids or not places else []
    except domain.InvalidSeatRequest as error:
        raise UnknownSeats(str(error), errors=_seat_errors(str(error))) from None
    request = HoldAttempt(info, layout, user_id, wanted, typed or {}, standing=places)
    if request.quantity > domain.MAX_SEATS_PER_HOLD:
        message = f"A hold takes at most {domain.MAX_SEATS_PER_HOLD} seats."
        raise UnknownSeats(message, errors=_seat_errors(message))
    _within_request_limit(info, request.quantity)
    unknown = domain.unknown_seats(wanted, layout.index)
    if unknown:
        message = "Some seats do not exist in this show."
        raise UnknownSeats(message, seat_ids=unknown, errors=_seat_errors(message))
    return request


async def hold(runtime: Runtime, request: HoldAttempt, refresh: Refresh) -> HeldSeats:
    """Hold every seat of ``request`` or none. Commits. Raises ``SeatUnavailable``,
    ``PurchaseLimitExceeded``, ``SeatingBusy`` and whatever ``refresh`` raises.

    The board marks the seats first: an attempt it refuses does no database work at all.
    The database then judges in one transaction (:func:`_claim_once`)."""
    adapters = seating_of(runtime)
    show_id, wanted = request.info.show_id, request.wanted
    now = runtime.clock.now()
    hold_id = new_id()
    deadline = epoch_ms(now + timedelta(seconds=domain.PENDING_MARK_SECONDS))
    pending = Mark(PENDING_MARK, hold_id, deadline)
    # Standing places are picked in the claim: only chosen seats are marked first.
    marked = bool(wanted) and await _mark(adapters, show_id, wanted, pending, now)
    try:
        async with database_reachable():  # a pool that ran dry: 503 "busy", logged
            return await _claim(runtime, request, refresh, hold_id, now)
    except BaseException:
        if marked:
            await _quietly(adapters.board.unmark(show_id, wanted, hold_id))
        raise


def _within_request_limit(info: ShowSaleInfo, quantity: int) -> None:
    limit = info.max_tickets_per_user
    if not domain.within_limit(0, quantity, limit):
        raise PurchaseLimitExceeded(f"At most {limit} seats per person for this show.", limit=limit)


def _seat_errors(message: str) -> list[dict[str, object]]:
    return [{"loc": ["body", "seat_ids"], "msg": message}]


async def _mark(
    adapters: Seating, show_id: str, wanted: list[str], pending: Mark, now: datetime
) -> bool:
    """True when the board marked the seats for us; False when it could not be asked (the
    database alone judges then). Raises ``SeatUnavailable`` for seats the board has taken."""
    try:
        outcome = await adapters.board.mark(show_id, wanted, pending, epoch_ms(now))
    except (RedisError, OSError) as error:
        log.warning("seat_board_unreachable", show_id=show_id, error=str(error))
        return False
    if outcome.status == "cold":  # reload it for the next requests; the database judges
        await adapters.snapshots.load_in_background(show_id)
        return False
    if outcome.status == "taken":
        raise suggestions.refusal(adapters.snapshots, show_id, wanted, sorted(outcome.taken), now)
    return outcome.status == "ok"


async def _claim(
    runtime: Runtime, request: HoldAttempt, refresh: Refresh, hold_id: str, now: datetime
) -> HeldSeats:
    """:func:`_claim_once` in a unit of work, again after a deadlock (then 503)."""
    for attempt_number in range(1, ATTEMPTS + 1):
        try:
            async with runtime.uow() as uow:
                info = await refresh(uow)
                _within_request_limit(info, request.quantity)
                return await _claim_once(uow, runtime, replace(request, info=info), hold_id, now)
        except DBAPIError as error:
            if not retry_transaction(error):
                raise
            log.info("seat_claim_retry", show_id=request.info.show_id, attempt=attempt_number)
    raise SeatingBusy(_BUSY)


async def _checked(uow: UnitOfWork, request: HoldAttempt, now: datetime) -> HoldAttempt:
    """The buyer's limit, the types' caps and the code checked under the buyer's lock; the
    standing places picked now, to be claimed like chosen seats."""
    show_id, user_id = request.info.show_id, request.user_id
    await check_limit(uow, request.info, user_id, request.quantity, now)
    if request.typed:
        await check_caps(uow, show_id, request.typed, now)
    if request.code is not None:
        await codes.check_available(uow, request.code, user_id, now)
    if request.standing:
        picked = await standing_areas.pick(uow, show_id, request.standing, now)
        request = replace(request, wanted=[*request.wanted, *picked], standing={})
    return request


async def _claim_once(
    uow: UnitOfWork, runtime: Runtime, request: HoldAttempt, hold_id: str, now: datetime
) -> HeldSeats:
    """Lock the buyer, check the limit, claim the seats, record the hold. Commits."""
    request = await _checked(uow, request, now)
    info, wanted = request.info, request.wanted
    show_id, user_id = info.show_id, request.user_id
    expires_at = domain.hold_expiry(now, info.hold_minutes)
    got = await claims.claim(
        uow,
        show_id=show_id,
        seat_ids=wanted,
        hold_id=hold_id,
        user_id=user_id,
        expires_at=expires_at,
        now=now,
    )
    if got != len(wanted):
        await uow.rollback()
        taken = await claims.taken_among(uow, show_id, wanted, now)
        raise suggestions.refusal(
            seating_of(runtime).snapshots, show_id, wanted, taken or wanted, now
        )
    if request.typed:
        chosen = {seat_id: t.id for seat_id, t in request.typed.items()}
        await typed.set_types(uow, show_id, hold_id, chosen)
    seats = _held_seats(request)
    code_fields = {} if request.code is None else {"code_id": request.code.id}
    await claims.insert_hold(
        uow,
        code_fields
        | {
            "id": hold_id,
            "show_id": show_id,
            "user_id": user_id,
            "status": HoldStatus.ACTIVE.value,
            "seat_ids": json.dumps(wanted),
            "seats": encode_seats(seats),
            "amount": sum(seat.price for seat in seats),
            "currency": info.currency,
            "created_at": now,
            "expires_at": expires_at,
        },
    )
    if request.code is not None:
        discount = _undiscounted(request) - sum(seat.price for seat in seats)
        await codes.reserve(
            uow, request.code, user_id=user_id, hold_id=hold_id, discount=discount, now=now
        )
    uow.record(SeatsHeld(hold_id=hold_id, show_id=show_id, user_id=user_id, seat_ids=wanted))
    held_mark = Mark(HELD_MARK, hold_id, epoch_ms(expires_at))
    uow.on_commit(_board_update(seating_of(runtime), show_id, wanted, held_mark))
    await uow.commit()
    active = HoldStatus.ACTIVE.value
    return HeldSeats(hold_id, show_id, user_id, active, expires_at, info.currency, seats)


def _prices(request: HoldAttempt) -> list[int]:
    """Each wanted seat's price: its type's, or its grade's."""
    grades = request.info.grade_prices
    return [
        pricing.seat_price(grades.get(request.layout.index[s].grade, 0), request.typed.get(s))
        for s in request.wanted
    ]


def _undiscounted(request: HoldAttempt) -> int:
    return sum(_prices(request))


def _held_seats(request: HoldAttempt) -> tuple[HeldSeat, ...]:
    """The seats as held: place, grade, and the price of the type asked for (or the
    grade's), less the code's discount if one was redeemed."""
    prices = code_rules.discounted(_prices(request), request.code)
    seats = []
    for seat_id, price in zip(request.wanted, prices, strict=True):
        p, chosen = request.layout.index[seat_id], request.typed.get(seat_id)
        type_id, type_name = (chosen.id, chosen.name) if chosen else (None, None)
        place = (p.seat_id, p.section, p.row, p.number, p.grade)
        seats.append(HeldSeat(*place, price, type_id, type_name))
    return tuple(seats)


async def check_caps(
    uow: UnitOfWork, show_id: str, chosen: Mapping[str, TicketTypeInfo], now: datetime
) -> None:
    """Each capped type's lock row (in id order), then its seats taken now, against its cap."""
    for need in pricing.capped_needs(chosen):
        await typed.lock_type(uow, show_id, need.ticket_type_id)
        taken = await typed.taken_of_type(uow, show_id, need.ticket_type_id, now)
        if not pricing.within_cap(taken, need.wanted, need.cap):
            raise TicketTypeSoldOut(
                "Not enough tickets of this type are left for this show.",
                ticket_type_id=need.ticket_type_id,
                remaining=max(0, need.cap - taken),
            )


async def check_limit(
    uow: UnitOfWork, info: ShowSaleInfo, user_id: str, wanted: int, now: datetime
) -> None:
    """The (show, user) lock first, so two devices of one buyer claim one at a time; a
    buyer's first claim of the show needs no count."""
    if info.limit_scope == "event":  # the seller's choice: across every show (limits.py)
        owned = await limits.owned_in_event(uow, info.event_id, user_id, now)
    else:
        first = await claims.lock_buyer(uow, info.show_id, user_id)
        owned = 0 if first else await claims.owned_seats(uow, info.show_id, user_id, now)
    limit = info.max_tickets_per_user
    if not domain.within_limit(owned, wanted, limit):
        raise PurchaseLimitExceeded(
            f"At most {limit} seats per person for this {info.limit_scope}; you have {owned}.",
            limit=limit,
            owned=owned,
            scope=info.limit_scope,
        )


@asynccontextmanager
async def database_reachable() -> AsyncIterator[None]:
    """A database that cannot be reached (or takes no more connections) is a 503 with
    Retry-After, never a 500: the client may simply try again."""
    try:
        yield
    except PoolTimeout:
        # Waited out ``database_pool_timeout_seconds``: logged as the platform logs the
        # other contexts' (``backend_unavailable``), so that an operator sees a pressed
        # sale's refused holds beside its refused orders and payments.
        log.warning("backend_unavailable", context="seating", error="TimeoutError")
        raise SeatingBusy(_BUSY) from None
    except DBAPIError as error:
        if unreachable(error):
            log.warning("database_unavailable", error=str(error.orig))
            raise SeatingBusy(_BUSY) from None
        raise


def _board_update(
    adapters: Seating, show_id: str, seat_ids: list[str], mark: Mark
) -> Callable[[], Awaitable[None]]:
    async def update() -> None:
        adapters.snapshots.invalidate(show_id)
        await adapters.board.settle(show_id, seat_ids, mark)

    return update


def board_release(
    adapters: Seating, show_id: str, seat_ids: list[str], owner: str, user_id: str | None
) -> Callable[[], Awaitable[None]]:
    """After commit: free the seats on the board, and tell the waiting room the person is done."""

    async def update() -> None:
        adapters.snapshots.invalidate(show_id)
        try:
            await adapters.board.release(show_id, seat_ids, owner)
        finally:
            if user_id is not None and adapters.admission_finished is not None:
                await adapters.admission_finished(show_id, user_id)

    return update


def board_held(
    adapters: Seating, show_id: str, seat_ids: list[str], hold_id: str, expires_at: datetime
) -> Callable[[], Awaitable[None]]:
    """After commit: the board shows the seats held by ``hold_id`` until ``expires_at``."""
    return _board_update(
        adapters, show_id, seat_ids, Mark(HELD_MARK, hold_id, epoch_ms(expires_at))
    )


def board_sold(
    adapters: Seating, show_id: str, seat_ids: list[str], hold_id: str
) -> Callable[[], Awaitable[None]]:
    return _board_update(adapters, show_id, seat_ids, Mark(SOLD_MARK, hold_id, 0))


async def _quietly(change: Awaitable[None]) -> None:
    try:
        await change
    except (RedisError, OSError) as error:
        log.warning("seat_board_unreachable", error=str(error))
