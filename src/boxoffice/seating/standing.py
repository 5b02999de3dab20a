"""Standing (general admission) areas: places sold by quantity (``docs/selling.md``).

A standing area's places are seats of the row ``STANDING_ROW``, so holds, orders and
tickets treat them as seats. A buyer asks for a quantity of a section; the claim's
transaction picks that many free places (PostgreSQL and MariaDB skip the rows other
claims have locked, so racing buyers take different places; SQLite has one writer) and
claims them with the same conditional UPDATE as chosen seats. Fewer free places than
asked: 422 ``out_of_stock`` — never more sold than the area holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import and_, bindparam, or_, select

from boxoffice.catalog.contracts import STANDING_ROW
from boxoffice.platform.db import UTCDateTime, table_of
from boxoffice.platform.uow import UnitOfWork
from boxoffice.seating.domain import AVAILABLE, HELD
from boxoffice.seating.errors import StandingSoldOut, UnknownSeats
from boxoffice.seating.layout import Layout
from boxoffice.seating.models import Seat

SEATS = table_of(Seat)
MAX_QUANTITY = 50


_FREE_PLACES = (
    select(SEATS.c.seat_id)
    .where(
        SEATS.c.show_id == bindparam("show"),
        SEATS.c.section == bindparam("section"),
        SEATS.c.row == STANDING_ROW,
        or_(
            SEATS.c.status == AVAILABLE,
            and_(
                SEATS.c.status == HELD,
                SEATS.c.hold_expires_at <= bindparam("now", type_=UTCDateTime()),
            ),
        ),
    )
    .order_by(SEATS.c.position)
    .limit(bindparam("quantity"))
)
_FREE_PLACES_UNLOCKED = _FREE_PLACES.with_for_update(skip_locked=True)


def check_request(layout: Layout, standing: Mapping[str, int]) -> dict[str, int]:
    """The quantities asked per standing section, each a section of the show that is a
    standing area; else ``UnknownSeats`` (422)."""
    areas = {p.section for p in layout.seats if p.row == STANDING_ROW}
    unknown = sorted(set(standing) - areas)
    if unknown:
        message = f"No standing area {unknown[0]!r} in this show."
        raise UnknownSeats(message, errors=[{"loc": ["body", "standing"], "msg": message}])
    return {section: quantity for section, quantity in standing.items() if quantity > 0}


async def pick(
    uow: UnitOfWork, show_id: str, standing: Mapping[str, int], now: datetime
) -> list[str]:
    """Free places for every section's quantity, locked for this claim (in section order).
    Raises ``StandingSoldOut`` when a section has fewer free places than asked."""
    conn = await uow.connection()
    statement = _FREE_PLACES if conn.dialect.name == "sqlite" else _FREE_PLACES_UNLOCKED
    picked: list[str] = []
    for section, quantity in sorted(standing.items()):
        params = {"show": show_id, "section": section, "quantity": quantity, "now": now}
        places = list(await conn.scalars(statement, params))
        if len(places) < quantity:
            raise StandingSoldOut(
                f"Only {len(places)} standing places left in {section}.",
                section=section,
                remaining=len(places),
            )
        picked += places
    return picked
