"""How money becomes tickets and back, across the provider's network calls.

No database transaction is held open while a provider is called: each step is its own
short unit of work. The order row is the lock (``SELECT ... FOR UPDATE``; SQLite's
writer lock), and ``confirming_since`` is the claim that lets one confirm run at a time.

1. :func:`claim` — the order is pending, the amount is right, nobody else is paying it:
   mark it confirming and record the payment attempt (commit).
2. The provider confirms (outside any transaction).
3. :func:`settle_capture` — in ONE transaction: order paid, seats sold, tickets issued,
   merch consumed, events recorded. If the order can no longer be fulfilled, the order
   fails and an automatic refund of the whole capture is claimed and sent at once.
   Unknown outcomes (timeouts) leave the attempt ``unknown`` for :func:`reconcile`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from boxoffice.catalog import service as catalog
from boxoffice.merch import service as merch
from boxoffice.orders import domain
from boxoffice.orders.domain import OrderStatus
from boxoffice.orders.errors import PaymentInProgress
from boxoffice.orders.events import OrderCancelled, OrderExpired, OrderFailed, OrderPaid
from boxoffice.orders.models import Order, OrderLine, Payment, Refund
from boxoffice.orders.payments.base import (
    ConfirmRequest,
    PaymentAlreadyProcessed,
    PaymentError,
    PaymentOutcomeUnknown,
    PaymentRejected,
    PaymentState,
    ProviderPayment,
)
from boxoffice.orders.payments.registry import providers_of
from boxoffice.platform.errors import DomainError, NotFound
from boxoffice.platform.ids import new_id
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.uow import UnitOfWork
from boxoffice.seating import service as seating
from boxoffice.tickets import service as tickets
from boxoffice.tickets.contracts import TicketIssue, TicketSeat
from boxoffice.waitroom import service as waitroom

log = structlog.get_logger("boxoffice.orders")

# Payment attempt states.
READY, CONFIRMING, UNKNOWN, CAPTURED = "ready", "confirming", "unknown", "captured"
REJECTED, FAILED, ABORTED = "rejected", "failed", "aborted"
REFUNDED, PARTIALLY_REFUNDED = "refunded", "part_refunded"
CAPTURED_STATES = (CAPTURED, REFUNDED, PARTIALLY_REFUNDED)


@dataclass(frozen=True)
class Claim:
    order_id: str
    user_id: str
    amount: int
    provider: str
    payment_id: str
    reference: str


@dataclass(frozen=True)
class Settlement:
    status: str  # the order's status afterwards
    paid: bool  # False: the capture could not be honoured and was refunded (or is being)
    reason: str | None = None
    refund_sent: bool = False


async def lock_order(uow: UnitOfWork, order_id: str) -> Order | None:
    order: Order | None = await uow.session.scalar(
        select(Order).where(Order.id == order_id).with_for_update()
    )
    return order


async def _lock_payment(uow: UnitOfWork, payment_id: str) -> Payment:
    payment: Payment | None = await uow.session.scalar(
        select(Payment).where(Payment.id == payment_id).with_for_update()
    )
    if payment is None:
        raise NotFound(f"Payment {payment_id} not found.")
    return payment


async def has_merch(uow: UnitOfWork, order_id: str) -> bool:
    found = await uow.session.scalar(
        select(OrderLine.id)
        .where(OrderLine.order_id == order_id, OrderLine.kind == "merch")
        .limit(1)
    )
    return found is not None


async def end_pending(
    uow: UnitOfWork, runtime: Runtime, order: Order, status: OrderStatus, reason: str
) -> None:
    """A pending order ends without money: its hold and stock go back. No commit."""
    now = uow.clock.now()
    order.status = domain.transition(order.status, status).value
    order.closed_at = order.updated_at = now
    order.confirming_since = None
    if status is OrderStatus.FAILED:
        order.failure_reason = reason[:500]
        uow.record(OrderFailed(order_id=order.id, user_id=order.user_id, reason=reason[:500]))
    elif status is OrderStatus.EXPIRED:
        uow.record(OrderExpired(order_id=order.id, user_id=order.user_id))
    else:
        order.cancel_reason = reason[:500]
        uow.record(
            OrderCancelled(
                order_id=order.id,
                user_id=order.user_id,
                refund_amount=0,
                fee=0,
                currency=order.currency,
                reason=reason[:500],
            )
        )
    if order.hold_id:
        try:
            await seating.release_hold(uow, runtime, order.hold_id, reason=f"order_{status.value}")
        except NotFound:
            log.warning("order_hold_missing", order_id=order.id, hold_id=order.hold_id)
    if await has_merch(uow, order.id):
        await merch.release_items(uow, runtime, order_id=order.id)
    _after_commit_finished(uow, runtime, order)


def _after_commit_finished(uow: UnitOfWork, runtime: Runtime, order: Order) -> None:
    if order.show_id is None:
        return
    show_id, user_id = order.show_id, order.user_id

    async def finish() -> None:
        await waitroom.admission_finished(runtime, show_id=show_id, user_id=user_id)

    uow.on_commit(finish)


# --- 1. claim ------------------------------------------------------------------------------


async def claim(uow: UnitOfWork, order: Order, *, provider: str, reference: str | None) -> Claim:
    """Mark the (pending, checked) order as confirming and record the attempt. Commits.

    ``order`` must have been read with :func:`lock_order` in this unit of work: the row
    lock (by primary key only, so MariaDB cannot deadlock on index locks) orders
    concurrent confirms. Raises ``PaymentInProgress`` when another confirm holds the order.
    """
    now = uow.clock.now()
    if order.status != OrderStatus.PENDING.value or order.confirming_since is not None:
        raise PaymentInProgress("A payment for this order is already being confirmed.")
    order.confirming_since = order.updated_at = now
    payment: Payment | None = None
    if reference is not None:
        payment = await uow.session.scalar(
            select(Payment).where(Payment.provider == provider, Payment.reference == reference)
        )
        if payment is not None and payment.order_id != order.id:
            raise PaymentInProgress("This payment belongs to another order.")
    if payment is None:
        payment_id = new_id()
        payment = Payment(
            id=payment_id,
            order_id=order.id,
            provider=provider,
            reference=reference or f"pay_{payment_id}",
            amount=order.amount,
            captured_amount=0,
            refunded_amount=0,
            created_at=now,
            status=CONFIRMING,
            updated_at=now,
        )
        uow.session.add(payment)
    payment.status, payment.updated_at = CONFIRMING, now
    payment.failure_code = payment.failure_message = None
    await uow.commit()
    assert payment.reference is not None
    return Claim(order.id, order.user_id, order.amount, provider, payment.id, payment.reference)


async def record_outcome_unknown(runtime: Runtime, payment_id: str, error: PaymentError) -> None:
    async with runtime.uow() as uow:
        payment = await _lock_payment(uow, payment_id)
        if payment.status == CONFIRMING:
            payment.status = UNKNOWN
            payment.failure_code, payment.failure_message = error.code[:64], error.message[:500]
            payment.updated_at = uow.clock.now()
            await uow.commit()


async def record_rejection(runtime: Runtime, payment_id: str, code: str, message: str) -> None:
    """The attempt took no money: the order is free to be paid again."""
    async with runtime.uow() as uow:
        payment = await _lock_payment(uow, payment_id)
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


# --- 2. confirm at the provider ------------------------------------------------------------


async def confirm_at_provider(
    runtime: Runtime, claimed: Claim, *, token: str | None
) -> ProviderPayment:
    """The provider's confirm. Refusals are recorded (order payable again) and re-raised;
    unknown outcomes are recorded for reconciliation and re-raised."""
    provider = providers_of(runtime).get(claimed.provider)
    request = ConfirmRequest(
        order_id=claimed.order_id,
        amount=claimed.amount,
        user_id=claimed.user_id,
        reference=claimed.reference,
        idempotency_key=f"confirm-{claimed.payment_id}",
        token=token,
    )
    try:
        return await provider.confirm(request)
    except PaymentAlreadyProcessed as exc:
        found = await _lookup_or_unknown(runtime, claimed, exc)
        if found.captured_amount > 0:
            return found
        await record_rejection(runtime, claimed.payment_id, exc.code, exc.message)
        raise
    except PaymentOutcomeUnknown as exc:
        await record_outcome_unknown(runtime, claimed.payment_id, exc)
        raise
    except PaymentRejected as exc:
        await record_rejection(runtime, claimed.payment_id, exc.code, exc.message)
        raise


async def _lookup_or_unknown(
    runtime: Runtime, claimed: Claim, cause: PaymentError
) -> ProviderPayment:
    provider = providers_of(runtime).get(claimed.provider)
    try:
        found = await provider.lookup(reference=claimed.reference, order_id=claimed.order_id)
    except PaymentOutcomeUnknown as exc:
        await record_outcome_unknown(runtime, claimed.payment_id, exc)
        raise
    if found is None:
        await record_rejection(runtime, claimed.payment_id, cause.code, cause.message)
        raise cause
    return found


# --- 3. settle -----------------------------------------------------------------------------


async def _fulfil(uow: UnitOfWork, runtime: Runtime, order: Order) -> list[str]:
    """Seats sold, tickets issued, merch consumed, inside the caller's transaction."""
    ticket_ids: list[str] = []
    if order.hold_id and order.show_id:
        info = await catalog.show_sale_info(uow, order.show_id)
        if info is None or info.event_status == "cancelled" or info.show_status == "cancelled":
            raise NotFound("The show was cancelled.")
        held = await seating.sell_hold(uow, runtime, order.hold_id, order_id=order.id)
        issue = TicketIssue(
            order_id=order.id,
            user_id=order.user_id,
            show_id=order.show_id,
            event_id=info.event_id,
            seller_id=info.seller_id,
            title=info.title,
            starts_at=info.starts_at,
            currency=order.currency,
        )
        seats = [
            TicketSeat(s.seat_id, s.section, s.row, s.number, s.grade, s.price) for s in held.seats
        ]
        ticket_ids = await tickets.issue_tickets(uow, runtime, issue, seats)
    if await has_merch(uow, order.id):
        await merch.consume_items(uow, runtime, order_id=order.id)
    return ticket_ids


