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

from dataclasses import dataclass, replace
from typing import Any

import structlog
from sqlalchemy import Row, select, update
from sqlalchemy.exc import IntegrityError

from boxoffice.catalog import service as catalog
from boxoffice.merch import service as merch
from boxoffice.orders import refunds, views
from boxoffice.orders.attempts import not_this_order, record_outcome_unknown, record_rejection
from boxoffice.orders.domain import OrderStatus
from boxoffice.orders.errors import PaymentInProgress
from boxoffice.orders.events import OrderPaid
from boxoffice.orders.lifecycle import (
    CAPTURED_STATES,
    CONFIRMING,
    after_commit_finished,
    end_pending,
    lock_order,
    lock_payment,
)
from boxoffice.orders.models import Order, OrderLine, Refund
from boxoffice.orders.payments.base import (
    ConfirmRequest,
    PaymentAlreadyProcessed,
    PaymentError,
    PaymentOutcomeUnknown,
    PaymentRejected,
    ProviderPayment,
)
from boxoffice.orders.payments.registry import providers_of
from boxoffice.orders.schemas import OrderRead
from boxoffice.orders.settlement_sql import (
    ATTEMPT_BY_REFERENCE,
    MARK_PAID,
    PAYMENTS,
    START_CONFIRMING,
    apply_capture,
    capture_payment,
    insert_payment,
    receipt_of,
)
from boxoffice.platform.connection_gate import Priority
from boxoffice.platform.db import record_of
from boxoffice.platform.errors import DomainError, NotFound
from boxoffice.platform.ids import new_id
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.uow import UnitOfWork
from boxoffice.seating import service as seating
from boxoffice.tickets import service as tickets
from boxoffice.tickets.contracts import TicketIssue

log = structlog.get_logger("boxoffice.orders")


@dataclass(frozen=True)
class Claim:
    order_id: str
    user_id: str
    amount: int
    provider: str
    payment_id: str
    reference: str
    # One Idempotency-Key per confirm attempt: Toss replays the first answer to a key, so a
    # retry after a refusal or a 500 must not reuse the key of the failed attempt.
    attempt: str


@dataclass(frozen=True)
class Settlement:
    status: str  # the order's status afterwards
    paid: bool  # False: the capture could not be honoured and was refunded (or is being)
    reason: str | None = None
    refund_sent: bool = False
    view: OrderRead | None = None  # the paid order, when settling made it
    # The rule that refused the capture (e.g. the buyer's per-show limit, checked again when
    # a lapsed hold is revived), so the buyer hears its own code, not only "not payable".
    refusal: DomainError | None = None


# --- 1. claim ------------------------------------------------------------------------------


async def start_confirming(
    uow: UnitOfWork,
    order_id: str,
    *,
    user_id: str | None,
    provider: str,
    amount: int | None,
) -> Row[Any] | None:
    """Mark the order confirming if it is pending, nobody is confirming it, it is paid
    with ``provider`` (and belongs to ``user_id``, and costs ``amount``, when given): one
    conditional ``UPDATE``. The order's row, or None when any of that does not hold (the
    caller then reads the order to say why)."""
    now = uow.clock.now()
    return await START_CONFIRMING(
        await uow.connection(),
        key_id=order_id,
        set_confirming_since=now,
        set_updated_at=now,
        paid_with=provider,
        buyer=user_id,
        expected_amount=amount,
    )


async def record_attempt(
    uow: UnitOfWork, order: Row[Any], *, provider: str, reference: str | None
) -> Claim:
    """Record the payment attempt of an order :func:`start_confirming` marked. Commits.
    Raises ``PaymentInProgress`` when ``reference`` is another order's payment."""
    now = uow.clock.now()
    conn = await uow.connection()
    existing = None
    if reference is not None:
        params = {"provider": provider, "reference": reference}
        existing = (await conn.execute(ATTEMPT_BY_REFERENCE, params)).first()
        if existing is not None and existing.order_id != order.id:
            raise PaymentInProgress("This payment belongs to another order.")
    if existing is not None:
        payment_id = existing.id
        attempt = {"status": CONFIRMING, "updated_at": now}
        attempt |= {"failure_code": None, "failure_message": None}
        await conn.execute(update(PAYMENTS).where(PAYMENTS.c.id == payment_id).values(**attempt))
    else:
        payment_id = new_id()
        reference = reference or f"pay_{payment_id}"
        await insert_payment(
            conn,
            payment_id=payment_id,
            order_id=order.id,
            provider=provider,
            reference=reference,
            status=CONFIRMING,
            amount=order.amount,
            now=now,
        )
    await uow.commit()
    assert reference is not None
    return Claim(order.id, order.user_id, order.amount, provider, payment_id, reference, new_id())


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
        idempotency_key=f"confirm-{claimed.attempt}",
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


@dataclass(frozen=True)
class Fulfilled:
    """What paying an order made: its tickets, and its lines as the answer shows them."""

    ticket_ids: list[str]
    lines: list[Any]


