"""An order's row lock, its payment attempts' states, and ending a pending order.

Shared by the paying, refunding and upkeep modules; no provider is called here."""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy import select

from boxoffice.merch import service as merch
from boxoffice.orders import domain
from boxoffice.orders.domain import OrderStatus
from boxoffice.orders.events import OrderCancelled, OrderExpired, OrderFailed
from boxoffice.orders.models import Order, OrderLine, Payment
from boxoffice.platform.errors import NotFound
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.uow import UnitOfWork
from boxoffice.seating import service as seating
from boxoffice.waitroom import service as waitroom

log = structlog.get_logger("boxoffice.orders")

# Payment attempt states.
READY, CONFIRMING, UNKNOWN, CAPTURED = "ready", "confirming", "unknown", "captured"
REJECTED, FAILED, ABORTED = "rejected", "failed", "aborted"
REFUNDED, PARTIALLY_REFUNDED = "refunded", "part_refunded"
CAPTURED_STATES = (CAPTURED, REFUNDED, PARTIALLY_REFUNDED)


async def lock_order(uow: UnitOfWork, order_id: str) -> Order | None:
    order: Order | None = await uow.session.scalar(
        select(Order).where(Order.id == order_id).with_for_update()
    )
    return order


async def lock_payment(uow: UnitOfWork, payment_id: str) -> Payment:
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
    after_commit_finished(uow, runtime, order)


def after_commit_finished(uow: UnitOfWork, runtime: Runtime, order: Any) -> None:
    """After the commit, the buyer stops counting as admitted (``order``: its row)."""
    if order.show_id is None:
        return
    show_id, user_id = order.show_id, order.user_id

    async def finish() -> None:
        await waitroom.admission_finished(runtime, show_id=show_id, user_id=user_id)

    uow.on_commit(finish)
