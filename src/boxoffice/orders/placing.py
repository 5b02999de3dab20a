"""Placing an order: idempotent on the buyer's key, priced by the server from the hold and
the goods, the provider's checkout opened — and opened again, with the same provider or
another, for a pending order (``change_payment``).

One transaction in the common case: the hold is given to the new order by one conditional
``UPDATE`` (which returns the seats as they were held, at the price the buyer was
shown), the order and its lines are inserted, and a checkout that needs no network call
(the internal provider's, Toss's widget parameters) is written with them. The answer is
made from what was written; nothing is read back. Only a provider that must be called to
open its checkout (KakaoPay's ``ready``) costs a second transaction, after the call.
A repeated request finds its order by the Idempotency-Key when the hold refuses it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from datetime import datetime, timedelta

import structlog
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from boxoffice.catalog import service as catalog
from boxoffice.identity import service as identity
from boxoffice.merch import service as merch
from boxoffice.merch.contracts import Delivery
from boxoffice.orders import domain, lifecycle, views
from boxoffice.orders.domain import OrderStatus
from boxoffice.orders.errors import (
    EmailNotVerified,
    EmptyOrder,
    IdempotencyKeyMissing,
    OrderNotFound,
    OrderNotPayable,
    PaymentInProgress,
    PaymentProviderError,
)
from boxoffice.orders.lifecycle import end_pending, lock_order
from boxoffice.orders.models import Order, OrderLine, Payment
from boxoffice.orders.payments import base as payments
from boxoffice.orders.payments.registry import providers_of
from boxoffice.orders.schemas import OrderCreate, OrderRead
from boxoffice.orders.settlement_sql import insert_payment
from boxoffice.orders.views import Line
from boxoffice.platform.connection_gate import Priority
from boxoffice.platform.db import table_of
from boxoffice.platform.errors import Conflict, IdempotencyConflict, Unprocessable
from boxoffice.platform.ids import new_id
from boxoffice.platform.jsonutil import dumps
from boxoffice.platform.ratelimit import Rule
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Principal
from boxoffice.platform.uow import UnitOfWork
from boxoffice.seating import service as seating

log = structlog.get_logger("boxoffice.orders")
INSERT_ORDER, INSERT_LINES = insert(table_of(Order)), insert(table_of(OrderLine))

# A merch-only order (no hold to expire with) lapses after this long unpaid.
MERCH_ORDER_MINUTES = 15
# Changes of one order's payment a buyer may make (each may call a provider: KakaoPay's
# ready): a fan tries a few ways; a script opening checkouts in a loop is stopped.
PAYMENT_CHANGES = Rule("order-payment-change", 10, 600)


def _request_hash(body: OrderCreate) -> str:
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


async def create_order(
    runtime: Runtime, user: Principal, body: OrderCreate, idempotency_key: str | None
) -> tuple[OrderRead, bool]:
    """Place an order from the user's hold and/or merch items; returns (order, created).

    The server computes the amount from the hold's seats (priced when held) and the
    items' prices. The same ``idempotency_key`` with the same body returns the same order
    (created=False); with another body raises ``IdempotencyConflict``. Raises seating's
    ``HoldLapsed`` / ``HoldNotFound`` / ``Conflict``, merch's ``OutOfStock`` and the
    like, and ``PaymentProviderError`` when the provider cannot open the checkout (the
    order fails).
    """
    if not idempotency_key or len(idempotency_key) > 255:
        raise IdempotencyKeyMissing("Send an Idempotency-Key header (at most 255 characters).")
    if not body.hold_id and not body.items:
        raise EmptyOrder(
            "An order needs a hold_id, items, or both.",
            errors=[{"loc": ["body", "hold_id"], "msg": "give a hold or items"}],
        )
    provider = providers_of(runtime).get(body.payment_provider)
    request_hash = _request_hash(body)
    async with runtime.uow(priority=Priority.FINISHING) as uow:
        try:
            order = await _place(uow, runtime, user, body, provider, idempotency_key, request_hash)
            await uow.commit()
        except (Conflict, IntegrityError) as refused:
            # The hold is taken, or the key was used: by this very request's earlier try?
            if isinstance(refused, IntegrityError):
                await uow.rollback()  # the database refused a write: the transaction is over
            existing = await _by_key(uow, user.id, idempotency_key)
            if existing is None:
                raise
            return await _replay(uow, existing, request_hash), False
    if order.request is not None:  # the provider must be called to open the checkout
        await _open_checkout(runtime, order.request, provider)
        return await views.read_order(runtime, order.request.order_id), True
    return order.view, True


class _Placed:
    """What :func:`_place` made: the answer, or the request a network checkout needs."""

    def __init__(self, view: OrderRead, request: payments.PaymentRequest | None) -> None:
        self.view, self.request = view, request


async def _place(
    uow: UnitOfWork,
    runtime: Runtime,
    user: Principal,
    body: OrderCreate,
    provider: payments.PaymentProvider,
    key: str,
    request_hash: str,
) -> _Placed:
    now = uow.clock.now()
    order_id = new_id()
    contents = _Contents(order_id, now + timedelta(minutes=MERCH_ORDER_MINUTES))
    if body.hold_id:
        await contents.add_hold(uow, runtime, body.hold_id, user.id)
    delivery = Delivery.from_dict(body.delivery) if body.items else None
    if body.items:
        await contents.add_items(uow, runtime, user.id, body)
    values = contents.order_values(user, body, key, request_hash, now)
    values["delivery"] = dumps(delivery.to_dict()).decode() if delivery else None
    request = _payment_request(values)
    checkout = await provider.prepare(request) if provider.prepares_offline else None
    values["checkout"] = dumps(checkout.params).decode() if checkout is not None else None
    conn = await uow.connection()
    await conn.execute(INSERT_ORDER, values)
    await conn.execute(
        INSERT_LINES,
        [
            {"id": new_id(), "order_id": order_id, "amount": line.amount, **asdict(line)}
            for line in contents.lines
        ],
    )
    view = views.order_read(_Row(values), contents.lines, [])
    return _Placed(view, None if checkout is not None else request)


class _Row:
    """An order's values read as a row (views.order_read reads attributes)."""

    def __init__(self, values: dict[str, object]) -> None:
        self.__dict__.update(values)


