"""orders' tables (prefix ``orders_``)."""

from __future__ import annotations

from typing import Annotated

from sqlalchemy import BigInteger, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from boxoffice.platform.db import Base, IdColumn, IdKey, UTCTime, owned_by

# A row that belongs to one order and is deleted with it.
OwnedByOrder = Annotated[str, owned_by("orders_orders.id")]


class Order(Base):
    """One purchase: seats of one hold and/or merch items, paid once, refunded at most once."""

    __tablename__ = "orders_orders"
    __table_args__ = (
        UniqueConstraint("user_id", "idempotency_key"),
        UniqueConstraint("hold_id"),
        Index("ix_orders_orders_status_expires_at", "status", "expires_at"),
        Index("ix_orders_orders_event_id_status", "event_id", "status"),
        Index("ix_orders_orders_show_id_id", "show_id", "id"),
    )

    id: Mapped[IdKey]
    user_id: Mapped[IdColumn]
    status: Mapped[str] = mapped_column(String(24))
    provider: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[int] = mapped_column(BigInteger())
    ticket_amount: Mapped[int] = mapped_column(BigInteger())
    ticket_count: Mapped[int] = mapped_column(Integer())
    refunded_amount: Mapped[int] = mapped_column(BigInteger(), default=0)
    fee: Mapped[int] = mapped_column(BigInteger(), default=0)
    name: Mapped[str] = mapped_column(String(200))
    show_id: Mapped[IdColumn | None]
    event_id: Mapped[IdColumn | None]
    seller_id: Mapped[IdColumn | None]
    hold_id: Mapped[IdColumn | None]
    delivery: Mapped[str | None] = mapped_column(Text())  # merch's Delivery.to_dict(), JSON
    checkout: Mapped[str | None] = mapped_column(Text())  # the provider's checkout, JSON
    idempotency_key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    failure_reason: Mapped[str | None] = mapped_column(String(500))
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    # Set while a confirm is in flight or its outcome is unknown: one payment at a time,
    # and the expiry sweep leaves the order alone until reconciliation settles it.
    confirming_since: Mapped[UTCTime | None]
    created_at: Mapped[UTCTime]
    updated_at: Mapped[UTCTime]
    expires_at: Mapped[UTCTime]
    paid_at: Mapped[UTCTime | None]
    closed_at: Mapped[UTCTime | None]


class OrderLine(Base):
    __tablename__ = "orders_lines"
    __table_args__ = (Index("ix_orders_lines_order_id", "order_id"),)

    id: Mapped[IdKey]
    order_id: Mapped[OwnedByOrder]
    position: Mapped[int] = mapped_column(Integer())
    kind: Mapped[str] = mapped_column(String(16))  # seat | merch
    ref: Mapped[str] = mapped_column(String(64))  # seat id or SKU
    description: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(Integer())
    unit_price: Mapped[int] = mapped_column(BigInteger())
    amount: Mapped[int] = mapped_column(BigInteger())
    # Units returned by refunds pending or done (counted at the claim, under the order's
    # lock; a refused refund gives them back): no unit is refunded twice.
    refunded_quantity: Mapped[int] = mapped_column(Integer(), default=0, server_default="0")


class Payment(Base):
    """One attempt to take the order's money at a provider (and what was refunded of it)."""

    __tablename__ = "orders_payments"
    __table_args__ = (
        UniqueConstraint("provider", "reference"),
        Index("ix_orders_payments_order_id", "order_id"),
        Index("ix_orders_payments_status_updated_at", "status", "updated_at"),
    )

    id: Mapped[IdKey]
    order_id: Mapped[OwnedByOrder]
    provider: Mapped[str] = mapped_column(String(16))
    reference: Mapped[str | None] = mapped_column(String(200))  # paymentKey / tid / internal id
    status: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(BigInteger())
    captured_amount: Mapped[int] = mapped_column(BigInteger(), default=0)
    refunded_amount: Mapped[int] = mapped_column(BigInteger(), default=0)
    failure_code: Mapped[str | None] = mapped_column(String(64))
    failure_message: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[UTCTime]
    updated_at: Mapped[UTCTime]
    approved_at: Mapped[UTCTime | None]
    method: Mapped[str | None] = mapped_column(String(32))  # card, 간편결제... as the provider says
    receipt_url: Mapped[str | None] = mapped_column(String(500))  # the provider's receipt page


class Refund(Base):
    """Money sent back for an order: of some of its lines (:class:`RefundLine`) or, for an
    ``automatic`` refund, of a capture the order could not keep. ``claim`` (``order:<id>``
    while pending, and kept by the refund that closed the order) lets one refund of an
    order be in flight at a time, even from two processes at once."""

    __tablename__ = "orders_refunds"
    __table_args__ = (
        UniqueConstraint("claim"),
        Index("ix_orders_refunds_status_created_at", "status", "created_at"),
    )

    id: Mapped[IdKey]
    order_id: Mapped[OwnedByOrder]
    payment_id: Mapped[str] = owned_by("orders_payments.id")
    kind: Mapped[str] = mapped_column(String(16))  # cancellation | event | show | automatic
    status: Mapped[str] = mapped_column(String(16))  # pending | done | failed
    amount: Mapped[int] = mapped_column(BigInteger())
    fee: Mapped[int] = mapped_column(BigInteger())
    # Fees the order kept at earlier refunds, given back in this one (its show was cancelled).
    fee_returned: Mapped[int] = mapped_column(BigInteger(), default=0, server_default="0")
    reason: Mapped[str] = mapped_column(String(500))
    claim: Mapped[str | None] = mapped_column(String(64))
    failure_code: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[UTCTime]
    completed_at: Mapped[UTCTime | None]


class RefundLine(Base):
    """What a refund returns of one order line: units, their value, the fee kept of them,
    and for a seat the ticket it voided (made valid again if the refund is refused)."""

    __tablename__ = "orders_refund_lines"
    __table_args__ = (Index("ix_orders_refund_lines_refund_id", "refund_id"),)

    id: Mapped[IdKey]
    refund_id: Mapped[str] = owned_by("orders_refunds.id")
    line_id: Mapped[str] = owned_by("orders_lines.id")
    position: Mapped[int] = mapped_column(Integer())
    kind: Mapped[str] = mapped_column(String(16))
    ref: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int] = mapped_column(Integer())
    amount: Mapped[int] = mapped_column(BigInteger())
    fee: Mapped[int] = mapped_column(BigInteger())
    ticket_ids: Mapped[str | None] = mapped_column(Text())  # JSON list: the tickets voided


class WebhookReceipt(Base):
    """A Toss webhook already handled, by ``tosspayments-webhook-transmission-id``."""

    __tablename__ = "orders_webhook_receipts"

    transmission_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    provider: Mapped[str] = mapped_column(String(16))
    event_type: Mapped[str] = mapped_column(String(64))
    reference: Mapped[str | None] = mapped_column(String(200))
    outcome: Mapped[str] = mapped_column(String(32))
    received_at: Mapped[UTCTime]
