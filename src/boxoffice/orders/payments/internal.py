"""The ``internal`` provider: pays at once, for tests, demos and free events.

Its ledger lives in the key-value port (Redis when configured, else the process), so a
payment captured by one API replica can be refunded or looked up by another. ``mode`` is
a per-process test switch: ``succeed``; ``fail`` (a refusal, nothing captured);
``timeout`` (the money is captured but the answer is lost, the worst case reconciliation
must settle).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
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
from boxoffice.platform.ids import new_id
from boxoffice.platform.kv import KeyValueStore, MemoryStore, claim

Mode = Literal["succeed", "fail", "timeout"]
LOCK_SECONDS = 5.0


@dataclass
class _Entry:
    reference: str
    order_id: str
    captured: int
    refunded: int
    approved_at: datetime
    attempt: str = ""  # whose write this is: makes the entry its confirm's own (kv.claim)

    def dump(self) -> str:
        return json.dumps({**asdict(self), "approved_at": self.approved_at.isoformat()})

    @classmethod
    def load(cls, raw: str) -> _Entry:
        data = json.loads(raw)
        return cls(**{**data, "approved_at": datetime.fromisoformat(data["approved_at"])})


class InternalProvider:
    name = "internal"
    prepares_offline = True

    def __init__(self, clock: Clock, kv: KeyValueStore | None = None) -> None:
        self.clock = clock
        self.mode: Mode = "succeed"
        self._kv = kv or MemoryStore()

    def _key(self, *parts: str) -> str:
        return ":".join((self._kv.prefix, "orders", "internal", *parts))

    async def totals(self) -> tuple[int, int]:
        """(captured, refunded) over every payment: what the money-invariant test reads."""
        captured = await self._kv.get(self._key("captured"))
        refunded = await self._kv.get(self._key("refunded"))
        return int(captured or 0), int(refunded or 0)

    async def prepare(self, request: PaymentRequest) -> Checkout:
        return Checkout(self.name, {"pay_url": f"/api/v1/orders/{request.order_id}/pay"})

    async def confirm(self, request: ConfirmRequest) -> ProviderPayment:
        if self.mode == "fail":
            raise PaymentRejected(self.name, "REJECTED", "The simulated payment was refused.")
        entry = _Entry(
            request.reference, request.order_id, request.amount, 0, self.clock.now(), new_id()
        )
        # Set-if-absent: of two confirms of one payment, on any replicas, one captures.
        if not await claim(self._kv, self._key("pay", request.reference), entry.dump()):
            raise PaymentAlreadyProcessed(self.name, "ALREADY_PROCESSED", "Already paid.")
        await asyncio.gather(  # side by side: one round trip on the turn's pipeline
            self._kv.set(self._key("order", request.order_id), request.reference),
            self._kv.incr(self._key("captured"), request.amount),
        )
        if self.mode == "timeout":
            raise PaymentOutcomeUnknown(self.name, "TIMEOUT", "The simulated answer was lost.")
        return self._view(entry)

    async def cancel(
        self, *, reference: str, order_id: str, amount: int, reason: str, idempotency_key: str
    ) -> ProviderPayment:
        async with self._locked(reference):
            raw = await self._kv.get(self._key("pay", reference))
            if raw is None:
                raise PaymentRejected(self.name, "NOT_FOUND_PAYMENT", "No such payment.")
            entry = _Entry.load(raw)
            if amount <= 0 or amount > entry.captured - entry.refunded:
                raise PaymentRejected(self.name, "NOT_CANCELABLE_AMOUNT", "Amount not refundable.")
            entry.refunded += amount
            await asyncio.gather(
                self._kv.set(self._key("pay", reference), entry.dump()),
                self._kv.incr(self._key("refunded"), amount),
            )
            return self._view(entry)

    async def lookup(self, *, reference: str | None, order_id: str) -> ProviderPayment | None:
        reference = reference or await self._kv.get(self._key("order", order_id))
        raw = await self._kv.get(self._key("pay", reference)) if reference else None
        return self._view(_Entry.load(raw)) if raw else None

    @asynccontextmanager
    async def _locked(self, reference: str) -> AsyncIterator[None]:
        """One refund of a payment at a time, across replicas (a short lease in the kv)."""
        key, holder = self._key("lock", reference), new_id()
        for _ in range(int(LOCK_SECONDS / 0.01)):
            if await claim(self._kv, key, holder, ttl=LOCK_SECONDS):
                break
            await asyncio.sleep(0.01)
        else:
            raise PaymentOutcomeUnknown(self.name, "BUSY", "The simulated ledger is busy.")
        try:
            yield
        finally:
            await self._kv.delete(key)

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
