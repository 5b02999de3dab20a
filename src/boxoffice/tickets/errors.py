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


class TransferNotFound(NotFound):
    title = "Transfer not found"


class TicketNotTransferable(Conflict):
    """Only a valid ticket moves: a used or void one (``ticket_status``) stays where it is."""

    code, title = "ticket_not_transferable", "This ticket cannot be transferred"


class TransferPending(Conflict):
    code, title = "transfer_pending", "This ticket already has a transfer waiting for an answer"


class TransfersNotAllowed(Conflict):
    code, title = "transfers_not_allowed", "The organiser does not allow transfers of these tickets"


class TransferClosed(Conflict):
    """Past the event's transfer cutoff (``closes_at``), or the show started."""

    code, title = "transfer_closed", "Transfers of this show are closed"


class TransferToSelf(Unprocessable):
    code, title = "transfer_to_self", "A ticket cannot be transferred to its own holder"


class TransferNotPending(Conflict):
    """Already accepted, declined or cancelled (``transfer_status``)."""

    code, title = "transfer_not_pending", "This transfer is no longer waiting for an answer"
