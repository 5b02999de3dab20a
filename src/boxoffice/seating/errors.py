"""seating's refusals (mapped to problem+json by platform.errors)."""

from __future__ import annotations

from boxoffice.platform.errors import Conflict, NotFound, ServiceUnavailable, Unprocessable


class SeatUnavailable(Conflict):
    """Some requested seats are taken; ``seat_ids`` names them."""

    code, title = "seat_unavailable", "Seats are not available"


class HoldLapsed(Conflict):
    """The hold expired or was released before it could be used (code ``hold_expired``)."""

    code, title = "hold_expired", "The hold has expired"


class HoldNotFound(NotFound):
    title = "Hold not found"


class PurchaseLimitExceeded(Unprocessable):
    code, title = "purchase_limit_exceeded", "Purchase limit exceeded"


class UnknownSeats(Unprocessable):
    code, title = "validation_error", "Unknown seats"


class InventoryExists(Conflict):
    title = "The show already has a seat inventory"


class SeatingBusy(ServiceUnavailable):
    title = "Seat selection is busy; try again"


class TicketTypeUnavailable(Unprocessable):
    """A seat was asked at a ticket type it cannot have now (unknown, another grade,
    outside its window, hidden, stopped); ``seat_ids`` and ``ticket_type_id`` say which."""

    code, title = "ticket_type_unavailable", "Ticket type not available"


class TicketTypeSoldOut(Unprocessable):
    """The ticket type's quantity for the show is used up (``ticket_type_id``, ``remaining``)."""

    code, title = "out_of_stock", "Ticket type sold out"


class CodeInvalid(Unprocessable):
    """The presale code or voucher is unknown, stopped or outside its validity window."""

    code, title = "code_invalid", "Code not valid"


class CodeExhausted(Unprocessable):
    """The code has been used as often as allowed (``scope``: ``code`` or ``user``)."""

    code, title = "code_exhausted", "Code used up"


class SeatsStillAvailable(Conflict):
    """The show has free seats: hold one instead of waiting."""

    code, title = "seats_available", "Seats are still available"


class WaitlistEntryNotFound(NotFound):
    title = "Waitlist entry not found"


class StandingSoldOut(Unprocessable):
    """Not enough places left in the standing area (``section``, ``remaining``)."""

    code, title = "out_of_stock", "Not enough standing places left"
