"""tickets' refusals."""

from __future__ import annotations

from boxoffice.platform.errors import Conflict, Forbidden, NotFound, Unprocessable


class TicketNotFound(NotFound):
    title = "Ticket not found"


class InvalidTicketCode(Unprocessable):
    code, title = "invalid_ticket_code", "This is not a valid ticket code"


class TicketVoid(Unprocessable):
    code, title = "ticket_void", "This ticket is void"


class AlreadyCheckedIn(Conflict):
    """Second scan; ``checked_in_at`` says when the first one was."""

    code, title = "already_checked_in", "Ticket already checked in"


class NotYourEvent(Forbidden):
    title = "Only staff or the event's seller can check tickets in"


class WrongShow(Conflict):
    """The ticket is genuine and live, but for another show (another night, another event):
    the door turns it away and the ticket stays valid."""

    code, title = "wrong_show", "This ticket is for another show"
