"""Paying an order: the three providers' ways in (internal pay, Toss confirm and
redirects and webhooks, KakaoPay approve) all go through one claim and one settlement."""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from boxoffice.orders import lifecycle, settlement, views
from boxoffice.orders.domain import OrderStatus
from boxoffice.orders.errors import (
    OrderNotFound,
    OrderNotPayable,
    PaymentAmountMismatch,
    PaymentInProgress,
    PaymentProviderError,
    PaymentRejected,
)
from boxoffice.orders.lifecycle import lock_order
from boxoffice.orders.models import Order, Payment, WebhookReceipt
from boxoffice.orders.payments import base as payments
from boxoffice.orders.payments.kakaopay import KakaoPayProvider
from boxoffice.orders.payments.registry import providers_of
from boxoffice.orders.schemas import OrderRead
from boxoffice.platform.errors import (
    BadRequest,
    ServiceUnavailable,
)
from boxoffice.platform.ids import new_id
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Principal

log = structlog.get_logger("boxoffice.orders")


async def _claim(
    runtime: Runtime,
    order_id: str,
    *,
    user: Principal | None,
    provider: str,
    reference: str | None,
    amount: int | None,
) -> settlement.Claim | OrderRead:
    """Claim the order for one confirm (one conditional ``UPDATE`` when it is payable);
    otherwise an already-paid order with this payment comes back as its view (a
    duplicate confirm), and anything else not payable is refused."""
    async with runtime.uow() as uow:
        claimable = await settlement.start_confirming(
            uow, order_id, user_id=user.id if user else None, provider=provider, amount=amount
        )
        if claimable is not None:
            return await settlement.record_attempt(
                uow, claimable, provider=provider, reference=reference
            )
    async with runtime.uow() as uow:
        order = await lock_order(uow, order_id)
        if order is None or (user is not None and order.user_id != user.id):
            raise OrderNotFound(f"Order {order_id} not found.")
        if order.provider != provider:
            raise OrderNotPayable(f"This order is paid with {order.provider}, not {provider}.")
        if order.status == OrderStatus.PAID.value:
            paid_with = await uow.session.scalar(
                select(Payment.id).where(
                    Payment.order_id == order.id,
                    Payment.status.in_(lifecycle.CAPTURED_STATES),
                    *([Payment.reference == reference] if reference else []),
                )
            )
            if paid_with is not None:
                return await views.order_view(uow, order)
        if order.status != OrderStatus.PENDING.value:
            raise OrderNotPayable(f"The order is {order.status}.", order_status=order.status)
        if amount is not None and amount != order.amount:
            raise PaymentAmountMismatch(
                f"The order's amount is {order.amount} {order.currency}, not {amount}.",
                expected=order.amount,
            )
        raise PaymentInProgress("A payment for this order is already being confirmed.")


async def _pay(
    runtime: Runtime,
    order_id: str,
    *,
    user: Principal | None,
    provider: str,
    reference: str | None,
    amount: int | None,
    token: str | None = None,
) -> OrderRead:
    claimed = await _claim(
        runtime, order_id, user=user, provider=provider, reference=reference, amount=amount
    )
    if isinstance(claimed, OrderRead):
        return claimed
    try:
        captured = await settlement.confirm_at_provider(runtime, claimed, token=token)
    except payments.PaymentOutcomeUnknown as exc:
        raise PaymentProviderError(
            "The payment provider did not answer; the payment will be checked and settled "
            "shortly. Look at the order again in a minute.",
            order_id=order_id,
            provider_code=exc.code,
        ) from exc
    except payments.PaymentRejected as exc:
        raise PaymentRejected(exc.message, order_id=order_id, provider_code=exc.code) from exc
    result = await settlement.settle_capture(runtime, order_id, claimed.payment_id, captured)
    if not result.paid:
        refusal = result.refusal
        if refusal is not None and refusal.status == 422:  # a rule of the sale (the limit)
            raise type(refusal)(
                f"{refusal.detail} The payment was refunded in full.",
                **refusal.extra,
                order_id=order_id,
                order_status=result.status,
                refunded=result.refund_sent,
            )
        raise OrderNotPayable(
            "The order could not be fulfilled (its seats are no longer available); "
            "the payment was refunded in full.",
            order_id=order_id,
            order_status=result.status,
            refunded=result.refund_sent,
        )
    return result.view or await views.read_order(runtime, order_id)


async def pay_internal(runtime: Runtime, user: Principal, order_id: str) -> OrderRead:
    """Pay with the simulated provider (tests and demos)."""
    return await _pay(
        runtime, order_id, user=user, provider="internal", reference=None, amount=None
    )


