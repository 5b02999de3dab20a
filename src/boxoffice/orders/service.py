"""orders' use cases: the only module other contexts may call.

Placing an order commits once; paying, cancelling and reconciling call a payment provider
over the network, so they run as short units of work around the call (``settlement``
says why and how) and take the ``runtime`` rather than one ``uow``. The work lives in
``placing`` (new orders), ``paying`` (the providers' ways in), ``settlement`` (capture →
tickets, or refund), ``refunds``, ``upkeep`` (the jobs) and ``views``; this module is
the face other contexts and the routes use.
"""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from boxoffice.catalog import service as catalog
from boxoffice.merch import service as merch
from boxoffice.orders import (
    comps,
    domain,
    lifecycle,
    paying,
    placing,
    refunds,
    show_sales,
    upkeep,
    views,
    webhooks,
)
from boxoffice.orders import models as models  # tables visible to Alembic
from boxoffice.orders.domain import OrderStatus
from boxoffice.orders.errors import (
    CancellationClosed,
    OrderNotCancellable,
    OrderNotFound,
    PaymentInProgress,
    PaymentProviderError,
    TicketsUsed,
)
from boxoffice.orders.lifecycle import end_pending, lock_order
from boxoffice.orders.models import Order, Payment, Refund
from boxoffice.orders.payments.registry import providers_of
from boxoffice.orders.schemas import OrderRead
from boxoffice.platform.ids import new_id
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Principal, Role
from boxoffice.platform.uow import UnitOfWork
from boxoffice.tickets import service as tickets

log = structlog.get_logger("boxoffice.orders")

OrderView = OrderRead
create_order = placing.create_order
pay_internal = paying.pay_internal
confirm_toss = paying.confirm_toss
approve_kakaopay = paying.approve_kakaopay
abort_kakaopay = paying.abort_kakaopay
handle_toss_webhook = webhooks.handle_toss_webhook
read_order = views.read_order
show_orders = show_sales.show_orders
export_orders = show_sales.export_orders
sales_figures = show_sales.sales_figures
issue_comps = comps.issue_comps


# --- reading -------------------------------------------------------------------------------


async def goods_to_offer(runtime: Runtime, view: OrderView) -> list[dict[str, Any]]:
    """The event's goods not yet in this order, offered while it is pending (bundles)."""
    if view.status != "pending":
        return []
    in_order = {line.ref for line in view.lines if line.kind == "merch"}
    offers = await merch.offered_products(runtime, event_id=view.event_id)
    return [o for o in offers if not {v["sku"] for v in o["variants"]} & in_order]


async def get_order(runtime: Runtime, user: Principal, order_id: str) -> OrderView:
    """The order for its buyer or an admin; anyone else gets ``OrderNotFound`` (404).
    Its own short unit of work."""
    async with runtime.uow() as uow:
        return await views.order_view(uow, await views.visible_order(uow, user, order_id))


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
    page = [await views.order_view(uow, order) for order in rows]
    return page, rows[-1].id if more and rows else None


def payment_providers(runtime: Runtime) -> list[str]:
    """The payment providers this process can take orders with (``internal``, ``toss``, ...)."""
    return providers_of(runtime).names


# --- cancelling ----------------------------------------------------------------------------


async def cancellation_terms(
    uow: UnitOfWork, runtime: Runtime, user: Principal, order_id: str
) -> domain.CancellationQuote:
    """What cancelling the order now would cost, as :func:`cancel_order` would charge it
    (read-only). Raises ``OrderNotFound`` for anyone but the buyer or an admin."""
    order = await views.visible_order(uow, user, order_id)
    paid = order.status == OrderStatus.PAID.value
    if paid and await tickets.used_ticket_count(uow, order.id, lock=False):
        return domain.CancellationQuote(False, 0, 0, "ticket_used")
    return await quote_cancellation(uow, runtime, order)


async def cancel_order(
    runtime: Runtime, user: Principal, order_id: str, reason: str, *, refund_used: bool = False
) -> OrderView:
    """Cancel an order: a pending one is given up (hold and stock back); a paid one is
    refunded minus the fee of the current window (admins refund in full), its tickets
    voided and its seats and stock put back on sale. A paid order with a checked-in ticket
    is not refunded, unless an admin passes ``refund_used``.

    Raises ``OrderNotFound`` (not the buyer's), ``CancellationClosed`` (past the cutoff),
    ``TicketsUsed``, ``OrderNotCancellable``, ``PaymentInProgress``,
    ``PaymentProviderError`` (the refund could not be made now; a refund still pending is
    completed by reconciliation).
    """
    admin = user.has_role(Role.ADMIN)
    async with runtime.uow() as uow:
        order = await lock_order(uow, order_id)
        if order is None or (order.user_id != user.id and not admin):
            raise OrderNotFound(f"Order {order_id} not found.")
        if order.status == OrderStatus.PENDING.value:
            if order.confirming_since is not None:
                raise PaymentInProgress("A payment is being confirmed; try again in a moment.")
            await end_pending(uow, runtime, order, OrderStatus.CANCELLED, reason)
            await uow.commit()
            return await views.order_view(uow, order)
        if order.status != OrderStatus.PAID.value:
            raise OrderNotCancellable(f"The order is {order.status}.", order_status=order.status)
        used = await tickets.used_ticket_count(uow, order.id)
        if used and not (admin and refund_used):
            raise TicketsUsed(
                "A ticket of this order was checked in; it can no longer be cancelled.",
                used_tickets=used,
            )
        refund_id = await _claim_refund(
            uow, runtime, order, reason, full=admin, kind="cancellation"
        )
    if not await refunds.execute_refund(runtime, refund_id):
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
            Payment.order_id == order.id, Payment.status.in_(lifecycle.CAPTURED_STATES)
        )
    )
    if payment is None:
        raise OrderNotCancellable("The order has no captured payment to refund.")
    # From the refund's claim on, its tickets open no door (given back if it is refused);
    # a claim that loses to another rolls this back with it.
    await tickets.void_order_tickets(uow, order_id=order.id)
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
            order = await lock_order(uow, order_id)
            if order is None:
                continue
            if order.status == OrderStatus.PENDING.value and order.confirming_since is None:
                await end_pending(uow, runtime, order, OrderStatus.CANCELLED, "event cancelled")
                await uow.commit()
            elif order.status == OrderStatus.PAID.value:
                if await tickets.used_ticket_count(uow, order.id):
                    # a show that was delivered: an operator refunds it explicitly, or not
                    log.warning("event_refund_skipped_used_tickets", order_id=order.id)
                    continue
                try:
                    refund_id = await _claim_refund(
                        uow, runtime, order, "event cancelled", full=True, kind="event"
                    )
                except (PaymentInProgress, OrderNotCancellable):
                    refund_id = None
        if refund_id and await refunds.execute_refund(runtime, refund_id):
            refunded += 1
    log.info("event_orders_refunded", event_id=event_id, count=refunded)
    return refunded


# --- jobs ----------------------------------------------------------------------------------


async def expire_orders(runtime: Runtime) -> int:
    """Job: pending orders past their hold's expiry become ``expired`` (hold and stock back)."""
    return await upkeep.expire(runtime)


async def reconcile_payments(runtime: Runtime) -> int:
    """Job: settle unknown payment outcomes and pending refunds by asking the providers."""
    return await upkeep.reconcile(runtime)
