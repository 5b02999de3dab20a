"""Toss's payment webhooks: unsigned, so never trusted, and never allowed to make us call
Toss without bound.

Each delivery that names a payment of ours costs one look-up at Toss
(``GET /v1/payments/{paymentKey}``); only what Toss answers is acted on. What bounds
that cost, cheapest first:

- a delivery id already recorded (``orders_webhook_receipts``) or being handled right
  now (a kv claim, ``SET NX`` with a TTL, shared by every process on Redis) is a
  ``duplicate``;
- a malformed ``paymentKey``, or a body whose ``orderId`` is not a Toss order of ours,
  is answered without a look-up;
- a payment our books already settled needs no look-up (``already_settled``);
- at most :data:`LOOKUPS_PER_ORDER` look-ups per order per :data:`LOOKUP_WINDOW_SECONDS`,
  and :data:`LOOKUPS_IN_FLIGHT` per process at once; past either the answer is 503 with
  ``Retry-After`` (Toss retries anything but 200), and the delivery's claim is given back
  so the retry is handled.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from dataclasses import dataclass, field
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from boxoffice.orders import lifecycle, settlement
from boxoffice.orders.models import Order, Payment, WebhookReceipt
from boxoffice.orders.payments import base as payments
from boxoffice.orders.payments.registry import providers_of
from boxoffice.orders.settlement_sql import insert_payment
from boxoffice.platform import kv
from boxoffice.platform.errors import BadRequest, ServiceUnavailable
from boxoffice.platform.ids import new_id
from boxoffice.platform.runtime import Runtime

log = structlog.get_logger("boxoffice.orders")

LOOKUPS_PER_ORDER = 10
LOOKUP_WINDOW_SECONDS = 60
LOOKUPS_IN_FLIGHT = 8
DELIVERY_CLAIM_SECONDS = 600
_PAYMENT_KEY = re.compile(r"[A-Za-z0-9_-]{1,200}")


@dataclass
class LookupGate:
    """The per-process bound on look-ups at Toss in flight."""

    slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(LOOKUPS_IN_FLIGHT))

    async def acquire(self) -> None:
        await self.slots.acquire()

    def release(self) -> None:
        self.slots.release()


def lookup_gate(runtime: Runtime) -> LookupGate:
    return runtime.adapters.ensure(LookupGate, LookupGate)


async def handle_toss_webhook(
    runtime: Runtime, transmission_id: str | None, body: dict[str, Any]
) -> str:
    """A Toss ``PAYMENT_STATUS_CHANGED``. Nothing in the body is trusted: the payment is
    fetched again from Toss, and only what Toss says is acted on. A transmission id seen
    before is acknowledged and ignored. Returns what was done; raises
    ``ServiceUnavailable`` (503, Toss retries) when Toss cannot be asked now."""
    if not transmission_id:
        raise BadRequest("tosspayments-webhook-transmission-id header required.")
    delivery = transmission_id[:128]
    async with runtime.uow(read_only=True) as uow:
        if await uow.session.get(WebhookReceipt, delivery) is not None:
            return "duplicate"
    claim = kv.key(runtime.kv, "orders", "toss-webhook", delivery)
    if not await kv.claim(runtime.kv, claim, new_id(), ttl=DELIVERY_CLAIM_SECONDS):
        return "duplicate"  # the same delivery is being handled now (here or elsewhere)
    event_type = str(body.get("eventType", ""))[:64]
    data = body.get("data") if isinstance(body.get("data"), dict) else {}
    assert isinstance(data, dict)
    payment_key = data.get("paymentKey")
    known_key = isinstance(payment_key, str) and _PAYMENT_KEY.fullmatch(payment_key) is not None
    try:
        outcome = "ignored"
        if event_type == "PAYMENT_STATUS_CHANGED" and known_key:
            assert isinstance(payment_key, str)
            outcome = await _webhook_payment(runtime, payment_key, data.get("orderId"))
    except BaseException:
        await runtime.kv.delete(claim)  # not handled: Toss's retry must be
        raise
    await _record(runtime, delivery, event_type, payment_key if known_key else None, outcome)
    return outcome


async def _record(
    runtime: Runtime, delivery: str, event_type: str, payment_key: Any, outcome: str
) -> None:
    async with runtime.uow() as uow:
        uow.session.add(
            WebhookReceipt(
                transmission_id=delivery,
                provider="toss",
                event_type=event_type or "unknown",
                reference=payment_key,
                outcome=outcome,
                received_at=uow.clock.now(),
            )
        )
        # recorded already by a delivery whose claim had lapsed: the same outcome
        with contextlib.suppress(IntegrityError):
            await uow.commit()


async def _webhook_payment(runtime: Runtime, payment_key: str, claimed_order: Any) -> str:
    if not isinstance(claimed_order, str) or not claimed_order:
        return "unknown_order"
    async with runtime.uow(read_only=True) as uow:
        order = await uow.session.get(Order, claimed_order[:64])
        if order is None or order.provider != "toss":
            return "unknown_order"
        settled = await uow.session.scalar(
            select(Payment.id).where(
                Payment.provider == "toss",
                Payment.reference == payment_key,
                Payment.status.in_(lifecycle.CAPTURED_STATES),
            )
        )
    if settled is not None:
        return "already_settled"
    view = await _bounded_lookup(runtime, order.id, payment_key)
    if view is None:
        return "unknown_payment"
    return await _settle(runtime, payment_key, view)


async def _bounded_lookup(
    runtime: Runtime, order_id: str, payment_key: str
) -> payments.ProviderPayment | None:
    """Toss's word on the payment, within the per-order and per-process bounds."""
    budget = kv.key(runtime.kv, "orders", "toss-lookups", order_id)
    used = await runtime.kv.incr(budget)
    if used == 1:
        await runtime.kv.expire(budget, LOOKUP_WINDOW_SECONDS)
    if used > LOOKUPS_PER_ORDER:
        log.warning("toss_webhook_lookups_exhausted", order_id=order_id)
        raise ServiceUnavailable(
            "Too many webhooks for this order; retry later.", retry_after=LOOKUP_WINDOW_SECONDS
        )
    gate = lookup_gate(runtime)
    if gate.slots.locked():
        raise ServiceUnavailable("Toss look-ups are busy; retry.", retry_after=1)
    await gate.acquire()
    try:
        provider = providers_of(runtime).get("toss")
        return await provider.lookup(reference=payment_key, order_id="")
    except payments.PaymentError as exc:
        raise ServiceUnavailable("Toss could not be asked about this payment; retry.") from exc
    finally:
        gate.release()


async def _settle(runtime: Runtime, payment_key: str, view: payments.ProviderPayment) -> str:
    async with runtime.uow() as uow:
        order = await uow.session.get(Order, view.order_id)
        if order is None or order.provider != "toss":
            return "unknown_order"
        if view.captured_amount <= 0:
            return f"status_{view.raw_status.lower()}"[:32]
        payment = await uow.session.scalar(
            select(Payment).where(Payment.provider == "toss", Payment.reference == payment_key)
        )
        if payment is None:  # captured, yet we never recorded the confirm: settle it now
            payment_id = await insert_payment(
                await uow.connection(),
                order_id=order.id,
                provider="toss",
                reference=payment_key,
                status=lifecycle.UNKNOWN,
                amount=order.amount,
                now=uow.clock.now(),
            )
            await uow.commit()
        elif payment.status in lifecycle.CAPTURED_STATES:
            return "already_settled"
        else:
            payment_id = payment.id
    result = await settlement.settle_capture(runtime, view.order_id, payment_id, view)
    return "settled" if result.paid else "refunded"
