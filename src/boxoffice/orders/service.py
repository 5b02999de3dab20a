"""orders' use cases: the only module other contexts may call.

Placing an order commits once; paying, cancelling and reconciling call a payment provider
over the network, so they run as short units of work around the call (``settlement``
says why and how) and take the ``runtime`` rather than one ``uow``.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from boxoffice.catalog import service as catalog
from boxoffice.merch import service as merch
from boxoffice.merch.contracts import Delivery
from boxoffice.orders import domain, settlement
from boxoffice.orders import models as models  # tables visible to Alembic
from boxoffice.orders.domain import OrderStatus
from boxoffice.orders.errors import (
    CancellationClosed,
    EmptyOrder,
    IdempotencyKeyMissing,
    OrderNotCancellable,
    OrderNotFound,
    OrderNotPayable,
    PaymentAmountMismatch,
    PaymentInProgress,
    PaymentProviderError,
    PaymentRejected,
)
from boxoffice.orders.models import Order, OrderLine, Payment, Refund, WebhookReceipt
from boxoffice.orders.payments import base as payments
from boxoffice.orders.payments.registry import providers_of
from boxoffice.orders.schemas import LineRead, OrderCreate, OrderRead
from boxoffice.platform.errors import (
    BadRequest,
    IdempotencyConflict,
    ServiceUnavailable,
    Unprocessable,
)
from boxoffice.platform.ids import new_id
from boxoffice.platform.jsonutil import dumps
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Principal, Role
from boxoffice.platform.uow import UnitOfWork
from boxoffice.seating import service as seating
from boxoffice.tickets import service as tickets

log = structlog.get_logger("boxoffice.orders")

# A merch-only order (no hold to expire with) lapses after this long unpaid.
MERCH_ORDER_MINUTES = 15


OrderView = OrderRead


# --- reading -------------------------------------------------------------------------------


async def _view(uow: UnitOfWork, order: Order) -> OrderView:
    """The order as plain data, read inside the unit of work (rows expire when it ends)."""
    lines = (
        await uow.session.execute(
            select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.position)
        )
    ).scalars()
    checkout = json.loads(order.checkout) if order.checkout else {}
    return OrderRead(
        id=order.id,
        status=order.status,
        amount=order.amount,
        currency=order.currency,
        refunded_amount=order.refunded_amount,
        fee=order.fee,
        expires_at=order.expires_at,
        created_at=order.created_at,
        paid_at=order.paid_at,
        closed_at=order.closed_at,
        show_id=order.show_id,
        event_id=order.event_id,
        hold_id=order.hold_id,
        lines=[
            LineRead(
                kind=line.kind,
                ref=line.ref,
                description=line.description,
                quantity=line.quantity,
                unit_price=line.unit_price,
                amount=line.amount,
            )
            for line in lines
        ],
        payment={"provider": order.provider, **checkout},
        delivery=json.loads(order.delivery) if order.delivery else None,
        ticket_ids=await tickets.order_ticket_ids(uow, order.id),
        failure_reason=order.failure_reason,
        cancel_reason=order.cancel_reason,
    )


async def _visible(uow: UnitOfWork, user: Principal, order_id: str) -> Order:
    order = await uow.session.get(Order, order_id)
    if order is None or (order.user_id != user.id and not user.has_role(Role.ADMIN)):
        raise OrderNotFound(f"Order {order_id} not found.")
    return order


async def get_order(uow: UnitOfWork, user: Principal, order_id: str) -> OrderView:
    """The order for its buyer or an admin; anyone else gets ``OrderNotFound`` (404)."""
    return await _view(uow, await _visible(uow, user, order_id))


async def read_order(runtime: Runtime, order_id: str) -> OrderView:
    async with runtime.uow() as uow:
        order = await uow.session.get(Order, order_id)
        if order is None:
            raise OrderNotFound(f"Order {order_id} not found.")
        return await _view(uow, order)


async def list_orders(
    uow: UnitOfWork, user: Principal, *, cursor: str | None, limit: int
) -> tuple[list[OrderView], str | None]:
    """The user's orders, newest first (ids are time-ordered); ``cursor`` is the last id seen."""
    query = select(Order).where(Order.user_id == user.id)
    if cursor:
        query = query.where(Order.id < cursor)
    rows = list(
        (await uow.session.execute(query.order_by(Order.id.desc()).limit(limit + 1))).scalars()
    )
    more = len(rows) > limit
    rows = rows[:limit]
    views = [await _view(uow, order) for order in rows]
    return views, rows[-1].id if more and rows else None


