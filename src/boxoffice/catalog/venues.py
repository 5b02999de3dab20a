"""Venues and their seat maps: created in bulk, read back in a fixed number of queries.

A 70,000-seat stadium is one request: the seats go in as chunked multi-row inserts of
plain rows (no ORM object per seat), and come back from one ordered query.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, insert, select

from boxoffice.catalog import domain
from boxoffice.catalog.contracts import STANDING_ROW, SeatSpec
from boxoffice.catalog.domain import RowPlan, SeatPlan, SectionPlan
from boxoffice.catalog.errors import (
    InvalidSeatMap,
    NotVenueOwner,
    SellerNotApproved,
    VenueNotFound,
)
from boxoffice.catalog.models import Venue, VenueSeat, VenueSection
from boxoffice.catalog.schemas import RowIn, SeatIn, VenueCreate
from boxoffice.identity import service as identity
from boxoffice.platform.ids import new_id
from boxoffice.platform.security import Principal, Role
from boxoffice.platform.uow import UnitOfWork

CHUNK = 5000  # rows per INSERT; inside every backend's parameter and packet limits


async def require_approved_seller(uow: UnitOfWork, principal: Principal) -> None:
    """Admins pass; a seller must still be approved (a revoked seller's token is not enough)."""
    if principal.has_role(Role.ADMIN):
        return
    if not principal.has_role(Role.SELLER) or not await identity.is_approved_seller(
        uow, principal.id
    ):
        raise SellerNotApproved("Only approved sellers can do this.")


def _row_plan(row: RowIn) -> RowPlan:
    if isinstance(row.seats, int):
        seats = tuple(SeatPlan(str(n), None, row.y) for n in range(1, row.seats + 1))
    else:
        planned: list[SeatPlan] = []
        for seat in row.seats:
            if isinstance(seat, SeatIn):
                y = seat.y if seat.y is not None else row.y
                planned.append(SeatPlan(str(seat.number), seat.x, y, seat.grade))
            else:
                planned.append(SeatPlan(str(seat), None, row.y))
        seats = tuple(planned)
    return RowPlan(row.label, seats, row.grade)


def plan_sections(body: VenueCreate) -> list[SectionPlan]:
    plans = []
    for section in body.sections:
        rows = tuple(_row_plan(row) for row in section.rows)
        if section.capacity is not None:  # a standing area: one row of numbered places
            places = tuple(SeatPlan(str(n)) for n in range(1, section.capacity + 1))
            rows = (*rows, RowPlan(STANDING_ROW, places))
        plans.append(SectionPlan(section.name, section.grade, rows))
    return plans


def _section_problems(body: VenueCreate) -> list[domain.Problem]:
    """A section has rows or a capacity, not both; no numbered row takes the standing label."""
    problems = []
    for index, section in enumerate(body.sections):
        if bool(section.rows) == (section.capacity is not None):
            message = "a section has numbered rows or a standing capacity (one of them)"
            problems.append(domain.Problem(("sections", index), message))
        for r_index, row in enumerate(section.rows):
            if row.label == STANDING_ROW:
                message = f"the row label {STANDING_ROW!r} is reserved for standing areas"
                problems.append(domain.Problem(("sections", index, "rows", r_index), message))
    return problems


async def create_venue(uow: UnitOfWork, principal: Principal, body: VenueCreate) -> dict[str, Any]:
    """Create a venue and its whole seat map in one transaction; returns the map with seat ids.

    Raises ``InvalidSeatMap`` (422, with ``errors``) for duplicates, an empty map or more than
    ``MAX_VENUE_SEATS`` seats; ``SellerNotApproved`` (403).
    """
    await require_approved_seller(uow, principal)
    sections = plan_sections(body)
    problems = _section_problems(body) or domain.seat_map_problems(sections)
    if problems:
        raise InvalidSeatMap(
            problems[0].msg,
            errors=[{"loc": ["body", *map(str, p.loc)], "msg": p.msg} for p in problems],
        )
    seats = domain.expand_seats(sections)
    now = uow.clock.now()
    venue = Venue(
        id=new_id(),
        seller_id=principal.id,
        name=body.name,
        address=body.address,
        seat_count=len(seats),
        created_at=now,
    )
    session = uow.session
    session.add(venue)
    await session.flush()
    section_rows = [
        {"id": new_id(), "venue_id": venue.id, "name": s.name, "grade": s.grade, "position": i}
        for i, s in enumerate(sections)
    ]
    await session.execute(insert(VenueSection), section_rows)
    seat_rows = [
        {
            "id": new_id(),
            "venue_id": venue.id,
            "position": position,
            "section": seat.section,
            "row": seat.row,
            "number": seat.number,
            "grade": seat.grade,
            "x": seat.x,
            "y": seat.y,
        }
        for position, seat in enumerate(seats)
    ]
    table = cast(Table, VenueSeat.__table__)
    for start in range(0, len(seat_rows), CHUNK):
        await session.execute(insert(table), seat_rows[start : start + CHUNK])
    await uow.commit()
    return render_venue(venue, section_rows, seat_rows)


async def _seat_rows(uow: UnitOfWork, venue_id: str) -> list[dict[str, Any]]:
    result = await uow.session.execute(
        select(
            VenueSeat.id,
            VenueSeat.section,
            VenueSeat.row,
            VenueSeat.number,
            VenueSeat.grade,
            VenueSeat.x,
            VenueSeat.y,
        )
        .where(VenueSeat.venue_id == venue_id)
        .order_by(VenueSeat.position)
    )
    return [dict(row._mapping) for row in result]


async def get_venue(uow: UnitOfWork, venue_id: str) -> dict[str, Any]:
    """The venue with its seat map: three queries whatever the number of seats."""
    venue = await uow.session.get(Venue, venue_id)
    if venue is None:
        raise VenueNotFound()
    sections = await uow.session.execute(
        select(VenueSection.name, VenueSection.grade)
        .where(VenueSection.venue_id == venue_id)
        .order_by(VenueSection.position)
    )
    section_rows = [dict(row._mapping) for row in sections]
    return render_venue(venue, section_rows, await _seat_rows(uow, venue_id))


async def venue_grades(uow: UnitOfWork, venue_id: str, *, used_by: Principal) -> set[str]:
    """The grades the venue's seats use, for an event of ``used_by``: a seller puts events
    only on their own venues (admins on any). Raises ``VenueNotFound``, ``NotVenueOwner``."""
    venue = await uow.session.get(Venue, venue_id)
    if venue is None:
        raise VenueNotFound(f"Venue {venue_id} does not exist.")
    if not used_by.acts_for(venue.seller_id):
        raise NotVenueOwner("A seller can put events only on their own venues.")
    result = await uow.session.scalars(
        select(VenueSeat.grade).where(VenueSeat.venue_id == venue_id).distinct()
    )
    return set(result)


async def seat_specs(uow: UnitOfWork, venue_id: str) -> list[SeatSpec]:
    """The venue's seats as seating creates a show's inventory from them."""
    return [SeatSpec(seat_id=row.pop("id"), **row) for row in await _seat_rows(uow, venue_id)]


def render_venue(
    venue: Venue, sections: Sequence[dict[str, Any]], seats: Sequence[dict[str, Any]]
) -> dict[str, Any]:
    """Sections, rows and seats nested in map order (seats come in position order)."""
    by_section: dict[str, dict[str, Any]] = {
        s["name"]: {"name": s["name"], "grade": s["grade"], "rows": []} for s in sections
    }
    rows: dict[tuple[str, str], list[dict[str, Any]]] = {}
    grades: dict[str, None] = {}
    for seat in seats:
        key = (seat["section"], seat["row"])
        row_seats = rows.get(key)
        if row_seats is None:
            row_seats = rows[key] = []
            by_section[seat["section"]]["rows"].append({"label": seat["row"], "seats": row_seats})
        row_seats.append(
            {
                "id": seat["id"],
                "number": seat["number"],
                "grade": seat["grade"],
                "x": seat["x"],
                "y": seat["y"],
            }
        )
        grades.setdefault(seat["grade"], None)
    return {
        "id": venue.id,
        "seller_id": venue.seller_id,
        "name": venue.name,
        "address": venue.address,
        "seat_count": venue.seat_count,
        "grades": list(grades),
        "created_at": venue.created_at,
        "sections": list(by_section.values()),
    }
