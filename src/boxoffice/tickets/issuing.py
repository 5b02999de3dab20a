"""A new valid ticket's row: the one place its columns are set, for the tickets orders has
issued (``service.issue_tickets``) and for the ticket a transfer gives its receiver."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from boxoffice.platform.ids import new_id
from boxoffice.tickets import codes
from boxoffice.tickets.contracts import TicketIssue, TicketSeat

VALID, USED, VOID = "valid", "used", "void"  # a ticket's statuses


def new_ticket(key: bytes, issue: TicketIssue, seat: TicketSeat, now: datetime) -> dict[str, Any]:
    """The row of a valid ticket for ``seat``, with a new id and its code signed with ``key``."""
    ticket_id = new_id()
    return {
        "id": ticket_id,
        "order_id": issue.order_id,
        "user_id": issue.user_id,
        "show_id": issue.show_id,
        "event_id": issue.event_id,
        "seller_id": issue.seller_id,
        "title": issue.title[:200],
        "starts_at": issue.starts_at,
        "seat_id": seat.seat_id,
        "active_seat": seat.seat_id,
        "section": seat.section,
        "row": seat.row,
        "number": seat.number,
        "grade": seat.grade,
        "price": seat.price,
        "currency": issue.currency,
        "status": VALID,
        "code": codes.issue_code(key, ticket_id),
        "issued_at": now,
        "checked_in_at": None,
        "checked_in_by": None,
        "voided_at": None,
    }