# --- placing an order ----------------------------------------------------------------------


def _request_hash(body: OrderCreate) -> str:
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


async def _replay(uow: UnitOfWork, order: Order, request_hash: str) -> OrderView:
    if order.request_hash != request_hash:
        raise IdempotencyConflict(
            "This Idempotency-Key was used for a different order request.", order_id=order.id
        )
    return await _view(uow, order)


async def _by_key(uow: UnitOfWork, user_id: str, key: str) -> Order | None:
    found: Order | None = await uow.session.scalar(
        select(Order).where(Order.user_id == user_id, Order.idempotency_key == key)
    )
    return found


async def create_order(
    runtime: Runtime, user: Principal, body: OrderCreate, idempotency_key: str | None
) -> tuple[OrderView, bool]:
    """Place an order from the user's hold and/or merch items; returns (order, created).

    The server computes the amount from the hold's grade prices and the items' prices.
    The same ``idempotency_key`` with the same body returns the same order (created=False);
    with another body raises ``IdempotencyConflict``. Raises seating's ``HoldExpired`` /
    ``HoldNotFound`` / ``Conflict``, merch's ``OutOfStock`` and the like, and
    ``PaymentProviderError`` when the provider cannot open the checkout (the order fails).
    """
    if not idempotency_key or len(idempotency_key) > 255:
        raise IdempotencyKeyMissing("Send an Idempotency-Key header (at most 255 characters).")
    if not body.hold_id and not body.items:
        raise EmptyOrder(
            "An order needs a hold_id, items, or both.",
            errors=[{"loc": ["body", "hold_id"], "msg": "give a hold or items"}],
        )
    provider = providers_of(runtime).get(body.payment_provider)
    delivery = Delivery.from_dict(body.delivery) if body.items else None
    request_hash = _request_hash(body)
    async with runtime.uow() as uow:
        existing = await _by_key(uow, user.id, idempotency_key)
        if existing is not None:
            return await _replay(uow, existing, request_hash), False
        order = await _build(uow, runtime, user, body, delivery, idempotency_key, request_hash)
        request: payments.PaymentRequest | None = None
        try:
            await uow.commit()
            request = _payment_request(order)
        except IntegrityError:
            pass  # the same key raced in from another request: answer with that order
    if request is None:
        async with runtime.uow() as uow:
            existing = await _by_key(uow, user.id, idempotency_key)
            if existing is None:
                raise PaymentInProgress("This hold is already being ordered.")
            return await _replay(uow, existing, request_hash), False
    await _prepare(runtime, request, provider)
    return await read_order(runtime, request.order_id), True


