"""Refunds: sent to the provider outside any transaction, booked in one afterwards.

``refund_claims`` writes them; ``orders_refunds.claim`` (unique) keeps one refund of an
order in flight at a time and a capture from being sent back twice; a refund whose
outcome is unknown stays pending for reconciliation."""

from __future__ import annotations

import json

import structlog
from sqlalchemy import select

from boxoffice.merch import service as merch
from boxoffice.orders import domain, refund_claims
from boxoffice.orders.domain import OrderStatus
from boxoffice.orders.events import OrderCancelled
from boxoffice.orders.lifecycle import (
    PARTIALLY_REFUNDED,
    REFUNDED,
    lock_order,
    lock_payment,
)
from boxoffice.orders.models import Order, Payment, Refund
from boxoffice.orders.payments.base import (
    PaymentAlreadyProcessed,
    PaymentOutcomeUnknown,
    PaymentRejected,
)
from boxoffice.orders.payments.registry import providers_of
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.uow import UnitOfWork
from boxoffice.seating import service as seating
from boxoffice.tickets import service as tickets

log = structlog.get_logger("boxoffice.orders")
# An order in these states was paid: an automatic refund booked against it is of another
# capture (a duplicate payment), not of the order's own amount.
_KEPT_MONEY = frozenset(
    s.value for s in (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED, OrderStatus.REFUNDED)
)


# --- refunds -------------------------------------------------------------------------------


async def execute_refund(runtime: Runtime, refund: str | refund_claims.Claimed) -> bool:
    """Send a pending refund (its id, or the claim that has just written it) to the provider
    and apply it. True once it is done.

    A refusal marks it failed (and frees the claim so it can be asked again); an unknown
    outcome leaves it pending for :func:`reconcile`.
    """
    if isinstance(refund, str):
        pending = await _pending(runtime, refund)
        if not isinstance(pending, refund_claims.Claimed):
            return pending
        refund = pending
    refund_id = refund.refund_id
    if refund.amount == 0:
        await complete_refund(runtime, refund_id)
        return True
    provider = providers_of(runtime).get(refund.provider)
    try:
        await provider.cancel(
            reference=refund.reference,
            order_id=refund.order_id,
            amount=refund.amount,
            reason=refund.reason,
            idempotency_key=f"refund-{refund_id}",
        )
    except PaymentAlreadyProcessed:
        return await refund_if_seen(runtime, refund_id)
    except PaymentOutcomeUnknown as exc:
        log.warning("refund_outcome_unknown", refund_id=refund_id, code=exc.code)
        return False
    except PaymentRejected as exc:
        await _refund_failed(runtime, refund_id, exc.code)
        return False
    await complete_refund(runtime, refund_id)
    return True


async def _pending(runtime: Runtime, refund_id: str) -> refund_claims.Claimed | bool:
    """The refund as its provider needs it while it is pending; else whether it is done."""
    async with runtime.uow() as uow:
        refund = await uow.session.get(Refund, refund_id)
        if refund is None or refund.status != "pending":
            return refund is not None and refund.status == "done"
        payment = await uow.session.get(Payment, refund.payment_id)
        assert payment is not None
        return refund_claims.Claimed.of(refund, payment)


async def refund_if_seen(runtime: Runtime, refund_id: str) -> bool:
    """Complete the refund when the provider's books show it, else leave it pending."""
    async with runtime.uow() as uow:
        refund = await uow.session.get(Refund, refund_id)
        payment = await uow.session.get(Payment, refund.payment_id) if refund else None
        if refund is None or payment is None:
            return False
        expected = payment.refunded_amount + refund.amount
        provider_name, reference, order_id = payment.provider, payment.reference, payment.order_id
    try:
        view = (
            await providers_of(runtime)
            .get(provider_name)
            .lookup(reference=reference, order_id=order_id)
        )
    except PaymentOutcomeUnknown:
        return False
    if view is not None and view.refunded_amount >= expected:
        await complete_refund(runtime, refund_id)
        return True
    return False


