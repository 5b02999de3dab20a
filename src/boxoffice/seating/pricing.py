"""Pricing a hold's seats from ticket types, in plain Python (``docs/selling.md``).

A seat the buyer names no type for is sold at its grade's base price (clients that know
nothing of types keep working). A seat named with a type is priced from that type, never
from the client: the type must be of the seat's grade, active, inside its window, and
listed (a hidden type only when something unlocked it, e.g. a presale code).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime

from boxoffice.catalog.contracts import TicketTypeInfo


class TypeRefused(ValueError):
    """A seat cannot have the type asked for; ``reason`` is what the buyer is told."""

    def __init__(self, reason: str, *, seat_id: str, ticket_type_id: str) -> None:
        super().__init__(reason)
        self.reason, self.seat_id, self.ticket_type_id = reason, seat_id, ticket_type_id


@dataclass(frozen=True)
class TypeNeed:
    """How many seats of one capped type a hold asks for, and the type's cap per show."""

    ticket_type_id: str
    wanted: int
    cap: int


def choose_types(
    seat_grades: Mapping[str, str],
    chosen: Mapping[str, str],
    types: Mapping[str, TicketTypeInfo],
    now: datetime,
    unlocked: Collection[str] = (),
) -> dict[str, TicketTypeInfo]:
    """The type of each seat the buyer named one for (seat id → type). ``seat_grades`` are
    the hold's seats; ``types`` the types found by the ids asked for. Raises
    ``TypeRefused`` for the first seat that cannot have its type."""
    typed: dict[str, TicketTypeInfo] = {}
    for seat_id, type_id in sorted(chosen.items()):
        if seat_id not in seat_grades:
            raise TypeRefused(
                "This seat is not in the hold.", seat_id=seat_id, ticket_type_id=type_id
            )
        found = types.get(type_id)
        if found is None or (found.hidden and type_id not in unlocked):
            raise TypeRefused("No such ticket type.", seat_id=seat_id, ticket_type_id=type_id)
        if found.grade != seat_grades[seat_id]:
            message = f"Ticket type {found.name!r} is for {found.grade} seats."
            raise TypeRefused(message, seat_id=seat_id, ticket_type_id=type_id)
        if not found.on_sale_at(now):
            message = f"Ticket type {found.name!r} is not on sale now."
            raise TypeRefused(message, seat_id=seat_id, ticket_type_id=type_id)
        typed[seat_id] = found
    return typed


def seat_price(grade_price: int, ticket_type: TicketTypeInfo | None) -> int:
    return grade_price if ticket_type is None else ticket_type.price


def capped_needs(typed: Mapping[str, TicketTypeInfo]) -> list[TypeNeed]:
    """The capped types the hold takes seats of, in id order (the order their lock rows
    are taken in, so two holds never wait on each other in a circle)."""
    counts = Counter(t.id for t in typed.values())
    caps = {t.id: t.quantity_cap for t in typed.values() if t.quantity_cap is not None}
    return [TypeNeed(type_id, counts[type_id], caps[type_id]) for type_id in sorted(caps)]


def within_cap(taken: int, wanted: int, cap: int) -> bool:
    return taken + wanted <= cap
