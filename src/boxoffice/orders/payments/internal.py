"""The ``internal`` provider: pays at once, for tests, demos and free events.

Its ledger lives in the process. ``mode`` is the test switch: ``succeed``; ``fail`` (a
refusal, nothing captured); ``timeout`` (the money is captured but the answer is lost,
the worst case reconciliation must settle).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from boxoffice.orders.payments.base import (
    Checkout,
    ConfirmRequest,
    PaymentAlreadyProcessed,
    PaymentOutcomeUnknown,
    PaymentRejected,
    PaymentRequest,
    PaymentState,
    ProviderPayment,
)
from boxoffice.platform.clock import Clock

Mode = Literal["succeed", "fail", "timeout"]


@dataclass
class _Entry:
    reference: str
    order_id: str
    captured: int
    refunded: int
    approved_at: datetime


class InternalProvider:
    name = "internal"

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.mode: Mode = "succeed"
        self._lock = asyncio.Lock()
        self._payments: dict[str, _Entry] = {}

    # The ledger: what the money-invariant test reads.
    @property
    def captured_total(self) -> int:
        return sum(e.captured for e in self._payments.values())

    @property
    def refunded_total(self) -> int:
        return sum(e.refunded for e in self._payments.values())

    async def prepare(self, request: PaymentRequest) -> Checkout:
        return Checkout(self.name, {"pay_url": f"/api/v1/orders/{request.order_id}/pay"})

    async def confirm(self, request: ConfirmRequest) -> ProviderPayment:
        async with self._lock:
            if self.mode == "fail":
                raise PaymentRejected(self.name, "REJECTED", "The simulated payment was refused.")
            if request.reference in self._payments:
                raise PaymentAlreadyProcessed(self.name, "ALREADY_PROCESSED", "Already paid.")
            entry = _Entry(request.reference, request.order_id, request.amount, 0, self.clock.now())
            self._payments[request.reference] = entry
            if self.mode == "timeout":
                raise PaymentOutcomeUnknown(self.name, "TIMEOUT", "The simulated answer was lost.")
            return self._view(entry)

    async def cancel(
        self, *, reference: str, order_id: str, amount: int, reason: str, idempotency_key: str
    ) -> ProviderPayment:
        async with self._lock:
            entry = self._payments.get(reference)
            if entry is None:
                raise PaymentRejected(self.name, "NOT_FOUND_PAYMENT", "No such payment.")
            if amount <= 0 or amount > entry.captured - entry.refunded:
                raise PaymentRejected(self.name, "NOT_CANCELABLE_AMOUNT", "Amount not refundable.")
            entry.refunded += amount
            return self._view(entry)

    async def lookup(self, *, reference: str | None, order_id: str) -> ProviderPayment | None:
        entry = self._payments.get(reference or "")
        if entry is None:
            entry = next((e for e in self._payments.values() if e.order_id == order_id), None)
        return self._view(entry) if entry else None

    def _view(self, entry: _Entry) -> ProviderPayment:
        if entry.refunded == 0:
            state = PaymentState.CAPTURED
        elif entry.refunded >= entry.captured:
            state = PaymentState.CANCELLED
        else:
            state = PaymentState.PARTIALLY_CANCELLED
        return ProviderPayment(
            self.name,
            entry.reference,
            entry.order_id,
            state,
            entry.captured,
            entry.refunded,
            state.value,
            entry.approved_at,
        )

    async def aclose(self) -> None:
        return None