class _Contents:
    """The lines of the order being placed, and what they say of it."""

    def __init__(self, order_id: str, merch_expiry: datetime) -> None:
        self.order_id = order_id
        self.lines: list[Line] = []
        self.show_id: str | None = None
        self.event_id: str | None = None
        self.seller_id: str | None = None
        self.title = "Goods"
        self.currency: str | None = None
        self.ticket_amount = 0
        self.expires_at = merch_expiry

    def _line(self, kind: str, ref: str, description: str, quantity: int, price: int) -> None:
        domain.check_amount(price)
        self.lines.append(Line(len(self.lines), kind, ref, description[:200], quantity, price))

    async def add_hold(self, uow: UnitOfWork, runtime: Runtime, hold_id: str, user_id: str) -> None:
        held = await seating.attach_order(
            uow, runtime, hold_id, order_id=self.order_id, user_id=user_id
        )
        # A show's event, seller and title: a sale info of any age names them.
        info = await catalog.recent_sale_info(runtime, held.show_id, max_age=60.0)
        if info is None:
            raise OrderNotPayable("The show of this hold no longer exists.")
        if info.requires_verified_email and not await identity.email_verified(uow, user_id):
            raise EmailNotVerified()
        for seat in held.seats:
            self.lines.append(views.seat_line(seat, len(self.lines)))
        self.show_id, self.event_id, self.seller_id = held.show_id, info.event_id, info.seller_id
        self.title, self.currency = info.title, held.currency
        self.ticket_amount, self.expires_at = held.amount, held.expires_at

    async def add_items(
        self, uow: UnitOfWork, runtime: Runtime, user_id: str, body: OrderCreate
    ) -> None:
        reserved = await merch.reserve_items(
            uow,
            runtime,
            order_id=self.order_id,
            user_id=user_id,
            items=[(item.sku, item.quantity) for item in body.items],
            expires_at=self.expires_at,
        )
        for item in reserved:
            if self.currency is not None and item.currency != self.currency:
                raise Unprocessable(
                    "Goods and tickets in another currency cannot share an order.",
                    errors=[{"loc": ["body", "items"], "msg": f"{item.sku} is in {item.currency}"}],
                )
            self.currency = self.currency or item.currency
            self.event_id = self.event_id or item.event_id
            description = f"{item.name} ({item.option})"
            self._line("merch", item.sku, description, item.quantity, item.unit_price)

    def order_values(
        self, user: Principal, body: OrderCreate, key: str, request_hash: str, now: datetime
    ) -> dict[str, object]:
        seats = sum(1 for line in self.lines if line.kind == "seat")
        goods = sum(line.quantity for line in self.lines if line.kind == "merch")
        parts = [f"{seats} seat{'s' if seats != 1 else ''}"] if seats else []
        parts += [f"{goods} item{'s' if goods != 1 else ''}"] if goods else []
        return {
            "id": self.order_id,
            "user_id": user.id,
            "status": OrderStatus.PENDING.value,
            "provider": body.payment_provider,
            "currency": self.currency or "KRW",
            "amount": sum(line.amount for line in self.lines),
            "ticket_amount": self.ticket_amount,
            "ticket_count": seats,
            "refunded_amount": 0,
            "fee": 0,
            "name": f"{self.title} ({', '.join(parts)})"[:200],
            "show_id": self.show_id,
            "event_id": self.event_id,
            "seller_id": self.seller_id,
            "hold_id": body.hold_id,
            "idempotency_key": key,
            "request_hash": request_hash,
            "failure_reason": None,
            "cancel_reason": None,
            "created_at": now,
            "updated_at": now,
            "expires_at": self.expires_at,
            "paid_at": None,
            "closed_at": None,
        }