def _apply_capture(payment: Payment, captured: ProviderPayment, now: datetime) -> None:
    payment.captured_amount = captured.captured_amount
    payment.refunded_amount = max(payment.refunded_amount, captured.refunded_amount)
    payment.approved_at = captured.approved_at or now
    if payment.status not in (REFUNDED, PARTIALLY_REFUNDED):
        payment.status = CAPTURED
    payment.failure_code = payment.failure_message = None
    payment.updated_at = now


async def settle_capture(
    runtime: Runtime, order_id: str, payment_id: str, captured: ProviderPayment
) -> Settlement:
    """Turn a capture the provider confirmed into a paid order, or refund it in full.

    Idempotent: a capture already settled returns the paid order.
    """
    reason: str | None = None
    async with runtime.uow() as uow:
        order = await lock_order(uow, order_id)
        if order is None:
            raise NotFound(f"Order {order_id} not found.")
        payment = await _lock_payment(uow, payment_id)
        now = uow.clock.now()
        if payment.status in CAPTURED_STATES and order.status != OrderStatus.PENDING.value:
            return Settlement(order.status, paid=order.status == OrderStatus.PAID.value)
        if captured.captured_amount != order.amount:
            reason = (
                f"the provider captured {captured.captured_amount}, the order is {order.amount}"
            )
        elif order.status != OrderStatus.PENDING.value:
            reason = f"the order was already {order.status}"
        else:
            try:
                ticket_ids = await _fulfil(uow, runtime, order)
            except DomainError as exc:
                reason = f"{exc.code}: {exc.detail}"
            else:
                _apply_capture(payment, captured, now)
                order.status = domain.transition(order.status, OrderStatus.PAID).value
                order.paid_at = order.updated_at = now
                order.confirming_since = None
                uow.record(
                    OrderPaid(
                        order_id=order.id,
                        user_id=order.user_id,
                        amount=order.amount,
                        currency=order.currency,
                        show_id=order.show_id,
                        ticket_ids=ticket_ids,
                    )
                )
                _after_commit_finished(uow, runtime, order)
                await uow.commit()
                log.info(
                    "order_paid", order_id=order.id, amount=order.amount, provider=payment.provider
                )
                return Settlement(order.status, paid=True)
    assert reason is not None
    return await _refuse_capture(runtime, order_id, payment_id, captured, reason)