async def _build(
    uow: UnitOfWork,
    runtime: Runtime,
    user: Principal,
    body: OrderCreate,
    delivery: Delivery | None,
    key: str,
    request_hash: str,
) -> Order:
    now = uow.clock.now()
    order_id = new_id()
    lines: list[OrderLine] = []
    show_id = event_id = seller_id = None
    title = "Goods"
    currency: str | None = None
    ticket_amount = 0
    expires_at = now + timedelta(minutes=MERCH_ORDER_MINUTES)

    def line(kind: str, ref: str, description: str, quantity: int, unit_price: int) -> None:
        domain.check_amount(unit_price)
        lines.append(
            OrderLine(
                id=new_id(),
                order_id=order_id,
                position=len(lines),
                kind=kind,
                ref=ref,
                description=description[:200],
                quantity=quantity,
                unit_price=unit_price,
                amount=unit_price * quantity,
            )
        )

    if body.hold_id:
        held = await seating.attach_order(
            uow, runtime, body.hold_id, order_id=order_id, user_id=user.id
        )
        info = await catalog.show_sale_info(uow, held.show_id, runtime=runtime)
        if info is None:
            raise OrderNotPayable("The show of this hold no longer exists.")
        for seat in held.seats:
            line(
                "seat",
                seat.seat_id,
                f"{seat.grade} {seat.section} {seat.row}-{seat.number}",
                1,
                seat.price,
            )
        show_id, event_id, seller_id, title = (
            held.show_id,
            info.event_id,
            info.seller_id,
            info.title,
        )
        currency, ticket_amount, expires_at = held.currency, held.amount, held.expires_at
    if body.items:
        reserved = await merch.reserve_items(
            uow,
            runtime,
            order_id=order_id,
            user_id=user.id,
            items=[(item.sku, item.quantity) for item in body.items],
            expires_at=expires_at,
        )
        for item in reserved:
            if currency is not None and item.currency != currency:
                raise Unprocessable(
                    "Goods and tickets in another currency cannot share an order.",
                    errors=[{"loc": ["body", "items"], "msg": f"{item.sku} is in {item.currency}"}],
                )
            currency = currency or item.currency
            event_id = event_id or item.event_id
            line("merch", item.sku, f"{item.name} ({item.option})", item.quantity, item.unit_price)
    seats = sum(1 for entry in lines if entry.kind == "seat")
    goods = sum(entry.quantity for entry in lines if entry.kind == "merch")
    parts = [f"{seats} seat{'s' if seats != 1 else ''}"] if seats else []
    parts += [f"{goods} item{'s' if goods != 1 else ''}"] if goods else []
    order = Order(
        id=order_id,
        user_id=user.id,
        status=OrderStatus.PENDING.value,
        provider=body.payment_provider,
        currency=currency or "KRW",
        amount=sum(entry.amount for entry in lines),
        ticket_amount=ticket_amount,
        ticket_count=seats,
        refunded_amount=0,
        fee=0,
        name=f"{title} ({', '.join(parts)})"[:200],
        show_id=show_id,
        event_id=event_id,
        seller_id=seller_id,
        hold_id=body.hold_id,
        delivery=dumps(delivery.to_dict()).decode() if delivery else None,
        idempotency_key=key,
        request_hash=request_hash,
        created_at=now,
        updated_at=now,
        expires_at=expires_at,
    )
    uow.session.add(order)
    await uow.session.flush()  # the order row before its lines (foreign key)
    uow.session.add_all(lines)
    return order


def _payment_request(order: Order) -> payments.PaymentRequest:
    return payments.PaymentRequest(
        order_id=order.id,
        order_name=order.name,
        amount=order.amount,
        currency=order.currency,
        user_id=order.user_id,
        quantity=max(1, order.ticket_count),
    )


async def _prepare(
    runtime: Runtime, request: payments.PaymentRequest, provider: payments.PaymentProvider
) -> None:
    try:
        checkout = await provider.prepare(request)
    except payments.PaymentError as exc:
        async with runtime.uow() as uow:
            locked = await settlement.lock_order(uow, request.order_id)
            if locked is not None and locked.status == OrderStatus.PENDING.value:
                await settlement.end_pending(
                    uow, runtime, locked, OrderStatus.FAILED, f"checkout failed: {exc.code}"
                )
                await uow.commit()
        raise PaymentProviderError(
            "The payment provider could not open the checkout; try again.",
            order_id=request.order_id,
            provider_code=exc.code,
        ) from exc
    async with runtime.uow() as uow:
        locked = await settlement.lock_order(uow, request.order_id)
        assert locked is not None
        locked.checkout = dumps(checkout.params).decode()
        if checkout.reference is not None:
            now = uow.clock.now()
            uow.session.add(
                Payment(
                    id=new_id(),
                    order_id=request.order_id,
                    provider=provider.name,
                    reference=checkout.reference,
                    status=settlement.READY,
                    amount=request.amount,
                    captured_amount=0,
                    refunded_amount=0,
                    created_at=now,
                    updated_at=now,
                )
            )
        await uow.commit()


# --- paying --------------------------------------------------------------------------------


async def _claim(
    runtime: Runtime,
    order_id: str,
    *,
    user: Principal | None,
    provider: str,
    reference: str | None,
    amount: int | None,
) -> settlement.Claim | OrderView:
    """Check and claim the order for one confirm; an already-paid order with this payment
    comes back as its view (a duplicate confirm), anything else not payable is refused."""
    async with runtime.uow() as uow:
        order = await settlement.lock_order(uow, order_id)
        if order is None or (user is not None and order.user_id != user.id):
            raise OrderNotFound(f"Order {order_id} not found.")
        if order.provider != provider:
            raise OrderNotPayable(f"This order is paid with {order.provider}, not {provider}.")
        if order.status == OrderStatus.PAID.value:
            paid_with = await uow.session.scalar(
                select(Payment.id).where(
                    Payment.order_id == order.id,
                    Payment.status.in_(settlement.CAPTURED_STATES),
                    *([Payment.reference == reference] if reference else []),
                )
            )
            if paid_with is not None:
                return await _view(uow, order)
        if order.status != OrderStatus.PENDING.value:
            raise OrderNotPayable(f"The order is {order.status}.", order_status=order.status)
        if amount is not None and amount != order.amount:
            raise PaymentAmountMismatch(
                f"The order's amount is {order.amount} {order.currency}, not {amount}.",
                expected=order.amount,
            )
        return await settlement.claim(uow, order, provider=provider, reference=reference)


