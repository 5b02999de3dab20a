"""What other contexts may know of seating (plain data).

Seating fills catalog's ``ShowInventory`` port (a show's seats are made inside catalog's
transaction; seating does not commit) and the waiting room's ``SeatCount`` port. Orders
reads holds as :class:`HeldSeats` and sells them inside its own transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class HeldSeat:
    seat_id: str
    section: str
    row: str
    number: str
    grade: str
    price: int
    ticket_type_id: str | None = None  # None: the grade's base price
    ticket_type_name: str | None = None


@dataclass(frozen=True)
class HeldSeats:
    """A hold as orders sees it: whose, which seats, at what price, until when."""

    hold_id: str
    show_id: str
    user_id: str
    status: str  # active | released | expired | sold
    expires_at: datetime
    currency: str
    seats: tuple[HeldSeat, ...]

    @property
    def amount(self) -> int:
        return sum(seat.price for seat in self.seats)


@dataclass(frozen=True)
class SeatAvailability:
    """How many of a show's seats can be bought now (from the seat board's snapshot)."""

    show_id: str
    total: int
    available: int

    @property
    def sold_out(self) -> bool:
        return self.total > 0 and self.available == 0