async def _refund_failed(runtime: Runtime, refund_id: str, code: str) -> None:
    """The provider refused: the refund's units are the order's again, and so are the
    tickets its claim voided (while the order stays paid)."""
    async with runtime.uow() as uow:
        refund = await uow.session.get(Refund, refund_id)
        if refund is None or refund.status != "pending":
            return
        refund.status, refund.claim, refund.failure_code = "failed", None, code[:64]
        refund.completed_at = uow.clock.now()
        order = await lock_order(uow, refund.order_id)
        returned = await refund_claims.refund_lines(uow, refund_id)
        lines = {
            li.id: li for li in await refund_claims.order_lines(uow, refund.order_id, lock=True)
        }
        for part in returned:
            lines[part.line_id].refunded_quantity -= part.quantity
        if order is not None and order.status == OrderStatus.PAID.value:
            voided = [t for part in returned for t in json.loads(part.ticket_ids or "[]")]
            await tickets.restore_tickets(uow, voided)
        await uow.commit()
    log.error("refund_refused", refund_id=refund_id, code=code)


async def complete_refund(runtime: Runtime, refund_id: str) -> None:
    """Book a refund the provider made: the payment's ledger and, for a refund of lines,
    the order's — its seats and goods back on sale, and the order closed once no line is
    left (its tickets were voided at the claim). Idempotent."""
    async with runtime.uow() as uow:
        refund = await uow.session.scalar(
            select(Refund).where(Refund.id == refund_id).with_for_update()
        )
        if refund is None or refund.status == "done":
            return
        order = await lock_order(uow, refund.order_id)
        payment = await lock_payment(uow, refund.payment_id)
        assert order is not None
        now = uow.clock.now()
        refund.status, refund.completed_at = "done", now
        payment.refunded_amount += refund.amount
        payment.status = (
            REFUNDED if payment.refunded_amount >= payment.captured_amount else PARTIALLY_REFUNDED
        )
        payment.updated_at = now
        if refund.kind == "automatic" and order.status not in _KEPT_MONEY:
            # the order's own capture, sent back because it could not be fulfilled
            order.refunded_amount += refund.amount
            order.updated_at = now
        if refund.kind != "automatic" and (
            order.status == OrderStatus.PAID.value
            # a refund of no lines giving back the fee a closed order kept (show cancelled)
            or (refund.fee_returned and order.status == OrderStatus.PARTIALLY_REFUNDED.value)
        ):
            await _return_lines(uow, runtime, order, refund)
        await uow.commit()
    log.info("refund_done", refund_id=refund_id, kind=refund.kind, amount=refund.amount)


async def _return_lines(uow: UnitOfWork, runtime: Runtime, order: Order, refund: Refund) -> None:
    now = uow.clock.now()
    returned = await refund_claims.refund_lines(uow, refund.id)
    order.refunded_amount += refund.amount
    order.fee += refund.fee - refund.fee_returned
    order.updated_at = now
    seat_ids = [part.ref for part in returned if part.kind == "seat"]
    if order.show_id and seat_ids:
        await seating.release_sold_seats(
            uow, runtime, show_id=order.show_id, seat_ids=seat_ids, order_id=order.id
        )
    units = {part.ref: part.quantity for part in returned if part.kind == "merch"}
    if units:
        await merch.return_units(uow, order_id=order.id, units=units)
    lines = await refund_claims.order_lines(uow, order.id, lock=False)
    partial = any(line.refunded_quantity < line.quantity for line in lines)
    if partial:
        refund.claim = None  # the next refund of the order's other lines may be claimed
    else:
        order.status = domain.transition(
            order.status, domain.status_after_refund(order.amount, order.refunded_amount)
        ).value
        order.closed_at = order.closed_at or now
        order.cancel_reason = order.cancel_reason or refund.reason
    uow.record(
        OrderCancelled(
            order_id=order.id,
            user_id=order.user_id,
            refund_amount=refund.amount,
            fee=refund.fee,
            currency=order.currency,
            reason=refund.reason,
            seller_id=order.seller_id,
            refund_id=refund.id,
            partial=partial,
            positions=tuple(part.position for part in returned),
            fee_returned=refund.fee_returned,
            show_id=order.show_id,
        )
    )