async def confirm_toss(
    runtime: Runtime, user: Principal | None, *, payment_key: str, order_id: str, amount: int
) -> OrderRead:
    """Confirm a Toss payment the buyer authenticated. The amount is compared with the order
    first (``PaymentAmountMismatch``, nothing confirmed); a repeat returns the paid order."""
    return await _pay(
        runtime, order_id, user=user, provider="toss", reference=payment_key, amount=amount
    )


async def approve_kakaopay(runtime: Runtime, *, order_id: str, pg_token: str) -> OrderRead:
    """Approve the KakaoPay payment of the order with the ``pg_token`` of the redirect."""
    async with runtime.uow() as uow:
        tid = await uow.session.scalar(
            select(Payment.reference)
            .where(Payment.order_id == order_id, Payment.provider == "kakaopay")
            .order_by(Payment.created_at.desc())
            .limit(1)
        )
    if tid is None:
        raise OrderNotFound(f"Order {order_id} has no KakaoPay payment.")
    return await _pay(
        runtime,
        order_id,
        user=None,
        provider="kakaopay",
        reference=tid,
        amount=None,
        token=pg_token,
    )


async def abort_kakaopay(
    runtime: Runtime, *, order_id: str, outcome: str, signature: str | None
) -> bool:
    """The buyer cancelled or failed in KakaoPay: the ready payment is dead; the order stays
    pending (the buyer may cancel it or let it expire). The redirect carries no bearer
    token, so only a URL we gave KakaoPay (signed ``sig``) may abort; anything else changes
    nothing and returns False."""
    provider = providers_of(runtime).get("kakaopay")
    if not isinstance(provider, KakaoPayProvider) or not provider.signed_redirect(
        order_id, signature
    ):
        log.warning("kakaopay_abort_unsigned", order_id=order_id[:64], outcome=outcome)
        return False
    async with runtime.uow() as uow:
        payment = await uow.session.scalar(
            select(Payment).where(
                Payment.order_id == order_id,
                Payment.provider == "kakaopay",
                Payment.status == lifecycle.READY,
            )
        )
        if payment is not None:
            payment.status, payment.failure_code = lifecycle.ABORTED, outcome[:64]
            payment.updated_at = uow.clock.now()
            await uow.commit()
    return True


async def handle_toss_webhook(
    runtime: Runtime, transmission_id: str | None, body: dict[str, Any]
) -> str:
    """A Toss ``PAYMENT_STATUS_CHANGED``. Nothing in the body is trusted: the payment is
    fetched again from Toss, and only what Toss says is acted on. A transmission id seen
    before is acknowledged and ignored. Returns what was done."""
    if not transmission_id:
        raise BadRequest("tosspayments-webhook-transmission-id header required.")
    async with runtime.uow() as uow:
        if await uow.session.get(WebhookReceipt, transmission_id[:128]) is not None:
            return "duplicate"
    event_type = str(body.get("eventType", ""))[:64]
    data = body.get("data") if isinstance(body.get("data"), dict) else {}
    assert isinstance(data, dict)
    payment_key = data.get("paymentKey")
    outcome = "ignored"
    if event_type == "PAYMENT_STATUS_CHANGED" and isinstance(payment_key, str) and payment_key:
        outcome = await _webhook_payment(runtime, payment_key[:200])
    async with runtime.uow() as uow:
        uow.session.add(
            WebhookReceipt(
                transmission_id=transmission_id[:128],
                provider="toss",
                event_type=event_type or "unknown",
                reference=payment_key[:200] if isinstance(payment_key, str) else None,
                outcome=outcome,
                received_at=uow.clock.now(),
            )
        )
        try:
            await uow.commit()
        except IntegrityError:
            return "duplicate"
    return outcome


async def _webhook_payment(runtime: Runtime, payment_key: str) -> str:
    try:
        view = await providers_of(runtime).get("toss").lookup(reference=payment_key, order_id="")
    except payments.PaymentError as exc:
        raise ServiceUnavailable("Toss could not be asked about this payment; retry.") from exc
    if view is None:
        return "unknown_payment"
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
            now = uow.clock.now()
            payment = Payment(
                id=new_id(),
                order_id=order.id,
                provider="toss",
                reference=payment_key,
                status=lifecycle.UNKNOWN,
                amount=order.amount,
                captured_amount=0,
                refunded_amount=0,
                created_at=now,
                updated_at=now,
            )
            uow.session.add(payment)
            await uow.commit()
        payment_id = payment.id
        if payment.status in lifecycle.CAPTURED_STATES:
            return "already_settled"
    result = await settlement.settle_capture(runtime, view.order_id, payment_id, view)
    return "settled" if result.paid else "refunded"
