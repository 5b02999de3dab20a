"""The scheduled jobs: expiry of unpaid orders and reconciliation by provider lookups."""

from __future__ import annotations

from datetime import timedelta

import structlog
from sqlalchemy import or_, select

from boxoffice.orders import attempts, refunds, settlement
from boxoffice.orders.domain import OrderStatus
from boxoffice.orders.lifecycle import (
    CONFIRMING,
    UNKNOWN,
    end_pending,
    lock_order,
)
from boxoffice.orders.models import Order, Payment, Refund
from boxoffice.orders.payments.base import (
    PaymentError,
    PaymentState,
)
from boxoffice.orders.payments.registry import providers_of
from boxoffice.platform.runtime import Runtime

log = structlog.get_logger("boxoffice.orders")


# --- reconciliation ------------------------------------------------------------------------


async def reconcile(runtime: Runtime, *, batch: int = 100) -> int:
    """Settle what the process could not: unknown or stale confirms and pending refunds,
    each decided by looking the payment up at the provider. Returns how many it settled."""
    stale = timedelta(seconds=providers_of(runtime).settings.stale_confirm_seconds)
    async with runtime.uow() as uow:
        now = uow.clock.now()
        attempts = list(
            (
                await uow.session.execute(
                    select(
                        Payment.id,
                        Payment.order_id,
                        Payment.provider,
                        Payment.reference,
                        Payment.updated_at,
                    )
                    .where(
                        or_(
                            Payment.status == UNKNOWN,
                            (Payment.status == CONFIRMING) & (Payment.updated_at <= now - stale),
                        )
                    )
                    .order_by(Payment.updated_at)
                    .limit(batch)
                )
            ).all()
        )
        pending_refunds = list(
            (
                await uow.session.execute(
                    select(Refund.id)
                    .where(Refund.status == "pending", Refund.created_at <= now - stale)
                    .order_by(Refund.created_at)
                    .limit(batch)
                )
            ).scalars()
        )
    settled = 0
    for payment_id, order_id, provider_name, reference, updated_at in attempts:
        try:
            stale_attempt = updated_at <= now - stale
            if await _reconcile_payment(
                runtime, payment_id, order_id, provider_name, reference, stale_attempt
            ):
                settled += 1
        except Exception:  # one bad payment must not stop the others; the next run retries
            log.exception("reconcile_payment_failed", payment_id=payment_id)
    for refund_id in pending_refunds:
        try:
            if await refunds.refund_if_seen(runtime, refund_id) or await refunds.execute_refund(
                runtime, refund_id
            ):
                settled += 1
        except Exception:
            log.exception("reconcile_refund_failed", refund_id=refund_id)
    if settled:
        log.info("payments_reconciled", count=settled)
    return settled


async def _reconcile_payment(
    runtime: Runtime,
    payment_id: str,
    order_id: str,
    provider_name: str,
    reference: str | None,
    stale: bool,
) -> bool:
    """Settle one payment from the provider's word: captured, or refused; False when
    the provider could not be asked or the attempt may still be under way."""
    try:
        view = (
            await providers_of(runtime)
            .get(provider_name)
            .lookup(reference=reference, order_id=order_id)
        )
    except PaymentError as exc:
        log.warning("reconcile_lookup_failed", payment_id=payment_id, code=exc.code)
        return False
    if view is not None and view.captured_amount > 0:
        await settlement.settle_capture(runtime, order_id, payment_id, view)
        return True
    if view is None or view.state is PaymentState.FAILED or stale:
        raw = view.raw_status if view else "none"
        await attempts.record_rejection(
            runtime, payment_id, "NOT_CAPTURED", f"provider status {raw}"
        )
        return True
    return False


async def expire(runtime: Runtime, *, batch: int = 200) -> int:
    """Expire pending orders past their hold's expiry that no payment is settling."""
    async with runtime.uow() as uow:
        now = uow.clock.now()
        due = list(
            (
                await uow.session.execute(
                    select(Order.id)
                    .where(
                        Order.status == OrderStatus.PENDING.value,
                        Order.expires_at <= now,
                        Order.confirming_since.is_(None),
                    )
                    .order_by(Order.expires_at)
                    .limit(batch)
                )
            ).scalars()
        )
    expired = 0
    for order_id in due:
        async with runtime.uow() as uow:
            order = await lock_order(uow, order_id)
            if (
                order is None
                or order.status != OrderStatus.PENDING.value
                or order.confirming_since is not None
                or order.expires_at > uow.clock.now()
            ):
                continue
            await end_pending(uow, runtime, order, OrderStatus.EXPIRED, "expired")
            await uow.commit()
            expired += 1
    if expired:
        log.info("orders_expired", count=expired)
    return expired
