"""What other contexts may know of tickets (plain data)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


class TicketSeat(Protocol):
    """A seat to issue a ticket for: what tickets reads of the seats orders sold, which
    orders passes as seating gave them (a ``HeldSeat``; tickets may not import seating, its
    sibling, so it names the attributes instead of the class)."""

    @property
    def seat_id(self) -> str: ...

    @property
    def section(self) -> str: ...

    @property
    def row(self) -> str: ...

    @property
    def number(self) -> str: ...

    @property
    def grade(self) -> str: ...

    @property
    def price(self) -> int: ...


@dataclass(frozen=True)
class TicketIssue:
    order_id: str
    user_id: str
    show_id: str
    event_id: str
    seller_id: str
    title: str
    starts_at: datetime | None
    currency: str
