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
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

import structlog
from redis.exceptions import RedisError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from boxoffice.catalog.contracts import ShowSaleInfo
from boxoffice.platform.db import retry_transaction, unreachable
from boxoffice.platform.ids import new_id
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.uow import UnitOfWork
from boxoffice.seating import claims, domain
from boxoffice.seating.adapters import Seating, seating_of
from boxoffice.seating.contracts import HeldSeat, HeldSeats
from boxoffice.seating.domain import HELD_MARK, PENDING_MARK, SOLD_MARK, Mark, epoch_ms
from boxoffice.seating.errors import (
    PurchaseLimitExceeded,
    SeatingBusy,
    SeatUnavailable,
    UnknownSeats,
)
from boxoffice.seating.events import HoldReleased, SeatsHeld
from boxoffice.seating.models import Hold
from boxoffice.seating.snapshot import Layout, SeatPlace

log = structlog.get_logger("boxoffice.seating")
ATTEMPTS = 4  # a deadlock or serialization failure is retried; then 503
# How stale the sale info that refuses a contended attempt may be (docs/seating.md); an
# attempt the board lets through is checked again against the current one.
SALE_INFO_SECONDS = 1.0
# Re-reads the sale info in the claim's unit of work (checking it again) before the claim.
Confirm = Callable[[UnitOfWork], Awaitable[ShowSaleInfo]]


async def hold(
    uow: UnitOfWork | None,
    runtime: Runtime,
    info: ShowSaleInfo,
    *,
    user_id: str,
    seat_ids: Sequence[str],
    confirm: Confirm | None = None,
) -> HeldSeats:
    """Hold ``seat_ids`` for ``user_id`` (sale window and admission already checked).
    Commits. Raises ``SeatUnavailable``, ``PurchaseLimitExceeded``, ``UnknownSeats``.

    With ``uow`` None the unit of work is opened only once the board has marked the seats:
    an attempt the board refuses does no database work at all. ``confirm``, when given, is
    called in that unit of work before the claim and returns the sale info to hold with
    (``info`` may then be a little old: it only decided the board's refusals); whatever it
    raises refuses the attempt."""
    adapters = seating_of(runtime)
    try:
        wanted = domain.requested_seats(seat_ids)
    except domain.InvalidSeatRequest as error:
        raise UnknownSeats(str(error), errors=_seat_errors(str(error))) from None
    _within_request_limit(info, wanted)
    layout = await adapters.snapshots.layout(info.show_id)
    unknown = domain.unknown_seats(wanted, layout.index)
    if unknown:
        message = "Some seats do not exist in this show."
        raise UnknownSeats(message, seat_ids=unknown, errors=_seat_errors(message))

    now = runtime.clock.now() if uow is None else uow.clock.now()
    hold_id = new_id()
    pending = Mark(
        PENDING_MARK, hold_id, epoch_ms(now + timedelta(seconds=domain.PENDING_MARK_SECONDS))
    )
    marked = await _mark(adapters, info.show_id, wanted, pending, epoch_ms(now))
    try:
        async with _unit_of_work(runtime, uow) as claiming:
            if confirm is not None:
                info = await confirm(claiming)
                _within_request_limit(info, wanted)
            return await _claim(
                claiming,
                runtime,
                info,
                layout,
                user_id=user_id,
                wanted=wanted,
                hold_id=hold_id,
                now=now,
                expires_at=domain.hold_expiry(now, info.hold_minutes),
            )
    except PoolTimeout:
        if marked:
            await _quietly(adapters.board.unmark(info.show_id, wanted, hold_id))
        raise SeatingBusy("Seat selection is busy; try again in a moment.") from None
    except BaseException:
        if marked:
            await _quietly(adapters.board.unmark(info.show_id, wanted, hold_id))
        raise


@asynccontextmanager
async def _unit_of_work(runtime: Runtime, given: UnitOfWork | None) -> AsyncIterator[UnitOfWork]:
    if given is not None:
        yield given
        return
    async with runtime.uow() as uow:
        yield uow


def _within_request_limit(info: ShowSaleInfo, wanted: list[str]) -> None:
    limit = info.max_tickets_per_user
    if not domain.within_limit(0, len(wanted), limit):
        raise PurchaseLimitExceeded(f"At most {limit} seats per person for this show.", limit=limit)


def _seat_errors(message: str) -> list[dict[str, object]]:
    return [{"loc": ["body", "seat_ids"], "msg": message}]


