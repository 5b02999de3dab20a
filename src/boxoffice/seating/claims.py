"""The database side of seating: conditional statements that let the database judge.

Every change of a seat's owner is one ``UPDATE ... WHERE <the seat is still what we
think>``; the number of rows it changed says whether we won. No read-then-write.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, and_, func, or_, select, update
from sqlalchemy.dialects import mysql, postgresql, sqlite

from boxoffice.platform.uow import UnitOfWork
from boxoffice.seating.domain import AVAILABLE, HELD, SOLD
from boxoffice.seating.models import BuyerLock, Hold, Seat


def _rowcount(result: Any) -> int:
    assert isinstance(result, CursorResult)
    return int(result.rowcount)


def _free_at(now: datetime) -> Any:
    """A seat nobody has at ``now``: available, or held by a hold past its expiry."""
    return or_(
        Seat.status == AVAILABLE,
        and_(Seat.status == HELD, Seat.hold_expires_at <= now),
    )


async def lock_buyer(uow: UnitOfWork, show_id: str, user_id: str) -> bool:
    """Take the (show, user) row lock: one user's claims on one show run one at a time.

    Returns True when this is the user's first claim on the show that may commit (the row
    is new): no committed claim came before it, so the user has no seats of the show yet
    and the count can be skipped. Every way to a seat goes through a claim, and a claim
    that rolls back takes its row (or its increment) with it."""
    session = uow.session
    dialect = session.get_bind().dialect.name
    values = {"show_id": show_id, "user_id": user_id, "claims": 1}
    if dialect in ("mysql", "mariadb"):
        my = mysql.insert(BuyerLock).values(**values)
        result = await session.execute(my.on_duplicate_key_update(claims=BuyerLock.claims + 1))
        return _rowcount(result) == 1  # 1: inserted, 2: an existing row was updated
    statement: Any
    if dialect == "postgresql":
        statement = postgresql.insert(BuyerLock).values(**values)
    else:
        statement = sqlite.insert(BuyerLock).values(**values)
    upsert = statement.on_conflict_do_update(
        index_elements=["show_id", "user_id"], set_={"claims": BuyerLock.claims + 1}
    ).returning(BuyerLock.claims)
    claims = await session.scalar(upsert)
    return bool(claims == 1)


async def owned_seats(uow: UnitOfWork, show_id: str, user_id: str, now: datetime) -> int:
    """Seats of the show the user has now: bought, or in a hold that has not expired."""
    count = await uow.session.scalar(
        select(func.count())
        .select_from(Seat)
        .where(
            Seat.show_id == show_id,
            Seat.holder_id == user_id,
            or_(Seat.status == SOLD, and_(Seat.status == HELD, Seat.hold_expires_at > now)),
        )
    )
    return int(count or 0)


async def claim(
    uow: UnitOfWork,
    *,
    show_id: str,
    seat_ids: Sequence[str],
    hold_id: str,
    user_id: str,
    expires_at: datetime,
    now: datetime,
) -> int:
    """Hold every seat that is free at ``now``; returns how many it took (all-or-nothing is
    the caller's rollback when this is fewer than asked)."""
    wanted = (Seat.show_id == show_id, Seat.seat_id.in_(seat_ids), _free_at(now))
    statement = update(Seat).where(*wanted)
    if uow.session.get_bind().dialect.name == "postgresql":
        # Lock the rows in seat order, so two claims on overlapping seats queue instead of
        # deadlocking (PostgreSQL updates in physical order, which moves as rows change).
        # InnoDB's primary-key range scan already goes in seat order; SQLite has one writer.
        in_order = select(Seat.seat_id).where(*wanted).order_by(Seat.seat_id).with_for_update()
        statement = statement.where(Seat.seat_id.in_(in_order.scalar_subquery()))
    result = await uow.session.execute(
        statement.values(
            status=HELD, hold_id=hold_id, holder_id=user_id, hold_expires_at=expires_at
        ).execution_options(synchronize_session=False)
    )
    return _rowcount(result)


async def taken_among(
    uow: UnitOfWork, show_id: str, seat_ids: Sequence[str], now: datetime
) -> list[str]:
    """Which of ``seat_ids`` someone has at ``now`` (for the 409's ``seat_ids``)."""
    rows = await uow.session.scalars(
        select(Seat.seat_id).where(
            Seat.show_id == show_id,
            Seat.seat_id.in_(seat_ids),
            or_(Seat.status == SOLD, and_(Seat.status == HELD, Seat.hold_expires_at > now)),
        )
    )
    return sorted(rows)


async def free_held_seats(uow: UnitOfWork, hold_id: str) -> int:
    """Release the seats this hold still has (not ones sold or taken over since)."""
    result = await uow.session.execute(
        update(Seat)
        .where(Seat.hold_id == hold_id, Seat.status == HELD)
        .values(status=AVAILABLE, hold_id=None, holder_id=None, hold_expires_at=None)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result)


async def sell_seats(
    uow: UnitOfWork,
    *,
    show_id: str,
    seat_ids: Sequence[str],
    hold_id: str,
    user_id: str,
    order_id: str,
    now: datetime,
) -> int:
    """Sell the hold's seats: still held by it (even past expiry), or free again and not
    taken by anyone since. Returns how many rows became sold."""
    result = await uow.session.execute(
        update(Seat)
        .where(
            Seat.show_id == show_id,
            Seat.seat_id.in_(seat_ids),
            or_(and_(Seat.status == HELD, Seat.hold_id == hold_id), _free_at(now)),
        )
        .values(
            status=SOLD,
            hold_id=hold_id,
            holder_id=user_id,
            hold_expires_at=None,
            order_id=order_id,
        )
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result)


async def sold_to_order(
    uow: UnitOfWork, show_id: str, seat_ids: Sequence[str], order_id: str
) -> int:
    count = await uow.session.scalar(
        select(func.count())
        .select_from(Seat)
        .where(
            Seat.show_id == show_id,
            Seat.seat_id.in_(seat_ids),
            Seat.status == SOLD,
            Seat.order_id == order_id,
        )
    )
    return int(count or 0)


async def unsell_seats(
    uow: UnitOfWork, *, show_id: str, seat_ids: Sequence[str], order_id: str
) -> list[str]:
    """Make the order's sold seats available again; returns the seats it freed."""
    freed = list(
        await uow.session.scalars(
            select(Seat.seat_id).where(
                Seat.show_id == show_id,
                Seat.seat_id.in_(seat_ids),
                Seat.status == SOLD,
                Seat.order_id == order_id,
            )
        )
    )
    if freed:
        await uow.session.execute(
            update(Seat)
            .where(
                Seat.show_id == show_id,
                Seat.seat_id.in_(freed),
                Seat.status == SOLD,
                Seat.order_id == order_id,
            )
            .values(
                status=AVAILABLE, hold_id=None, holder_id=None, hold_expires_at=None, order_id=None
            )
            .execution_options(synchronize_session=False)
        )
    return freed


async def end_hold(
    uow: UnitOfWork, hold_id: str, *, status: str, reason: str | None, now: datetime
) -> bool:
    """Move an active hold to ``status``; False when it was no longer active."""
    result = await uow.session.execute(
        update(Hold)
        .where(Hold.id == hold_id, Hold.status == "active")
        .values(status=status, end_reason=reason, ended_at=now)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1


async def expired_hold_ids(uow: UnitOfWork, now: datetime, limit: int) -> list[str]:
    rows = await uow.session.scalars(
        select(Hold.id)
        .where(Hold.status == "active", Hold.expires_at <= now)
        .order_by(Hold.expires_at)
        .limit(limit)
    )
    return list(rows)


def hold_seat_ids(hold: Hold) -> list[str]:
    ids: list[str] = json.loads(hold.seat_ids)
    return ids
