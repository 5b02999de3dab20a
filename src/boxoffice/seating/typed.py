"""The database side of ticket types on seats (``docs/selling.md``).

A capped type is judged like the per-user limit: the claim first upserts the (show, type)
lock row, which serialises the claims of that type on that show until commit, then counts
the show's seats of that type that are taken now (sold, or held and not expired), so
expiry needs no counter to be given back. Only holds that name a capped type run these.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import bindparam, update

from boxoffice.platform.db import table_of
from boxoffice.platform.uow import UnitOfWork
from boxoffice.seating import claims
from boxoffice.seating.models import Seat, TicketTypeLock

SEATS, LOCKS = table_of(Seat), table_of(TicketTypeLock)

_ROW = {"show_id": bindparam("show"), "ticket_type_id": bindparam("type"), "claims": 1}
_LOCK = claims.counter_lock(LOCKS, _ROW, ["show_id", "ticket_type_id"])
_TAKEN_OF_TYPE = claims.taken_count(
    SEATS.c.show_id == bindparam("show"), SEATS.c.ticket_type_id == bindparam("type")
)
_SET_TYPE = (
    update(SEATS)
    .where(
        SEATS.c.show_id == bindparam("show"),
        SEATS.c.seat_id.in_(bindparam("seats", expanding=True)),
        SEATS.c.hold_id == bindparam("hold"),
    )
    .values(ticket_type_id=bindparam("type"))
)


async def lock_type(uow: UnitOfWork, show_id: str, ticket_type_id: str) -> None:
    """Take the (show, type) row lock until commit."""
    conn = await uow.connection()
    dialect = "mysql" if conn.dialect.name in ("mysql", "mariadb") else conn.dialect.name
    await conn.execute(_LOCK[dialect], {"show": show_id, "type": ticket_type_id})


async def taken_of_type(uow: UnitOfWork, show_id: str, ticket_type_id: str, now: datetime) -> int:
    """Seats of the show held (not expired) or sold at this type now."""
    conn = await uow.connection()
    params = {"show": show_id, "type": ticket_type_id, "now": now}
    return int(await conn.scalar(_TAKEN_OF_TYPE, params) or 0)


async def set_types(uow: UnitOfWork, show_id: str, hold_id: str, typed: Mapping[str, str]) -> None:
    """Record on the hold's seats the type each is held at (seat id → type id); one
    statement per type."""
    by_type: dict[str, list[str]] = {}
    for seat_id, type_id in typed.items():
        by_type.setdefault(type_id, []).append(seat_id)
    conn = await uow.connection()
    for type_id, seat_ids in sorted(by_type.items()):
        params = {"show": show_id, "seats": _sorted(seat_ids), "hold": hold_id, "type": type_id}
        await conn.execute(_SET_TYPE, params)


def _sorted(seat_ids: Sequence[str]) -> list[str]:
    return sorted(seat_ids)