async def _refuse_capture(
    runtime: Runtime, order_id: str, payment_id: str, captured: ProviderPayment, reason: str
) -> Settlement:
    """Money was taken for an order we cannot honour: fail it and send it all back now."""
    log.warning("capture_refused", order_id=order_id, payment_id=payment_id, reason=reason)
    async with runtime.uow() as uow:
        order = await lock_order(uow, order_id)
        assert order is not None
        payment = await _lock_payment(uow, payment_id)
        now = uow.clock.now()
        _apply_capture(payment, captured, now)
        if order.status == OrderStatus.PENDING.value:
            await end_pending(
                uow,
                runtime,
                order,
                OrderStatus.FAILED,
                f"The payment arrived but the order could not be fulfilled ({reason}); "
                "it was refunded in full.",
            )
        refund_id = new_id()
        uow.session.add(
            Refund(
                id=refund_id,
                order_id=order.id,
                payment_id=payment.id,
                kind="automatic",
                status="pending",
                amount=captured.captured_amount - captured.refunded_amount,
                fee=0,
                reason="Order could not be fulfilled",
                claim=f"payment:{payment.id}",
                created_at=now,
            )
        )
        try:
            await uow.commit()
        except IntegrityError:  # a refund of this payment exists already
            refund_id = ""
    sent = await execute_refund(runtime, refund_id) if refund_id else False
    async with runtime.uow() as uow:
        final = await uow.session.get(Order, order_id)
        assert final is not None
        return Settlement(final.status, paid=False, reason=reason, refund_sent=sent)


# --- refunds -------------------------------------------------------------------------------


