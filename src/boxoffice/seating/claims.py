"""The database side of seating: conditional statements that let the database judge.

Every change of a seat's owner is one ``UPDATE ... WHERE <the seat is still what we
think>``; the number of rows it changed says whether we won. No read-then-write. The
statements are Core, built once at import with bound parameters and run on the unit of
work's connection: a hot path pays for SQL, not for building statements or for the ORM's
per-row bookkeeping.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    String,
    Table,
    and_,
    bindparam,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import mysql, postgresql, sqlite

from boxoffice.platform.db import RowUpdate, UTCDateTime, table_of
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
    HOLDS.c.code_id,
)
_NOW = bindparam("now", type_=UTCDateTime())
_ACTIVE = HoldStatus.ACTIVE.value


def hold_state(row: Row[Any]) -> HoldState:
    return HoldState(
        row.id, row.show_id, row.user_id, HoldStatus(row.status), row.expires_at, row.order_id
    )


def hold_seat_ids(row: Any) -> list[str]:
    ids: list[str] = json.loads(row.seat_ids)
    return ids


def _free_at_now() -> ColumnElement[bool]:
    """A seat nobody has at ``:now``: available, or held by a hold past its expiry."""
    return or_(
        SEATS.c.status == AVAILABLE,
        and_(SEATS.c.status == HELD, SEATS.c.hold_expires_at <= _NOW),
    )


def taken_at_now() -> ColumnElement[bool]:
    """A seat somebody has at ``:now``: sold, or held by a hold not yet expired."""
    return or_(SEATS.c.status == SOLD, and_(SEATS.c.status == HELD, SEATS.c.hold_expires_at > _NOW))


def taken_count(*where: ColumnElement[bool]) -> Select[int]:
    """How many of the seats that ``where`` picks are taken at ``:now``."""
    return select(func.count()).select_from(SEATS).where(*where, taken_at_now())


def counter_lock(table: Table, row: dict[str, Any], keys: list[str]) -> dict[str, Any]:
    """Per dialect (``postgresql``, ``sqlite``, ``mysql``), the upsert of ``row`` that adds
    one to the existing row's ``claims`` instead: the row stays locked until commit, so the
    claims that take it run one at a time. PostgreSQL and SQLite return the new ``claims``
    (1: the row is new); on MySQL the rows counted say it (1: inserted, 2: updated)."""
    bump = {"claims": table.c.claims + 1}
    return {
        "postgresql": postgresql.insert(table)
        .values(row)
        .on_conflict_do_update(index_elements=keys, set_=bump)
        .returning(table.c.claims),
        "sqlite": sqlite.insert(table)
        .values(row)
        .on_conflict_do_update(index_elements=keys, set_=bump)
        .returning(table.c.claims),
        "mysql": mysql.insert(table).values(row).on_duplicate_key_update(**bump),
    }


# Parameters are named apart from columns: SQLAlchemy reserves a column's name for the
# value of that column in a statement's VALUES or SET.
_THE_SEATS = and_(
    SEATS.c.show_id == bindparam("show"),
    SEATS.c.seat_id.in_(bindparam("seats", expanding=True)),
)

# --- the buyer's lock, and what they have -------------------------------------------------

_BUYER = {"show_id": bindparam("show"), "user_id": bindparam("buyer"), "claims": 1}
_LOCK_BUYER = counter_lock(BUYERS, _BUYER, ["show_id", "user_id"])
_OWNED = taken_count(SEATS.c.show_id == bindparam("show"), SEATS.c.holder_id == bindparam("buyer"))


async def lock_buyer(uow: UnitOfWork, show_id: str, user_id: str) -> bool:
    """Take the (show, user) row lock: one user's claims on one show run one at a time.

    Returns True when this is the user's first claim on the show that may commit (the row
    is new): no committed claim came before it, so the user has no seats of the show yet
    and the count can be skipped. Every way to a seat goes through a claim, and a claim
    that rolls back takes its row (or its increment) with it."""
    conn = await uow.connection()
    params = {"show": show_id, "buyer": user_id}
    dialect = conn.dialect.name
    if dialect in ("mysql", "mariadb"):
        result = await conn.execute(_LOCK_BUYER["mysql"], params)
        return result.rowcount == 1  # 1: inserted, 2: an existing row was updated
    return bool(await conn.scalar(_LOCK_BUYER[dialect], params) == 1)


async def owned_seats(uow: UnitOfWork, show_id: str, user_id: str, now: datetime) -> int:
    """Seats of the show the user has now: bought, or in a hold that has not expired."""
    conn = await uow.connection()
    count = await conn.scalar(_OWNED, {"show": show_id, "buyer": user_id, "now": now})
    return int(count or 0)


# --- claiming seats ------------------------------------------------------------------------

_HOLD_THEM = {
    "status": HELD,
    "hold_id": bindparam("hold"),
    "holder_id": bindparam("buyer"),
    "hold_expires_at": bindparam("until", type_=UTCDateTime()),
    "ticket_type_id": None,  # the base price; a typed hold sets its types next (typed.py)
}
_CLAIM = update(SEATS).where(_THE_SEATS, _free_at_now()).values(_HOLD_THEM)
# PostgreSQL: lock the rows in seat order, so two claims on overlapping seats queue instead
# of deadlocking (it updates in physical order, which moves as rows change). InnoDB's
# primary-key range scan already goes in seat order; SQLite has one writer.
_CLAIM_IN_ORDER = _CLAIM.where(
    SEATS.c.seat_id.in_(
        select(SEATS.c.seat_id)
        .where(_THE_SEATS, _free_at_now())
        .order_by(SEATS.c.seat_id)
        .with_for_update()
    )
)
_TAKEN = select(SEATS.c.seat_id).where(_THE_SEATS, taken_at_now())


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
    statement = _CLAIM_IN_ORDER if conn.dialect.name == "postgresql" else _CLAIM
    params: dict[str, Any] = {"show": show_id, "seats": list(seat_ids), "hold": hold_id}
    params |= {"buyer": user_id, "until": expires_at, "now": now}
    return int((await conn.execute(statement, params)).rowcount)


async def taken_among(
    uow: UnitOfWork, show_id: str, seat_ids: Sequence[str], now: datetime
) -> list[str]:
    """Which of ``seat_ids`` someone has at ``now`` (for the 409's ``seat_ids``)."""
    conn = await uow.connection()
    params = {"show": show_id, "seats": list(seat_ids), "now": now}
    return sorted(await conn.scalars(_TAKEN, params))


# --- the hold's row ------------------------------------------------------------------------

_INSERT_HOLD = insert(HOLDS)
_READ_HOLD = select(*HOLD_COLUMNS).where(HOLDS.c.id == bindparam("hold"))
_READ_HOLD_LOCKED = _READ_HOLD.with_for_update()
# lifecycle.attach's rule for a hold that may take an order now.
ATTACH = RowUpdate(
    HOLDS,
    sets=["order_id"],
    returning=HOLD_COLUMNS,
    when=and_(
        HOLDS.c.user_id == bindparam("buyer", type_=String()),
        HOLDS.c.status == _ACTIVE,
        HOLDS.c.expires_at > _NOW,
        HOLDS.c.order_id.is_(None),
    ),
)
ATTACH_ANYWAY = RowUpdate(HOLDS, sets=["order_id"], returning=HOLD_COLUMNS)
_SOLD = ["status", "order_id", "ended_at", "end_reason"]
# lifecycle.sell's common case: an active hold of this order, not lapsed.
SELL_AT_ONCE = RowUpdate(
    HOLDS,
    sets=_SOLD,
    returning=HOLD_COLUMNS,
    when=and_(
        HOLDS.c.status == _ACTIVE,
        HOLDS.c.expires_at > _NOW,
        or_(
            HOLDS.c.order_id == bindparam("for_order", type_=String()),
            HOLDS.c.order_id.is_(None),
        ),
    ),
)
SELL_ANYWAY = RowUpdate(HOLDS, sets=_SOLD, returning=HOLD_COLUMNS)
_END_HOLD = (
    update(HOLDS)
    .where(HOLDS.c.id == bindparam("hold"), HOLDS.c.status == _ACTIVE)
    .values(status=bindparam("new_status"), end_reason=bindparam("reason"), ended_at=_NOW)
)
_DUE = (
    select(HOLDS.c.id)
    .where(HOLDS.c.status == _ACTIVE, HOLDS.c.expires_at <= _NOW)
    .order_by(HOLDS.c.expires_at)
    .limit(bindparam("limit"))
)


async def insert_hold(uow: UnitOfWork, values: dict[str, Any]) -> None:
    await (await uow.connection()).execute(_INSERT_HOLD, values)


async def read_hold(uow: UnitOfWork, hold_id: str, *, lock: bool = False) -> Row[Any] | None:
    statement = _READ_HOLD_LOCKED if lock else _READ_HOLD
    found = (await (await uow.connection()).execute(statement, {"hold": hold_id})).first()
    return cast("Row[Any] | None", found)


async def end_hold(
    uow: UnitOfWork, hold_id: str, *, status: HoldStatus, reason: str | None, now: datetime
) -> bool:
    """Move an active hold to ``status``; False when it was no longer active."""
    params = {"hold": hold_id, "new_status": status.value, "reason": reason, "now": now}
    return int((await (await uow.connection()).execute(_END_HOLD, params)).rowcount) == 1


async def expired_hold_ids(uow: UnitOfWork, now: datetime, limit: int) -> list[str]:
    rows = await (await uow.connection()).scalars(_DUE, {"now": now, "limit": limit})
    return list(rows)


# --- selling, releasing and giving seats back -------------------------------------------------

_FREE_HELD = (
    update(SEATS)
    .where(SEATS.c.hold_id == bindparam("hold"), SEATS.c.status == HELD)
    .values(status=AVAILABLE, hold_id=None, holder_id=None, hold_expires_at=None)
)
_SELL_SEATS = (
    update(SEATS)
    .where(
        _THE_SEATS,
        or_(and_(SEATS.c.status == HELD, SEATS.c.hold_id == bindparam("hold")), _free_at_now()),
    )
    .values(
        status=SOLD,
        hold_id=bindparam("hold"),
        holder_id=bindparam("buyer"),
        hold_expires_at=None,
        order_id=bindparam("order"),
    )
)
_SOLD_TO = select(SEATS.c.seat_id, SEATS.c.hold_id).where(
    _THE_SEATS, SEATS.c.status == SOLD, SEATS.c.order_id == bindparam("order")
)
_UNSELL = (
    update(SEATS)
    .where(_THE_SEATS, SEATS.c.status == SOLD, SEATS.c.order_id == bindparam("order"))
    .values(status=AVAILABLE, hold_id=None, holder_id=None, hold_expires_at=None, order_id=None)
)
_PLACES = select(
    SEATS.c.seat_id, SEATS.c.section, SEATS.c.row, SEATS.c.number, SEATS.c.grade
).where(_THE_SEATS)


async def free_held_seats(uow: UnitOfWork, hold_id: str) -> int:
    """Release the seats this hold still has (not ones sold or taken over since)."""
    result = await (await uow.connection()).execute(_FREE_HELD, {"hold": hold_id})
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
    params: dict[str, Any] = {"show": show_id, "seats": list(seat_ids), "hold": hold_id}
    params |= {"buyer": user_id, "order": order_id, "now": now}
    return int((await (await uow.connection()).execute(_SELL_SEATS, params)).rowcount)


async def sold_to(
    uow: UnitOfWork, show_id: str, seat_ids: Sequence[str], order_id: str
) -> list[tuple[str, str | None]]:
    """(seat id, hold id) of the given seats that are sold to ``order_id``."""
    params = {"show": show_id, "seats": list(seat_ids), "order": order_id}
    result = await (await uow.connection()).execute(_SOLD_TO, params)
    return [(row[0], row[1]) for row in result]


async def unsell_seats(
    uow: UnitOfWork, *, show_id: str, seat_ids: Sequence[str], order_id: str
) -> int:
    """Make the order's sold seats available again; returns how many it freed."""
    params = {"show": show_id, "seats": list(seat_ids), "order": order_id}
    return int((await (await uow.connection()).execute(_UNSELL, params)).rowcount)


async def seat_places(
    uow: UnitOfWork, show_id: str, seat_ids: Sequence[str]
) -> dict[str, tuple[str, str, str, str]]:
    """(section, row, number, grade) of the seats, for holds made before they kept them."""
    params = {"show": show_id, "seats": list(seat_ids)}
    rows = await (await uow.connection()).execute(_PLACES, params)
    return {row[0]: (row[1], row[2], row[3], row[4]) for row in rows}