def _payment_request(values: dict[str, object]) -> payments.PaymentRequest:
    ticket_count = values["ticket_count"]
    assert isinstance(ticket_count, int)
    return payments.PaymentRequest(
        order_id=str(values["id"]),
        order_name=str(values["name"]),
        amount=int(str(values["amount"])),
        currency=str(values["currency"]),
        user_id=str(values["user_id"]),
        quantity=max(1, ticket_count),
    )


async def _by_key(uow: UnitOfWork, user_id: str, key: str) -> Order | None:
    found: Order | None = await uow.session.scalar(
        select(Order).where(Order.user_id == user_id, Order.idempotency_key == key)
    )
    return found


async def _replay(uow: UnitOfWork, order: Order, request_hash: str) -> OrderRead:
    if order.request_hash != request_hash:
        raise IdempotencyConflict(
            "This Idempotency-Key was used for a different order request.", order_id=order.id
        )
    return await views.order_view(uow, order)


async def change_payment(
    runtime: Runtime, user: Principal, order_id: str, provider_name: str
) -> OrderRead:
    """Pay a pending order another way, or open a fresh checkout the same way (a KakaoPay
    payment the buyer cancelled or that failed is dead at KakaoPay: its ``tid`` cannot be
    approved again). The order, its hold and its goods stay as they are; only how it is
    paid changes. Refused while a payment of it is being confirmed or its outcome is not
    known yet (``PaymentInProgress``), and once it is no longer pending. A checkout the
    provider could not open leaves the order pending, to be tried again."""
    provider = providers_of(runtime).get(provider_name)
    await runtime.limiter.hit(
        PAYMENT_CHANGES,
        user.id,
        order_id,  # per buyer too: a stranger's tries never spend the buyer's
        detail="Too many changes of this order's payment; try again in a few minutes.",
    )
    async with runtime.uow(priority=Priority.FINISHING) as uow:
        order = await lock_order(uow, order_id)
        if order is None or order.user_id != user.id:
            raise OrderNotFound(f"Order {order_id} not found.")
        if order.status != OrderStatus.PENDING.value:
            raise OrderNotPayable(f"The order is {order.status}.", order_status=order.status)
        if order.confirming_since is not None:
            raise PaymentInProgress(
                "A payment for this order is being confirmed; its outcome comes first."
            )
        now = uow.clock.now()
        # A checkout opened and never approved (a KakaoPay tid) is given up: approve takes
        # the newest attempt not aborted, and every confirm checks the order's provider.
        await uow.session.execute(
            update(Payment)
            .where(Payment.order_id == order.id, Payment.status == lifecycle.READY)
            .values(status=lifecycle.ABORTED, failure_code="payment_changed", updated_at=now)
        )
        fields = ("id", "name", "amount", "currency", "user_id", "ticket_count")
        request = _payment_request({name: getattr(order, name) for name in fields})
        checkout = await provider.prepare(request) if provider.prepares_offline else None
        order.provider, order.updated_at = provider.name, now
        order.checkout = dumps(checkout.params).decode() if checkout is not None else None
        await uow.commit()
    if checkout is None:
        await _open_checkout(runtime, request, provider, fail_order=False)
    log.info("order_payment_changed", order_id=order_id, provider=provider.name)
    return await views.read_order(runtime, order_id)


async def _open_checkout(
    runtime: Runtime,
    request: payments.PaymentRequest,
    provider: payments.PaymentProvider,
    *,
    fail_order: bool = True,
) -> None:
    """A provider whose checkout is opened by a call (KakaoPay's ``ready``): called after
    the order committed, its answer kept in a second short transaction. When the call
    fails, a new order fails with it (``fail_order``); one changing how it is paid stays
    pending."""
    try:
        checkout = await provider.prepare(request)
    except payments.PaymentError as exc:
        async with runtime.uow() as uow:
            locked = await lock_order(uow, request.order_id)
            if fail_order and locked is not None and locked.status == OrderStatus.PENDING.value:
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
        if locked.provider != provider.name or locked.status != OrderStatus.PENDING.value:
            return  # changed again (or ended) while the provider answered: that one stands
        locked.checkout = dumps(checkout.params).decode()
        if checkout.reference is not None:
            await insert_payment(
                await uow.connection(),
                order_id=request.order_id,
                provider=provider.name,
                reference=checkout.reference,
                status=lifecycle.READY,
                amount=request.amount,
                now=uow.clock.now(),
            )
        await uow.commit()