async def _mark(
    adapters: Seating,
    show_id: str,
    wanted: list[str],
    pending: Mark,
    now_ms: int,
) -> bool:
    """True when the board marked the seats for us; False when it could not be asked (the
    database alone judges then). Raises ``SeatUnavailable`` for seats the board has taken."""
    board = adapters.board
    try:
        outcome = await board.mark(show_id, wanted, pending, now_ms)
        if (
            outcome.status == "cold"
        ):  # reload it for the next requests; the database judges this one
            await adapters.snapshots.load_in_background(show_id)
            return False
    except (RedisError, OSError) as error:
        log.warning("seat_board_unreachable", show_id=show_id, error=str(error))
        return False
    if outcome.status == "taken":
        raise SeatUnavailable("Some seats were just taken.", seat_ids=sorted(outcome.taken))
    return outcome.status == "ok"


async def _claim(
    uow: UnitOfWork,
    runtime: Runtime,
    info: ShowSaleInfo,
    layout: Layout,
    *,
    user_id: str,
    wanted: list[str],
    hold_id: str,
    now: datetime,
    expires_at: datetime,
) -> HeldSeats:
    adapters = seating_of(runtime)
    show_id, limit = info.show_id, info.max_tickets_per_user
    prices = [info.grade_prices.get(layout.index[s].grade, 0) for s in wanted]
    for attempt in range(ATTEMPTS):
        try:
            first = await claims.lock_buyer(uow, show_id, user_id)
            owned = 0 if first else await claims.owned_seats(uow, show_id, user_id, now)
            if not domain.within_limit(owned, len(wanted), limit):
                await uow.rollback()
                raise PurchaseLimitExceeded(
                    f"At most {limit} seats per person for this show; you have {owned}.",
                    limit=limit,
                    owned=owned,
                )
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
                await uow.rollback()
                raise SeatUnavailable("Some seats were just taken.", seat_ids=taken or wanted)
            uow.session.add(
                Hold(
                    id=hold_id,
                    show_id=show_id,
                    user_id=user_id,
                    status="active",
                    seat_ids=json.dumps(wanted),
                    amount=sum(prices),
                    currency=info.currency,
                    created_at=now,
                    expires_at=expires_at,
                )
            )
            uow.record(
                SeatsHeld(hold_id=hold_id, show_id=show_id, user_id=user_id, seat_ids=wanted)
            )
            held_mark = Mark(HELD_MARK, hold_id, epoch_ms(expires_at))
            uow.on_commit(_board_update(adapters, show_id, wanted, held_mark))
            await uow.commit()
        except DBAPIError as error:
            await uow.rollback()
            if not retry_transaction(error):
                raise
            log.info("seat_claim_retry", show_id=show_id, attempt=attempt + 1)
            continue
        return HeldSeats(
            hold_id=hold_id,
            show_id=show_id,
            user_id=user_id,
            status="active",
            expires_at=expires_at,
            currency=info.currency,
            seats=tuple(
                _held_seat(layout.index[s], price) for s, price in zip(wanted, prices, strict=True)
            ),
        )
    raise SeatingBusy("Seat selection is busy; try again in a moment.")


@asynccontextmanager
async def database_reachable() -> AsyncIterator[None]:
    """A database that cannot be reached (or takes no more connections) is a 503 with
    Retry-After, never a 500: the client may simply try again."""
    try:
        yield
    except PoolTimeout:
        raise SeatingBusy("Seat selection is busy; try again in a moment.") from None
    except DBAPIError as error:
        if unreachable(error):
            log.warning("database_unavailable", error=str(error.orig))
            raise SeatingBusy("Seat selection is busy; try again in a moment.") from None
        raise


def _held_seat(place: SeatPlace, price: int) -> HeldSeat:
    return HeldSeat(place.seat_id, place.section, place.row, place.number, place.grade, price)


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
            await adapters.board.unmark(show_id, seat_ids, owner)
        finally:
            if user_id is not None and adapters.admission_finished is not None:
                await adapters.admission_finished(show_id, user_id)

    return update


def board_sold(
    adapters: Seating, show_id: str, seat_ids: list[str], hold_id: str
) -> Callable[[], Awaitable[None]]:
    return _board_update(adapters, show_id, seat_ids, Mark(SOLD_MARK, hold_id, 0))


async def _quietly(change: Awaitable[None]) -> None:
    try:
        await change
    except (RedisError, OSError) as error:
        log.warning("seat_board_unreachable", error=str(error))


async def release(
    uow: UnitOfWork, runtime: Runtime, hold: Hold, *, reason: str, now: datetime
) -> bool:
    """End an active hold and free its seats (no commit); False if it was not active."""
    if not await claims.end_hold(uow, hold.id, status="released", reason=reason, now=now):
        return False
    seat_ids = claims.hold_seat_ids(hold)
    await claims.free_held_seats(uow, hold.id)
    uow.record(
        HoldReleased(
            hold_id=hold.id,
            show_id=hold.show_id,
            user_id=hold.user_id,
            seat_ids=seat_ids,
            reason=reason,
        )
    )
    uow.on_commit(board_release(seating_of(runtime), hold.show_id, seat_ids, hold.id, hold.user_id))
    return True
