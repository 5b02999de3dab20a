"""What other contexts may know of tickets (plain data)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class TicketSeat:
    """A seat to issue a ticket for (orders passes the seats it sold)."""

    seat_id: str
    section: str
    row: str
    number: str
    grade: str
    price: int


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
