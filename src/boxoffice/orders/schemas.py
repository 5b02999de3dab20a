"""orders' HTTP shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from boxoffice.platform.schemas import Strict

ProviderName = Literal["internal", "toss", "kakaopay"]


class ItemIn(Strict):
    sku: str = Field(min_length=1, max_length=64)
    quantity: int = Field(ge=1, le=100)


class OrderCreate(Strict):
    hold_id: str | None = Field(default=None, max_length=64)
    items: list[ItemIn] = Field(default_factory=list, max_length=50)
    payment_provider: ProviderName = "internal"
    delivery: dict[str, Any] | None = None


class PaymentChange(Strict):
    payment_provider: ProviderName


class LineRead(BaseModel):
    # Read by attribute from a line's row, or from a ``views.Line`` not yet written (which
    # has no ``refunded_quantity``: the default, nothing refunded).
    model_config = ConfigDict(from_attributes=True)

    position: int = 0  # names the line in a refund (``POST /orders/{id}/refunds``)
    kind: str
    ref: str
    description: str
    quantity: int
    unit_price: int
    amount: int
    refunded_quantity: int = 0  # units refunded, or being refunded


class OrderRead(BaseModel):
    id: str
    status: str
    amount: int
    currency: str
    refunded_amount: int
    fee: int
    expires_at: datetime
    created_at: datetime
    paid_at: datetime | None
    closed_at: datetime | None
    show_id: str | None
    event_id: str | None
    hold_id: str | None
    lines: list[LineRead]
    payment: dict[str, Any]
    delivery: dict[str, Any] | None
    ticket_ids: list[str]
    failure_reason: str | None
    cancel_reason: str | None
    # Goods of the event on sale and in stock, offered next to the order (bundles).
    suggested_products: list[dict[str, Any]] = Field(default_factory=list)


class CompCreate(Strict):
    """``POST /shows/{id}/comps``: seats given to an account, by its e-mail."""

    seat_ids: list[Annotated[str, StringConstraints(min_length=1, max_length=64)]] = Field(
        min_length=1, max_length=100
    )
    recipient_email: str = Field(min_length=3, max_length=254)
    note: str | None = Field(default=None, max_length=200)


class OrderPage(BaseModel):
    items: list[OrderRead]
    next_cursor: str | None


# An amount in minor units no order reaches (₩1 trillion), well inside every backend's
# 64-bit integer: a larger one is 422, never an overflow in the driver (500).
MAX_AMOUNT = 1_000_000_000_000


class TossConfirm(BaseModel):
    paymentKey: str = Field(min_length=1, max_length=200)  # noqa: N815 - Toss's field names
    orderId: str = Field(min_length=6, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")  # noqa: N815
    amount: int = Field(ge=0, le=MAX_AMOUNT)


class RefundLinePick(Strict):
    position: int = Field(ge=0, le=10_000, description="the line's ``position`` in the order")
    quantity: int | None = Field(
        default=None, ge=1, le=10_000, description="units to refund; default: all that are left"
    )


class RefundQuoteRequest(Strict):
    lines: list[RefundLinePick] = Field(min_length=1, max_length=200)


class RefundRequest(RefundQuoteRequest):
    reason: str = Field(default="requested by the buyer", max_length=500)
    refund_used: bool = Field(
        default=False, description="admins only: refund checked-in tickets of these lines"
    )
    charge_fee: bool = Field(
        default=False,
        description="the order's operators, who refund in full: keep the window's fee instead",
    )


class RefundedLine(BaseModel):
    position: int
    kind: str | None = None
    ref: str | None = None
    quantity: int
    amount: int  # what the units were paid
    fee: int  # what of it is kept


class RefundQuote(BaseModel):
    order_id: str
    currency: str
    allowed: bool
    rule: str
    refund: int
    fee: int
    lines: list[RefundedLine]


class RefundRead(BaseModel):
    id: str
    order_id: str
    kind: str  # cancellation | event | show | automatic
    status: str  # pending | done | failed
    amount: int
    fee: int
    fee_returned: int = Field(
        default=0, description="fees the order kept at earlier refunds, given back in this one"
    )
    reason: str
    failure_code: str | None
    created_at: datetime
    completed_at: datetime | None
    lines: list[RefundedLine]


class RefundPage(BaseModel):
    items: list[RefundRead]


class CancelRequest(Strict):
    reason: str = Field(default="requested by the buyer", max_length=500)
    refund_used: bool = Field(
        default=False,
        description="admins only: refund even though a ticket of the order was checked in",
    )
    charge_fee: bool = Field(
        default=False,
        description=(
            "the order's operators (its event's seller, an admin), who refund in full at any"
            " time: refund on the buyer's terms instead, keeping the current window's fee"
            " (409 cancellation_closed past the cutoff). The buyer always pays the fee."
        ),
    )


class CancellationTerms(BaseModel):
    """What cancelling the order now does: the buyer's terms, and what an operator's refund
    in full would return."""

    order_id: str
    status: str
    currency: str
    cancellable: bool = Field(description="pending or paid: cancel can be asked at all")
    allowed: bool = Field(description="the buyer may cancel now (the fee windows, no ticket used)")
    fee: int = Field(description="what the buyer's cancellation keeps, in the currency's unit")
    refund: int = Field(description="what the buyer's cancellation returns")
    rule: str = Field(
        description="why: same_day, free_after_booking, tier_<percent>, fixed_fee, goods,"
        " show_gone, after_cutoff, ticket_used, or the order's status when not cancellable"
    )
    refundable: int = Field(description="a paid order: what a refund in full returns")
    lines: list[LineRead] = Field(
        default_factory=list,
        description="a paid order's lines, for choosing what to refund (POST /orders/{id}/refunds)",
    )


class Buyer(BaseModel):
    id: str
    email: str | None = None
    name: str | None = None


class ShowOrderRead(BaseModel):
    """One order of a show as its seller sees it (``GET /shows/{id}/orders``)."""

    id: str
    status: str
    buyer: Buyer
    amount: int
    refunded_amount: int
    fee: int
    currency: str
    ticket_count: int
    provider: str
    created_at: datetime
    paid_at: datetime | None = None
    closed_at: datetime | None = None


class ShowOrderPage(BaseModel):
    items: list[ShowOrderRead]
    next_cursor: str | None = None


OrderStatusName = Literal[
    "pending", "paid", "cancelled", "refunded", "partially_refunded", "expired", "failed"
]


class ShowOrderQuery(BaseModel):
    """Filters of a show's orders: ``status``, and ``q`` = a buyer's e-mail or an order id."""

    status: OrderStatusName | None = None
    q: str | None = Field(default=None, max_length=254)
    cursor: str | None = Field(default=None, max_length=64)
    limit: int = Field(default=50, ge=1, le=200)


class SalesFigures(BaseModel):
    """A show's money and pace (``GET /shows/{id}/sales``)."""

    show_id: str
    currency: str
    paid_orders: int
    tickets_sold: int
    revenue: int  # kept after refunds: amount - refunded_amount of every paid order
    refunded: int
    orders_last_minute: int
    # complimentary tickets given (provider ``comp``), kept apart from the figures above
    comp_tickets: int = 0
    # paid orders per minute, oldest first, the last entry being the current minute
    orders_per_minute: list[int]