async def execute_refund(runtime: Runtime, refund_id: str) -> bool:
    """Send a pending refund to the provider and apply it. True once it is done.

    A refusal marks it failed (and frees the claim so it can be asked again); an unknown
    outcome leaves it pending for :func:`reconcile`.
    """
    async with runtime.uow() as uow:
        refund = await uow.session.get(Refund, refund_id)
        if refund is None or refund.status != "pending":
            return refund is not None and refund.status == "done"
        payment = await uow.session.get(Payment, refund.payment_id)
        assert payment is not None
        assert payment.reference is not None
        reference, order_id, amount, reason = (
            payment.reference,
            refund.order_id,
            refund.amount,
            refund.reason,
        )
        provider_name = payment.provider
    if amount == 0:
        await complete_refund(runtime, refund_id)
        return True
    provider = providers_of(runtime).get(provider_name)
    try:
        await provider.cancel(
            reference=reference,
            order_id=order_id,
            amount=amount,
            reason=reason,
            idempotency_key=f"refund-{refund_id}",
        )
    except PaymentAlreadyProcessed:
        return await _refund_if_seen(runtime, refund_id)
    except PaymentOutcomeUnknown as exc:
        log.warning("refund_outcome_unknown", refund_id=refund_id, code=exc.code)
        return False
    except PaymentRejected as exc:
        await _refund_failed(runtime, refund_id, exc.code)
        return False
    await complete_refund(runtime, refund_id)
    return True


async def _refund_if_seen(runtime: Runtime, refund_id: str) -> bool:
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
    async with runtime.uow() as uow:
        refund = await uow.session.get(Refund, refund_id)
        if refund is None or refund.status != "pending":
            return
        refund.status, refund.claim, refund.failure_code = "failed", None, code[:64]
        refund.completed_at = uow.clock.now()
        await uow.commit()
    log.error("refund_refused", refund_id=refund_id, code=code)


async def complete_refund(runtime: Runtime, refund_id: str) -> None:
    """Book a refund the provider made: the payment's ledger, and for cancellations the
    order's state, its tickets voided, its seats and stock back on sale. Idempotent."""
    async with runtime.uow() as uow:
        refund = await uow.session.scalar(
            select(Refund).where(Refund.id == refund_id).with_for_update()
        )
        if refund is None or refund.status == "done":
            return
        order = await lock_order(uow, refund.order_id)
        payment = await _lock_payment(uow, refund.payment_id)
        assert order is not None
        now = uow.clock.now()
        refund.status, refund.completed_at = "done", now
        payment.refunded_amount += refund.amount
        payment.status = (
            REFUNDED if payment.refunded_amount >= payment.captured_amount else PARTIALLY_REFUNDED
        )
        payment.updated_at = now
        if refund.kind != "automatic" and order.status == OrderStatus.PAID.value:
            order.refunded_amount += refund.amount
            order.fee = refund.fee
            order.status = domain.transition(
                order.status, domain.status_after_refund(order.amount, order.refunded_amount)
            ).value
            order.closed_at = order.updated_at = now
            order.cancel_reason = refund.reason
            seat_ids = await tickets.void_order_tickets(uow, order_id=order.id)
            if order.show_id and seat_ids:
                await seating.release_sold_seats(
                    uow, runtime, show_id=order.show_id, seat_ids=seat_ids, order_id=order.id
                )
            if await has_merch(uow, order.id):
                await merch.return_items(uow, runtime, order_id=order.id)
            uow.record(
                OrderCancelled(
                    order_id=order.id,
                    user_id=order.user_id,
                    refund_amount=refund.amount,
                    fee=refund.fee,
                    currency=order.currency,
                    reason=refund.reason,
                )
            )
        await uow.commit()
    log.info("refund_done", refund_id=refund_id, kind=refund.kind, amount=refund.amount)


# --- reconciliation ------------------------------------------------------------------------


async def reconcile(runtime: Runtime, *, batch: int = 100) -> int:
    """Settle what the process could not: unknown or stale confirms and pending refunds.

    Every decision comes from looking the payment up at the provider. Returns how many
    payments and refunds it settled.
    """
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
        refunds = list(
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
            view = (
                await providers_of(runtime)
                .get(provider_name)
                .lookup(reference=reference, order_id=order_id)
            )
        except PaymentError as exc:
            log.warning("reconcile_lookup_failed", payment_id=payment_id, code=exc.code)
            continue
        if view is not None and view.captured_amount > 0:
            await settle_capture(runtime, order_id, payment_id, view)
            settled += 1
        elif view is None or view.state is PaymentState.FAILED or updated_at <= now - stale:
            await record_rejection(
                runtime,
                payment_id,
                "NOT_CAPTURED",
                f"provider status {view.raw_status if view else 'none'}",
            )
            settled += 1
    for refund_id in refunds:
        if await _refund_if_seen(runtime, refund_id) or await execute_refund(runtime, refund_id):
            settled += 1
    if settled:
        log.info("payments_reconciled", count=settled)
    return settled


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