async def _pay(
    runtime: Runtime,
    order_id: str,
    *,
    user: Principal | None,
    provider: str,
    reference: str | None,
    amount: int | None,
    token: str | None = None,
) -> OrderView:
    claimed = await _claim(
        runtime, order_id, user=user, provider=provider, reference=reference, amount=amount
    )
    if isinstance(claimed, OrderView):
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
        raise OrderNotPayable(
            "The order could not be fulfilled (its seats are no longer available); "
            "the payment was refunded in full.",
            order_id=order_id,
            order_status=result.status,
            refunded=result.refund_sent,
        )
    return await read_order(runtime, order_id)


async def pay_internal(runtime: Runtime, user: Principal, order_id: str) -> OrderView:
    """Pay with the simulated provider (tests and demos)."""
    return await _pay(
        runtime, order_id, user=user, provider="internal", reference=None, amount=None
    )


async def confirm_toss(
    runtime: Runtime, user: Principal | None, *, payment_key: str, order_id: str, amount: int
) -> OrderView:
    """Confirm a Toss payment the buyer authenticated. The amount is compared with the order
    first (``PaymentAmountMismatch``, nothing confirmed); a repeat returns the paid order."""
    return await _pay(
        runtime, order_id, user=user, provider="toss", reference=payment_key, amount=amount
    )


async def approve_kakaopay(runtime: Runtime, *, order_id: str, pg_token: str) -> OrderView:
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


async def abort_kakaopay(runtime: Runtime, *, order_id: str, outcome: str) -> None:
    """The buyer cancelled or failed in KakaoPay: the ready payment is dead; the order stays
    pending (the buyer may cancel it or let it expire)."""
    async with runtime.uow() as uow:
        payment = await uow.session.scalar(
            select(Payment).where(
                Payment.order_id == order_id,
                Payment.provider == "kakaopay",
                Payment.status == settlement.READY,
            )
        )
        if payment is not None:
            payment.status, payment.failure_code = settlement.ABORTED, outcome[:64]
            payment.updated_at = uow.clock.now()
            await uow.commit()


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
                status=settlement.UNKNOWN,
                amount=order.amount,
                captured_amount=0,
                refunded_amount=0,
                created_at=now,
                updated_at=now,
            )
            uow.session.add(payment)
            await uow.commit()
        payment_id = payment.id
        if payment.status in settlement.CAPTURED_STATES:
            return "already_settled"
    result = await settlement.settle_capture(runtime, view.order_id, payment_id, view)
    return "settled" if result.paid else "refunded"


# --- cancelling ----------------------------------------------------------------------------


async def cancel_order(runtime: Runtime, user: Principal, order_id: str, reason: str) -> OrderView:
    """Cancel an order: a pending one is given up (hold and stock back); a paid one is
    refunded minus the fee of the current window (admins refund in full), its tickets
    voided and its seats and stock put back on sale.

    Raises ``OrderNotFound`` (not the buyer's), ``CancellationClosed`` (past the cutoff),
    ``OrderNotCancellable``, ``PaymentInProgress``, ``PaymentProviderError`` (the refund
    could not be made now; a refund still pending is completed by reconciliation).
    """
    admin = user.has_role(Role.ADMIN)
    async with runtime.uow() as uow:
        order = await settlement.lock_order(uow, order_id)
        if order is None or (order.user_id != user.id and not admin):
            raise OrderNotFound(f"Order {order_id} not found.")
        if order.status == OrderStatus.PENDING.value:
            if order.confirming_since is not None:
                raise PaymentInProgress("A payment is being confirmed; try again in a moment.")
            await settlement.end_pending(uow, runtime, order, OrderStatus.CANCELLED, reason)
            await uow.commit()
            return await _view(uow, order)
        if order.status != OrderStatus.PAID.value:
            raise OrderNotCancellable(f"The order is {order.status}.", order_status=order.status)
        refund_id = await _claim_refund(
            uow, runtime, order, reason, full=admin, kind="cancellation"
        )
    if not await settlement.execute_refund(runtime, refund_id):
        raise PaymentProviderError(
            "The refund could not be completed now; it will be retried.", order_id=order_id
        )
    return await read_order(runtime, order_id)


