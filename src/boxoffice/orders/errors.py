"""orders' refusals."""

from __future__ import annotations

from boxoffice.platform.errors import (
    BadGateway,
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    Unprocessable,
)


class OrderNotFound(NotFound):
    title = "Order not found"


class OrderNotPayable(Conflict):
    code, title = "order_not_payable", "The order cannot be paid"


class PaymentInProgress(Conflict):
    code, title = "conflict", "A payment for this order is in progress"


class PaymentAmountMismatch(Unprocessable):
    code, title = "payment_amount_mismatch", "The amount does not match the order"


class PaymentRejected(Unprocessable):
    """The provider refused (card declined, ...); ``provider_code`` says why. Nothing was taken."""

    code, title = "payment_rejected", "The payment was refused"


class PaymentProviderError(BadGateway):
    """The provider failed or did not answer; a pending outcome is settled by reconciliation."""

    code, title = "payment_provider_error", "The payment provider did not complete the request"


class ProviderNotAvailable(Unprocessable):
    code, title = "validation_error", "This payment provider is not available"


class CancellationClosed(Conflict):
    code, title = "cancellation_closed", "The order can no longer be cancelled"


class TicketsUsed(Conflict):
    """A ticket of the order was checked in: the show was delivered, so the order is not
    refunded unless an operator says so explicitly; ``used_tickets`` says how many."""

    code, title = "ticket_used", "A ticket of this order was already used"


class OrderNotCancellable(Conflict):
    code, title = "conflict", "The order cannot be cancelled in its state"


class IdempotencyKeyMissing(BadRequest):
    code, title = "bad_request", "Idempotency-Key header required"


class EmptyOrder(Unprocessable):
    code, title = "validation_error", "An order needs a hold or items"


class TicketsTransferred(Conflict):
    """A ticket of the order was given to someone else (``transferred_tickets``): the buyer
    cannot refund it; the event's seller or an admin can, voiding the receiver's ticket."""

    code, title = "ticket_transferred", "A ticket of this order was transferred"


class EmailNotVerified(Forbidden):
    """The event's seller sells only to buyers with a verified e-mail (``docs/accounts.md``);
    ``POST /users/me/email-verification`` sends a new link."""

    code, title = "email_not_verified", "Verify your e-mail address to buy these tickets"


class LineNotRefundable(Conflict):
    """Fewer units of the order line at ``position`` are left to refund than were asked
    (``refundable_quantity``): they were refunded already, or are being refunded."""

    code, title = "line_not_refundable", "This line has fewer units left to refund"


class RecipientNotFound(NotFound):
    title = "Recipient not found"
