"""Payment attempts that took no money: an outcome not known yet (left for reconcile), a
refusal by the provider, and a payment the provider says belongs to another order."""

from __future__ import annotations

from typing import NoReturn

import structlog

from boxoffice.orders.domain import OrderStatus
from boxoffice.orders.errors import PaymentRejected as PaymentRefused
from boxoffice.orders.lifecycle import (
    CAPTURED_STATES,
    CONFIRMING,
    REJECTED,
    UNKNOWN,
    lock_order,
    lock_payment,
)
from boxoffice.orders.payments.base import PaymentError, ProviderPayment
from boxoffice.platform.runtime import Runtime

log = structlog.get_logger("boxoffice.orders")
ORDER_MISMATCH = "ORDER_MISMATCH"  # the provider's payment names another order


async def record_outcome_unknown(runtime: Runtime, payment_id: str, error: PaymentError) -> None:
    async with runtime.uow() as uow:
        payment = await lock_payment(uow, payment_id)
        if payment.status == CONFIRMING:
            payment.status = UNKNOWN
            payment.failure_code, payment.failure_message = error.code[:64], error.message[:500]
            payment.updated_at = uow.clock.now()
            await uow.commit()


async def record_rejection(runtime: Runtime, payment_id: str, code: str, message: str) -> None:
    """The attempt took no money: the order is free to be paid again."""
    async with runtime.uow() as uow:
        payment = await lock_payment(uow, payment_id)
        if payment.status in CAPTURED_STATES:
            return
        order = await lock_order(uow, payment.order_id)
        now = uow.clock.now()
        payment.status, payment.updated_at = REJECTED, now
        payment.failure_code, payment.failure_message = code[:64], message[:500]
        if order is not None and order.status == OrderStatus.PENDING.value:
            order.confirming_since = None
            order.updated_at = now
        await uow.commit()


async def not_this_order(
    runtime: Runtime, order_id: str, payment_id: str, captured: ProviderPayment
) -> NoReturn:
    """The provider says this payment paid another order (a paymentKey replayed across
    orders): it takes no money for this one. The attempt is refused, the order stays
    payable, and the money is left where it belongs (the other order's)."""
    log.warning(
        "capture_of_another_order",
        order_id=order_id,
        payment_id=payment_id,
        paid_order_id=captured.order_id,
    )
    message = "The provider reports this payment for another order."
    await record_rejection(runtime, payment_id, ORDER_MISMATCH, message)
    async with runtime.uow() as uow:  # the key stays usable by the order it belongs to
        payment = await lock_payment(uow, payment_id)
        if payment.status == REJECTED:
            payment.failure_message = f"{message} ({captured.reference[:200]})"[:500]
            payment.reference = None
            await uow.commit()
    raise PaymentRefused(message, order_id=order_id, provider_code=ORDER_MISMATCH)
