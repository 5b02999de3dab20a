"""The database side of seating: conditional statements that let the database judge.

Every change of a seat's owner is one ``UPDATE ... WHERE <the seat is still what we
think>``; the number of rows it changed says whether we won. No read-then-write. The
statements are Core, on the unit of work's connection: a hot path pays for SQL, not for
the ORM's per-row bookkeeping.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Row, and_, func, insert, or_, select, update
from sqlalchemy.dialects import mysql, postgresql, sqlite

from boxoffice.platform.db import table_of, update_one
from boxoffice.platform.uow import UnitOfWork
from boxoffice.seating.domain import AVAILABLE, HELD, SOLD
from boxoffice.seating.lifecycle import HoldState, HoldStatus
from boxoffice.seating.models import BuyerLock, Hold, Seat

SEATS, HOLDS, BUYERS = table_of(Seat), table_of(Hold), table_of(BuyerLock)
# What the hold's rules and views need of its row (HoldState, and the seats as held).
HOLD_COLUMNS = (
    HOLDS.c.id,
    HOLDS.c.show_id,
    HOLDS.c.user_id,
    HOLDS.c.status,
    HOLDS.c.expires_at,
    HOLDS.c.order_id,
    HOLDS.c.currency,
    HOLDS.c.seat_ids,
    HOLDS.c.seats,
)


def hold_state(row: Row[Any]) -> HoldState:
    return HoldState(
        row.id, row.show_id, row.user_id, HoldStatus(row.status), row.expires_at, row.order_id
    )


def hold_seat_ids(row: Any) -> list[str]:
    ids: list[str] = json.loads(row.seat_ids)
    return ids


def _free_at(now: datetime) -> ColumnElement[bool]:
    """A seat nobody has at ``now``: available, or held by a hold past its expiry."""
    return or_(
        SEATS.c.status == AVAILABLE,
        and_(SEATS.c.status == HELD, SEATS.c.hold_expires_at <= now),
    )


def _seats_of(show_id: str, seat_ids: Sequence[str]) -> ColumnElement[bool]:
    return and_(SEATS.c.show_id == show_id, SEATS.c.seat_id.in_(seat_ids))


async def lock_buyer(uow: UnitOfWork, show_id: str, user_id: str) -> bool:
    """Take the (show, user) row lock: one user's claims on one show run one at a time.

    Returns True when this is the user's first claim on the show that may commit (the row
    is new): no committed claim came before it, so the user has no seats of the show yet
    and the count can be skipped. Every way to a seat goes through a claim, and a claim
    that rolls back takes its row (or its increment) with it."""
    conn = await uow.connection()
    values = {"show_id": show_id, "user_id": user_id, "claims": 1}
    if conn.dialect.name in ("mysql", "mariadb"):
        my = mysql.insert(BUYERS).values(**values)
        result = await conn.execute(my.on_duplicate_key_update(claims=BUYERS.c.claims + 1))
        return result.rowcount == 1  # 1: inserted, 2: an existing row was updated
    upsert: Any = (
        postgresql.insert(BUYERS) if conn.dialect.name == "postgresql" else sqlite.insert(BUYERS)
    )
    statement = upsert.values(**values).on_conflict_do_update(
        index_elements=["show_id", "user_id"], set_={"claims": BUYERS.c.claims + 1}
    )
    claims = await conn.scalar(statement.returning(BUYERS.c.claims))
    return bool(claims == 1)


async def owned_seats(uow: UnitOfWork, show_id: str, user_id: str, now: datetime) -> int:
    """Seats of the show the user has now: bought, or in a hold that has not expired."""
    conn = await uow.connection()
    count = await conn.scalar(
        select(func.count())
        .select_from(SEATS)
        .where(
            SEATS.c.show_id == show_id,
            SEATS.c.holder_id == user_id,
            or_(
                SEATS.c.status == SOLD,
                and_(SEATS.c.status == HELD, SEATS.c.hold_expires_at > now),
            ),
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
    conn = await uow.connection()
    wanted = and_(_seats_of(show_id, seat_ids), _free_at(now))
    statement = update(SEATS).where(wanted)
    if conn.dialect.name == "postgresql":
        # Lock the rows in seat order, so two claims on overlapping seats queue instead of
        # deadlocking (PostgreSQL updates in physical order, which moves as rows change).
        # InnoDB's primary-key range scan already goes in seat order; SQLite has one writer.
        in_order = select(SEATS.c.seat_id).where(wanted).order_by(SEATS.c.seat_id)
        statement = statement.where(SEATS.c.seat_id.in_(in_order.with_for_update()))
    result = await conn.execute(
        statement.values(
            status=HELD, hold_id=hold_id, holder_id=user_id, hold_expires_at=expires_at
        )
    )
    return int(result.rowcount)


async def taken_among(
    uow: UnitOfWork, show_id: str, seat_ids: Sequence[str], now: datetime
) -> list[str]:
    """Which of ``seat_ids`` someone has at ``now`` (for the 409's ``seat_ids``)."""
    conn = await uow.connection()
    rows = await conn.scalars(
        select(SEATS.c.seat_id).where(
            _seats_of(show_id, seat_ids),
            or_(
                SEATS.c.status == SOLD,
                and_(SEATS.c.status == HELD, SEATS.c.hold_expires_at > now),
            ),
        )
    )
    return sorted(rows)


async def insert_hold(uow: UnitOfWork, values: dict[str, Any]) -> None:
    await (await uow.connection()).execute(insert(HOLDS).values(**values))


async def read_hold(uow: UnitOfWork, hold_id: str, *, lock: bool = False) -> Row[Any] | None:
    statement = select(*HOLD_COLUMNS).where(HOLDS.c.id == hold_id)
    if lock:
        statement = statement.with_for_update()
    return cast("Row[Any] | None", (await (await uow.connection()).execute(statement)).first())


async def update_hold(
    uow: UnitOfWork,
    hold_id: str,
    values: dict[str, Any],
    *,
    when: ColumnElement[bool] | None = None,
) -> Row[Any] | None:
    """Change the hold if ``when`` holds; its row after the change, or None."""
    conn = await uow.connection()
    return await update_one(conn, HOLDS, {"id": hold_id}, values, when=when, returning=HOLD_COLUMNS)


def attachable(user_id: str, now: datetime) -> ColumnElement[bool]:
    """``lifecycle.attach``'s rule for a hold that may take an order now."""
    return and_(
        HOLDS.c.user_id == user_id,
        HOLDS.c.status == HoldStatus.ACTIVE.value,
        HOLDS.c.expires_at > now,
        HOLDS.c.order_id.is_(None),
    )


def sellable_at_once(order_id: str, now: datetime) -> ColumnElement[bool]:
    """``lifecycle.sell``'s common case: an active hold of this order, not lapsed."""
    return and_(
        HOLDS.c.status == HoldStatus.ACTIVE.value,
        HOLDS.c.expires_at > now,
        or_(HOLDS.c.order_id == order_id, HOLDS.c.order_id.is_(None)),
    )


async def end_hold(
    uow: UnitOfWork, hold_id: str, *, status: HoldStatus, reason: str | None, now: datetime
) -> bool:
    """Move an active hold to ``status``; False when it was no longer active."""
    conn = await uow.connection()
    result = await conn.execute(
        update(HOLDS)
        .where(HOLDS.c.id == hold_id, HOLDS.c.status == HoldStatus.ACTIVE.value)
        .values(status=status.value, end_reason=reason, ended_at=now)
    )
    return int(result.rowcount) == 1


async def free_held_seats(uow: UnitOfWork, hold_id: str) -> int:
    """Release the seats this hold still has (not ones sold or taken over since)."""
    conn = await uow.connection()
    result = await conn.execute(
        update(SEATS)
        .where(SEATS.c.hold_id == hold_id, SEATS.c.status == HELD)
        .values(status=AVAILABLE, hold_id=None, holder_id=None, hold_expires_at=None)
    )
    return int(result.rowcount)


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
    conn = await uow.connection()
    result = await conn.execute(
        update(SEATS)
        .where(
            _seats_of(show_id, seat_ids),
            or_(and_(SEATS.c.status == HELD, SEATS.c.hold_id == hold_id), _free_at(now)),
        )
        .values(
            status=SOLD,
            hold_id=hold_id,
            holder_id=user_id,
            hold_expires_at=None,
            order_id=order_id,
        )
    )
    return int(result.rowcount)


async def sold_to(
    uow: UnitOfWork, show_id: str, seat_ids: Sequence[str], order_id: str
) -> list[tuple[str, str | None]]:
    """(seat id, hold id) of the given seats that are sold to ``order_id``."""
    conn = await uow.connection()
    result = await conn.execute(
        select(SEATS.c.seat_id, SEATS.c.hold_id).where(
            _seats_of(show_id, seat_ids), SEATS.c.status == SOLD, SEATS.c.order_id == order_id
        )
    )
    return [(row[0], row[1]) for row in result]


async def unsell_seats(
    uow: UnitOfWork, *, show_id: str, seat_ids: Sequence[str], order_id: str
) -> int:
    """Make the order's sold seats available again; returns how many it freed."""
    conn = await uow.connection()
    result = await conn.execute(
        update(SEATS)
        .where(_seats_of(show_id, seat_ids), SEATS.c.status == SOLD, SEATS.c.order_id == order_id)
        .values(status=AVAILABLE, hold_id=None, holder_id=None, hold_expires_at=None, order_id=None)
    )
    return int(result.rowcount)


async def seat_places(
    uow: UnitOfWork, show_id: str, seat_ids: Sequence[str]
) -> dict[str, tuple[str, str, str, str]]:
    """(section, row, number, grade) of the seats, for holds made before they kept them."""
    conn = await uow.connection()
    rows = await conn.execute(
        select(SEATS.c.seat_id, SEATS.c.section, SEATS.c.row, SEATS.c.number, SEATS.c.grade).where(
            _seats_of(show_id, seat_ids)
        )
    )
    return {row[0]: (row[1], row[2], row[3], row[4]) for row in rows}


async def expired_hold_ids(uow: UnitOfWork, now: datetime, limit: int) -> list[str]:
    conn = await uow.connection()
    rows = await conn.scalars(
        select(HOLDS.c.id)
        .where(HOLDS.c.status == HoldStatus.ACTIVE.value, HOLDS.c.expires_at <= now)
        .order_by(HOLDS.c.expires_at)
        .limit(limit)
    )
    return list(rows)
