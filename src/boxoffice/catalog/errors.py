"""catalog's refusals."""

from __future__ import annotations

from boxoffice.platform.errors import BadRequest, Conflict, Forbidden, NotFound, Unprocessable


class VenueNotFound(NotFound):
    title = "Venue not found"


class EventNotFound(NotFound):
    title = "Event not found"


class ShowNotFound(NotFound):
    title = "Show not found"


class SaleNotOpen(Unprocessable):
    """Tickets or goods of a show are not on sale now (before, after, or sold out)."""

    code, title = "sale_not_open", "The sale is not open"


class CategoryNotFound(NotFound):
    title = "Category not found"


class NotEventOwner(Forbidden):
    title = "Only the event's seller may change it"


class NotVenueOwner(Forbidden):
    title = "Events go on the seller's own venues"


class SellerNotApproved(Forbidden):
    title = "The seller account is not approved"


class InvalidSeatMap(Unprocessable):
    title = "The seat map is not valid"


class InvalidEvent(Unprocessable):
    title = "The event is not valid"


class EventStateConflict(Conflict):
    title = "The event cannot do that in its current state"


class ShowExists(Conflict):
    title = "The event already has a show at that time"


class CategoryExists(Conflict):
    title = "The category already exists"


class InvalidCursor(BadRequest):
    title = "Invalid cursor"


class TicketTypeNotFound(NotFound):
    title = "Ticket type not found"