async def quote_cancellation(
    uow: UnitOfWork, runtime: Runtime, order: Order
) -> domain.CancellationQuote:
    now = uow.clock.now()
    if order.show_id is None:  # goods only: refunded in full until they ship
        return domain.CancellationQuote(True, 0, order.amount - order.refunded_amount, "goods")
    info = await catalog.show_sale_info(uow, order.show_id)
    if info is None:
        return domain.CancellationQuote(True, 0, order.amount, "show_gone")
    return domain.cancellation_quote(
        info.cancellation,
        ticket_amount=order.ticket_amount,
        ticket_count=order.ticket_count,
        other_amount=order.amount - order.ticket_amount,
        booked_at=order.paid_at or order.created_at,
        show_starts_at=info.starts_at,
        now=now,
    )


async def _claim_refund(
    uow: UnitOfWork, runtime: Runtime, order: Order, reason: str, *, full: bool, kind: str
) -> str:
    if full:
        refund, fee = order.amount - order.refunded_amount, 0
    else:
        quote = await quote_cancellation(uow, runtime, order)
        if not quote.allowed:
            raise CancellationClosed(
                "Tickets cannot be cancelled this close to the show.", rule=quote.rule
            )
        refund, fee = quote.refund, quote.fee
    payment = await uow.session.scalar(
        select(Payment).where(
            Payment.order_id == order.id, Payment.status.in_(settlement.CAPTURED_STATES)
        )
    )
    if payment is None:
        raise OrderNotCancellable("The order has no captured payment to refund.")
    refund_id = new_id()
    uow.session.add(
        Refund(
            id=refund_id,
            order_id=order.id,
            payment_id=payment.id,
            kind=kind,
            status="pending",
            amount=refund,
            fee=fee,
            reason=reason[:500] or "cancelled",
            claim=f"order:{order.id}",
            created_at=uow.clock.now(),
        )
    )
    try:
        await uow.commit()
    except IntegrityError as exc:
        raise PaymentInProgress("This order is already being refunded.") from exc
    return refund_id


async def refund_event_orders(runtime: Runtime, event_id: str) -> int:
    """Full refunds of every paid order of a cancelled event; pending ones are cancelled.

    Each order is its own unit of work, so one provider failure does not stop the rest
    (its refund stays pending for reconciliation). Idempotent. Returns how many orders
    were refunded now.
    """
    async with runtime.uow() as uow:
        order_ids = list(
            (
                await uow.session.execute(
                    select(Order.id).where(
                        Order.event_id == event_id,
                        Order.status.in_([OrderStatus.PAID.value, OrderStatus.PENDING.value]),
                    )
                )
            ).scalars()
        )
    refunded = 0
    for order_id in order_ids:
        refund_id: str | None = None
        async with runtime.uow() as uow:
            order = await settlement.lock_order(uow, order_id)
            if order is None:
                continue
            if order.status == OrderStatus.PENDING.value and order.confirming_since is None:
                await settlement.end_pending(
                    uow, runtime, order, OrderStatus.CANCELLED, "event cancelled"
                )
                await uow.commit()
            elif order.status == OrderStatus.PAID.value:
                try:
                    refund_id = await _claim_refund(
                        uow, runtime, order, "event cancelled", full=True, kind="event"
                    )
                except (PaymentInProgress, OrderNotCancellable):
                    refund_id = None
        if refund_id and await settlement.execute_refund(runtime, refund_id):
            refunded += 1
    log.info("event_orders_refunded", event_id=event_id, count=refunded)
    return refunded


# --- jobs ----------------------------------------------------------------------------------


async def expire_orders(runtime: Runtime) -> int:
    """Job: pending orders past their hold's expiry become ``expired`` (hold and stock back)."""
    return await settlement.expire(runtime)


async def reconcile_payments(runtime: Runtime) -> int:
    """Job: settle unknown payment outcomes and pending refunds by asking the providers."""
    return await settlement.reconcile(runtime)
