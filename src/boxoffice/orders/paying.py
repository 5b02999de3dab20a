"""Paying an order: the three providers' ways in (internal pay, Toss confirm and
redirects and webhooks, KakaoPay approve) all go through one claim and one settlement."""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from sqlalchemy import select

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
from boxoffice.orders.models import Payment
from boxoffice.orders.payments import base as payments
from boxoffice.orders.payments.kakaopay import KakaoPayProvider
from boxoffice.orders.payments.registry import providers_of
from boxoffice.orders.schemas import OrderRead
from boxoffice.platform.connection_gate import Priority
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Principal

log = structlog.get_logger("boxoffice.orders")


@dataclass(frozen=True)
class _Confirm:
    """One way in asking to take the order's money: whose (None: a provider's redirect,
    trusted by its reference), with which provider and payment, for how much (None: the
    order's), with the provider's one-time token where it gives one."""

    order_id: str
    user: Principal | None
    provider: str
    reference: str | None = None
    amount: int | None = None
    token: str | None = None


async def _claim(runtime: Runtime, confirm: _Confirm) -> settlement.Claim | OrderRead:
    """Claim the order for one confirm (one conditional ``UPDATE`` when it is payable);
    otherwise an already-paid order with this payment comes back as its view (a
    duplicate confirm), and anything else not payable is refused."""
    order_id, user, provider = confirm.order_id, confirm.user, confirm.provider
    reference, amount = confirm.reference, confirm.amount
    async with runtime.uow(priority=Priority.FINISHING) as uow:
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


async def _pay(runtime: Runtime, confirm: _Confirm) -> OrderRead:
    claimed = await _claim(runtime, confirm)
    if isinstance(claimed, OrderRead):
        return claimed
    order_id = confirm.order_id
    try:
        captured = await settlement.confirm_at_provider(runtime, claimed, token=confirm.token)
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
    return await _pay(runtime, _Confirm(order_id, user, "internal"))


async def confirm_toss(
    runtime: Runtime, user: Principal | None, *, payment_key: str, order_id: str, amount: int
) -> OrderRead:
    """Confirm a Toss payment the buyer authenticated. The amount is compared with the order
    first (``PaymentAmountMismatch``, nothing confirmed); a repeat returns the paid order."""
    return await _pay(runtime, _Confirm(order_id, user, "toss", payment_key, amount))


async def approve_kakaopay(runtime: Runtime, *, order_id: str, pg_token: str) -> OrderRead:
    """Approve the KakaoPay payment of the order with the ``pg_token`` of the redirect."""
    async with runtime.uow() as uow:
        # The newest one given up last: a checkout opened again (POST /orders/{id}/payment)
        # aborts the one before, which may bear the same time.
        tid = await uow.session.scalar(
            select(Payment.reference)
            .where(Payment.order_id == order_id, Payment.provider == "kakaopay")
            .order_by(
                (Payment.status == lifecycle.ABORTED).asc(),
                Payment.created_at.desc(),
                Payment.id.desc(),
            )
            .limit(1)
        )
    if tid is None:
        raise OrderNotFound(f"Order {order_id} has no KakaoPay payment.")
    return await _pay(runtime, _Confirm(order_id, None, "kakaopay", tid, token=pg_token))


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