async def _fulfil(uow: UnitOfWork, runtime: Runtime, order: Any) -> Fulfilled:
    """Seats sold, tickets issued, merch consumed, inside the caller's transaction.
    ``order`` is its row (ORM or Core: the same names)."""
    ticket_ids: list[str] = []
    lines: list[Any] = []
    if order.hold_id and order.show_id:
        info = await catalog.show_sale_info(uow, order.show_id, runtime=runtime)
        if info is None or info.event_status == "cancelled" or info.show_status == "cancelled":
            raise NotFound("The show was cancelled.")
        held = await seating.sell_hold(uow, runtime, order.hold_id, order_id=order.id, info=info)
        issue = record_of(
            TicketIssue, info, order_id=order.id, user_id=order.user_id, currency=order.currency
        )
        ticket_ids = await tickets.issue_tickets(uow, runtime, issue, held.seats)
        lines = [views.seat_line(seat, position) for position, seat in enumerate(held.seats)]
    if order.delivery is not None:  # the order has goods (placing keeps their delivery)
        await merch.consume_items(uow, runtime, order_id=order.id)
        lines = list(
            await uow.session.scalars(
                select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.position)
            )
        )
    return Fulfilled(ticket_ids, lines)


async def settle_capture(
    runtime: Runtime, order_id: str, payment_id: str, captured: ProviderPayment
) -> Settlement:
    """Turn a capture the provider confirmed into a paid order, or refund it in full.

    One transaction in the common case: the order becomes paid by a conditional
    ``UPDATE`` (pending, and the amount is the one captured), its seats are sold, its
    tickets issued and its goods consumed, the attempt marked captured, ``OrderPaid``
    recorded; the answer is made from that, unread. Anything else (a settle already
    done, an amount that differs, an order no longer pending) goes through
    :func:`_settle_otherwise`. Idempotent: a capture already settled returns the order.
    """
    if captured.order_id and captured.order_id != order_id:
        await not_this_order(runtime, order_id, payment_id, captured)
    reason: str | None = None
    refusal: DomainError | None = None
    async with runtime.uow(priority=Priority.SETTLING) as uow:
        now = uow.clock.now()
        order = await MARK_PAID(
            await uow.connection(),
            key_id=order_id,
            set_status=OrderStatus.PAID.value,
            set_paid_at=now,
            set_updated_at=now,
            set_confirming_since=None,
            captured=captured.captured_amount,
        )
        if order is not None:
            try:
                fulfilled = await _fulfil(uow, runtime, order)
            except DomainError as exc:
                reason, refusal = f"{exc.code}: {exc.detail}", exc
            else:
                await capture_payment(uow, payment_id, captured)
                uow.record(
                    OrderPaid(
                        order_id=order.id,
                        user_id=order.user_id,
                        amount=order.amount,
                        currency=order.currency,
                        show_id=order.show_id,
                        ticket_ids=fulfilled.ticket_ids,
                        seller_id=order.seller_id,
                    )
                )
                after_commit_finished(uow, runtime, order)
                await uow.commit()
                log.info("order_paid", order_id=order.id, amount=order.amount)
                method, receipt_url = receipt_of(captured)
                receipt = {"method": method, "receipt_url": receipt_url, "approved_at": now}
                view = views.order_read(order, fulfilled.lines, fulfilled.ticket_ids, receipt)
                return Settlement(order.status, paid=True, view=view)
    if reason is None:
        return await _settle_otherwise(runtime, order_id, payment_id, captured)
    refused = await _refuse_capture(runtime, order_id, payment_id, captured, reason)
    return replace(refused, refusal=refusal)


async def _settle_otherwise(
    runtime: Runtime, order_id: str, payment_id: str, captured: ProviderPayment
) -> Settlement:
    """A capture the common case did not settle: already settled (a repeat), or one we
    cannot honour (refunded in full)."""
    async with runtime.uow() as uow:
        order = await lock_order(uow, order_id)
        if order is None:
            raise NotFound(f"Order {order_id} not found.")
        payment = await lock_payment(uow, payment_id)
        if payment.status in CAPTURED_STATES and order.status != OrderStatus.PENDING.value:
            return Settlement(order.status, paid=order.status == OrderStatus.PAID.value)
        if captured.captured_amount != order.amount:
            reason = (
                f"the provider captured {captured.captured_amount}, the order is {order.amount}"
            )
        else:
            reason = f"the order was already {order.status}"
    return await _refuse_capture(runtime, order_id, payment_id, captured, reason)


async def _refuse_capture(
    runtime: Runtime, order_id: str, payment_id: str, captured: ProviderPayment, reason: str
) -> Settlement:
    """Money was taken for an order we cannot honour: fail it and send it all back now."""
    log.warning("capture_refused", order_id=order_id, payment_id=payment_id, reason=reason)
    async with runtime.uow() as uow:
        order = await lock_order(uow, order_id)
        assert order is not None
        payment = await lock_payment(uow, payment_id)
        now = uow.clock.now()
        apply_capture(payment, captured, now)
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
    sent = await refunds.execute_refund(runtime, refund_id) if refund_id else False
    async with runtime.uow() as uow:
        final = await uow.session.get(Order, order_id)
        assert final is not None
        return Settlement(final.status, paid=False, reason=reason, refund_sent=sent)
