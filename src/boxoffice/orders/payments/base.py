"""The provider interface (prepare, confirm, cancel, lookup) and what it speaks in.

Providers know nothing of orders' tables: they take plain requests and return
:class:`ProviderPayment`, the provider's own view of one payment, which reconciliation
and webhooks trust over anything a browser says.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol


class PaymentState(StrEnum):
    PENDING = "pending"  # created or authenticated, not captured (yet)
    CAPTURED = "captured"  # money taken, nothing refunded
    PARTIALLY_CANCELLED = "partially_cancelled"  # captured, part refunded
    CANCELLED = "cancelled"  # captured, refunded in full
    FAILED = "failed"  # will never be captured (aborted, expired, refused, quit)


@dataclass(frozen=True)
class PaymentRequest:
    """What a provider needs to open a checkout for an order."""

    order_id: str
    order_name: str
    amount: int
    currency: str
    user_id: str
    quantity: int = 1


@dataclass(frozen=True)
class Checkout:
    """What the buyer's client needs to pay; ``reference`` is the provider's id when known."""

    provider: str
    params: dict[str, Any]
    reference: str | None = None


@dataclass(frozen=True)
class ConfirmRequest:
    order_id: str
    amount: int
    user_id: str
    reference: str  # Toss paymentKey, KakaoPay tid, internal payment id
    idempotency_key: str
    token: str | None = None  # KakaoPay pg_token


@dataclass(frozen=True)
class ProviderPayment:
    """One payment as the provider reports it."""

    provider: str
    reference: str
    order_id: str
    state: PaymentState
    captured_amount: int  # approved total (0 until captured)
    refunded_amount: int  # cancelled so far
    raw_status: str
    approved_at: datetime | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def kept_amount(self) -> int:
        return self.captured_amount - self.refunded_amount


class PaymentError(Exception):
    """A provider call that did not give the expected result."""

    def __init__(self, provider: str, code: str, message: str, *, status: int | None = None):
        super().__init__(f"{provider}: {code}: {message}")
        self.provider = provider
        self.code = code
        self.message = message
        self.status = status


class PaymentRejected(PaymentError):
    """The provider refused for good (card declined, bad request): no money moved."""


class PaymentAlreadyProcessed(PaymentRejected):
    """The provider already processed this payment or cancel: look it up to learn the result."""


class PaymentOutcomeUnknown(PaymentError):
    """Timeout, network failure, 5xx or a request still running: money may have moved.

    Never treat as a refusal: reconciliation looks the payment up and settles it.
    """


class PaymentProvider(Protocol):
    name: str
    # True when ``prepare`` calls nobody (its checkout is parameters for the buyer's
    # client): orders then opens it inside the transaction that places the order.
    prepares_offline: bool

    async def prepare(self, request: PaymentRequest) -> Checkout:
        """Open a checkout; raises ``PaymentRejected`` / ``PaymentOutcomeUnknown``."""
        ...

    async def confirm(self, request: ConfirmRequest) -> ProviderPayment:
        """Capture exactly ``request.amount``; a captured payment or one of the errors."""
        ...

    async def cancel(
        self,
        *,
        reference: str,
        order_id: str,
        amount: int,
        reason: str,
        idempotency_key: str,
    ) -> ProviderPayment:
        """Refund ``amount`` of a captured payment (partial cancellation when smaller)."""
        ...

    async def lookup(self, *, reference: str | None, order_id: str) -> ProviderPayment | None:
        """The provider's view of the payment, or ``None`` when it has never heard of it."""
        ...

    async def aclose(self) -> None: ...
