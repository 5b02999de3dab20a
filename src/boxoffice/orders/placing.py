"""Placing an order: idempotent on the buyer's key, priced by the server from the hold
and the goods, then the provider's checkout opened."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import structlog
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from boxoffice.catalog import service as catalog
from boxoffice.merch import service as merch
from boxoffice.merch.contracts import Delivery
from boxoffice.orders import domain, lifecycle, views
from boxoffice.orders.domain import OrderStatus
from boxoffice.orders.errors import (
    EmptyOrder,
    IdempotencyKeyMissing,
    OrderNotPayable,
    PaymentInProgress,
    PaymentProviderError,
)
from boxoffice.orders.lifecycle import end_pending, lock_order
from boxoffice.orders.models import Order, OrderLine, Payment
from boxoffice.orders.payments import base as payments
from boxoffice.orders.payments.registry import providers_of
from boxoffice.orders.schemas import OrderCreate, OrderRead
from boxoffice.platform.errors import (
    IdempotencyConflict,
    Unprocessable,
)
from boxoffice.platform.ids import new_id
from boxoffice.platform.jsonutil import dumps
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Principal
from boxoffice.platform.uow import UnitOfWork
from boxoffice.seating import service as seating

log = structlog.get_logger("boxoffice.orders")

# A merch-only order (no hold to expire with) lapses after this long unpaid.
MERCH_ORDER_MINUTES = 15


def _request_hash(body: OrderCreate) -> str:
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


async def _replay(uow: UnitOfWork, order: Order, request_hash: str) -> OrderRead:
    if order.request_hash != request_hash:
        raise IdempotencyConflict(
            "This Idempotency-Key was used for a different order request.", order_id=order.id
        )
    return await views.order_view(uow, order)


async def _by_key(uow: UnitOfWork, user_id: str, key: str) -> Order | None:
    found: Order | None = await uow.session.scalar(
        select(Order).where(Order.user_id == user_id, Order.idempotency_key == key)
    )
    return found


async def create_order(
    runtime: Runtime, user: Principal, body: OrderCreate, idempotency_key: str | None
) -> tuple[OrderRead, bool]:
    """Place an order from the user's hold and/or merch items; returns (order, created).

    The server computes the amount from the hold's grade prices and the items' prices.
    The same ``idempotency_key`` with the same body returns the same order (created=False);
    with another body raises ``IdempotencyConflict``. Raises seating's ``HoldLapsed`` /
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
    return await views.read_order(runtime, request.order_id), True


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
            locked = await lock_order(uow, request.order_id)
            if locked is not None and locked.status == OrderStatus.PENDING.value:
                await end_pending(
                    uow, runtime, locked, OrderStatus.FAILED, f"checkout failed: {exc.code}"
                )
                await uow.commit()
        raise PaymentProviderError(
            "The payment provider could not open the checkout; try again.",
            order_id=request.order_id,
            provider_code=exc.code,
        ) from exc
    async with runtime.uow() as uow:
        locked = await lock_order(uow, request.order_id)
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
                    status=lifecycle.READY,
                    amount=request.amount,
                    captured_amount=0,
                    refunded_amount=0,
                    created_at=now,
                    updated_at=now,
                )
            )
        await uow.commit()
