"""Cancelling and refunding: a whole order, some of its lines, or every order of a show
or event that will not happen. Each refund is claimed (``refund_claims``) in a short unit
of work under the order's lock, sent to the provider outside it and booked
(``refunds``) afterwards."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import structlog
from sqlalchemy import select

from boxoffice.catalog import service as catalog
from boxoffice.orders import domain, refund_claims, refunds, views
from boxoffice.orders.domain import OrderStatus
from boxoffice.orders.errors import (
    CancellationClosed,
    OrderNotCancellable,
    OrderNotFound,
    PaymentInProgress,
    PaymentProviderError,
    TicketsTransferred,
    TicketsUsed,
)
from boxoffice.orders.lifecycle import end_pending, lock_order
from boxoffice.orders.models import Order, Refund
from boxoffice.orders.refund_claims import Pick
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Principal, Role
from boxoffice.platform.uow import UnitOfWork
from boxoffice.tickets import service as tickets

log = structlog.get_logger("boxoffice.orders")


async def _operates(uow: UnitOfWork, user: Principal, order: Order) -> bool:
    """Whether ``user`` may refund ``order`` as its operator: an admin, or the seller of the
    event it was bought for (still approved: a withdrawn approval raises 403)."""
    if user.has_role(Role.ADMIN):
        return True
    if order.seller_id is None or order.seller_id != user.id or not user.has_role(Role.SELLER):
        return False
    await catalog.require_approved_seller(uow, user)
    return True


async def _visible(uow: UnitOfWork, user: Principal, order_id: str, *, lock: bool) -> Order:
    order = await (lock_order(uow, order_id) if lock else uow.session.get(Order, order_id))
    if order is None or (order.user_id != user.id and not await _operates(uow, user, order)):
        raise OrderNotFound(f"Order {order_id} not found.")
    return order


async def cancellation_terms(
    uow: UnitOfWork, runtime: Runtime, user: Principal, order_id: str
) -> domain.CancellationQuote:
    """What cancelling the order now would cost the buyer, as :func:`cancel_order` would
    charge it (read-only). Raises ``OrderNotFound`` for anyone but the buyer, the event's
    seller or an admin."""
    order = await _visible(uow, user, order_id, lock=False)
    paid = order.status == OrderStatus.PAID.value
    if paid and await tickets.used_ticket_count(uow, order.id, lock=False):
        return domain.CancellationQuote(False, 0, 0, "ticket_used")
    if paid and await tickets.given_away_count(uow, order.id, order.user_id):
        return domain.CancellationQuote(False, 0, 0, "ticket_transferred")
    if order.status == OrderStatus.PENDING.value:
        return domain.CancellationQuote(True, 0, 0, "pending")
    if not paid:
        return domain.CancellationQuote(False, 0, 0, order.status)
    return (await refund_claims.quote_remaining(uow, order)).terms()


async def cancellation_view(runtime: Runtime, user: Principal, order_id: str) -> dict[str, Any]:
    """``GET /orders/{id}/cancellation``: the buyer's terms now (``allowed``, ``fee``,
    ``refund``, ``rule``) and ``refundable``, what a refund in full (an operator's) returns."""
    async with runtime.uow(read_only=True) as uow:
        terms = await cancellation_terms(uow, runtime, user, order_id)
        order = await uow.session.get(Order, order_id)
        assert order is not None
        cancellable = order.status in (OrderStatus.PAID.value, OrderStatus.PENDING.value)
        left, lines = 0, []
        if order.status == OrderStatus.PAID.value:
            lines = await refund_claims.order_lines(uow, order.id, lock=False)
            left = sum(
                refund_claims.unit_value(
                    li, li.refunded_quantity, li.quantity - li.refunded_quantity
                )
                for li in lines
            )
        return {
            "order_id": order.id,
            "status": order.status,
            "currency": order.currency,
            "cancellable": cancellable,
            "allowed": terms.allowed and cancellable,
            "fee": terms.fee if cancellable else 0,
            "refund": terms.refund if cancellable else 0,
            "rule": terms.rule if cancellable else order.status,
            "refundable": left,
            "lines": [views.line_read(line) for line in lines],
        }


async def cancel_order(
    runtime: Runtime,
    user: Principal,
    order_id: str,
    reason: str,
    *,
    refund_used: bool = False,
    charge_fee: bool = False,
) -> views.OrderView:
    """Cancel an order: a pending one is given up (hold and stock back); a paid one has
    every line still paid refunded (:func:`refund_order_lines` with no ``picks``)."""
    async with runtime.uow() as uow:
        order = await _visible(uow, user, order_id, lock=True)
        if order.status == OrderStatus.PENDING.value:
            if order.confirming_since is not None:
                raise PaymentInProgress("A payment is being confirmed; try again in a moment.")
            await end_pending(uow, runtime, order, OrderStatus.CANCELLED, reason)
            await uow.commit()
            return await views.order_view(uow, order)
        # A paid one: its refund claimed under the same lock, in this transaction.
        claimed = await _claim_lines(
            uow, user, order, None, reason, refund_used=refund_used, charge_fee=charge_fee
        )
    await _send(runtime, claimed)
    return await views.read_order(runtime, order_id)


async def refund_order_lines(
    runtime: Runtime,
    user: Principal,
    order_id: str,
    picks: Sequence[tuple[int, int | None]] | None,
    reason: str,
    *,
    refund_used: bool = False,
    charge_fee: bool = False,
) -> str:
    """Refund some units of a paid order's lines (``picks``; None: all that are left) and
    return the refund's id. The buyer pays the fee of the current window, per line; the
    order's operators — an admin, the event's seller — refund in full at any time, or,
    with ``charge_fee``, on the buyer's terms. A checked-in ticket is not refunded unless
    an admin passes ``refund_used``; a ticket given away only by an operator. Seats,
    goods and the order's state follow when the provider has paid the refund back.

    Raises ``OrderNotFound``, ``CancellationClosed``, ``TicketsUsed``, ``TicketsTransferred``,
    ``LineNotRefundable``, ``OrderNotCancellable``, ``PaymentInProgress`` (another refund of
    the order is in flight), ``PaymentProviderError`` (the refund could not be made now; a
    refund still pending is completed by reconciliation)."""
    async with runtime.uow() as uow:
        order = await _visible(uow, user, order_id, lock=True)
        claimed = await _claim_lines(
            uow, user, order, picks, reason, refund_used=refund_used, charge_fee=charge_fee
        )
    await _send(runtime, claimed)
    return claimed.refund_id


async def _claim_lines(
    uow: UnitOfWork,
    user: Principal,
    order: Order,
    picks: Sequence[tuple[int, int | None]] | None,
    reason: str,
    *,
    refund_used: bool,
    charge_fee: bool,
) -> refund_claims.Claimed:
    """:func:`refund_order_lines`'s claim, in ``uow`` and under the order's lock. Commits."""
    operator = await _operates(uow, user, order)
    if order.status != OrderStatus.PAID.value:
        raise OrderNotCancellable(f"The order is {order.status}.", order_status=order.status)
    lines = await refund_claims.order_lines(uow, order.id, lock=True)
    chosen = refund_claims.pick(lines, _as_picks(picks))
    seats = [line.ref for line, _ in chosen if line.kind == "seat"]
    admin = user.has_role(Role.ADMIN)
    await _check_tickets(uow, order, seats, admin=admin and refund_used, operator=operator)
    quote = await refund_claims.price(uow, order, chosen, waive_fee=operator and not charge_fee)
    if not quote.allowed:
        raise CancellationClosed(
            "Tickets cannot be cancelled this close to the show.", rule=quote.rule
        )
    return await refund_claims.claim(uow, order, quote, reason, kind="cancellation")


async def _send(runtime: Runtime, claimed: refund_claims.Claimed) -> None:
    if not await refunds.execute_refund(runtime, claimed):
        raise PaymentProviderError(
            "The refund could not be completed now; it will be retried.",
            order_id=claimed.order_id,
        )


def _as_picks(pairs: Sequence[tuple[int, int | None]] | None) -> list[Pick] | None:
    """(position, units or None for all that are left) pairs as the claim reads them."""
    return None if pairs is None else [Pick(position, quantity) for position, quantity in pairs]


async def _check_tickets(
    uow: UnitOfWork, order: Order, seats: list[str], *, admin: bool, operator: bool
) -> None:
    if not seats:
        return
    used = await tickets.used_ticket_count(uow, order.id, seat_ids=seats)
    if used and not admin:
        raise TicketsUsed(
            "A ticket of this order was checked in; it can no longer be cancelled.",
            used_tickets=used,
        )
    given = await tickets.given_away_count(uow, order.id, order.user_id, seat_ids=seats)
    if given and not operator:
        raise TicketsTransferred(
            "A ticket of this order was transferred; only the organiser can refund it now.",
            transferred_tickets=given,
        )


async def quote_order_lines(
    runtime: Runtime, user: Principal, order_id: str, picks: Sequence[tuple[int, int | None]]
) -> dict[str, Any]:
    """What :func:`refund_order_lines` would return for ``picks`` now, as the buyer pays
    it (``allowed``, ``refund``, ``fee``, ``rule`` and each line's share)."""
    async with runtime.uow(read_only=True) as uow:
        order = await _visible(uow, user, order_id, lock=False)
        if order.status != OrderStatus.PAID.value:
            raise OrderNotCancellable(f"The order is {order.status}.", order_status=order.status)
        lines = await refund_claims.order_lines(uow, order.id, lock=False)
        quote = await refund_claims.price(
            uow, order, refund_claims.pick(lines, _as_picks(picks)), waive_fee=False
        )
        return {
            "order_id": order.id,
            "currency": order.currency,
            "allowed": quote.allowed,
            "rule": quote.rule,
            "refund": quote.refund,
            "fee": quote.fee,
            "lines": [
                {
                    "position": p.line.position,
                    "quantity": p.quantity,
                    "amount": p.amount,
                    "fee": p.fee,
                }
                for p in quote.lines
            ],
        }


async def order_refunds(runtime: Runtime, user: Principal, order_id: str) -> list[dict[str, Any]]:
    """The order's refunds, oldest first, with the lines each returned."""
    async with runtime.uow(read_only=True) as uow:
        order = await _visible(uow, user, order_id, lock=False)
        rows = await uow.session.execute(
            select(Refund).where(Refund.order_id == order.id).order_by(Refund.id)
        )
        return [await refund_view(uow, refund) for refund in rows.scalars()]


async def refund_view(uow: UnitOfWork, refund: Refund) -> dict[str, Any]:
    parts = await refund_claims.refund_lines(uow, refund.id)
    fields = "id order_id kind status amount fee fee_returned reason failure_code created_at"
    return {
        **{name: getattr(refund, name) for name in fields.split()},
        "completed_at": refund.completed_at,
        "lines": [
            {
                "position": p.position,
                "kind": p.kind,
                "ref": p.ref,
                "quantity": p.quantity,
                "amount": p.amount,
                "fee": p.fee,
            }
            for p in parts
        ],
    }


async def read_refund(runtime: Runtime, refund_id: str) -> dict[str, Any]:
    async with runtime.uow(read_only=True) as uow:
        refund = await uow.session.get(Refund, refund_id)
        assert refund is not None
        return await refund_view(uow, refund)


# --- shows and events that will not happen -----------------------------------------------


async def refund_event_orders(runtime: Runtime, event_id: str) -> int:
    """Full refunds of every paid order of a cancelled event; pending ones are cancelled.
    Orders with a checked-in ticket are left to an operator (the event was delivered to
    someone). Each order is its own unit of work, so one provider failure does not stop
    the rest (its refund stays pending for reconciliation). Idempotent. Returns how many
    orders were refunded now."""
    return await _refund_all(
        runtime, Order.event_id == event_id, "event cancelled", kind="event", refund_used=False
    )


async def refund_show_orders(runtime: Runtime, show_id: str, reason: str = "") -> int:
    """Full refunds of every paid order of a cancelled show, checked-in tickets too (the
    show did not happen); pending ones are cancelled. Idempotent, like
    :func:`refund_event_orders`; an order paid while the show was being cancelled is
    refunded by :func:`refund_if_show_cancelled` when it is seen paid."""
    why = f"show cancelled: {reason}" if reason else "show cancelled"
    return await _refund_all(runtime, Order.show_id == show_id, why, kind="show", refund_used=True)


async def show_cancelled(runtime: Runtime, show_id: str) -> bool:
    """The show is cancelled, read through catalog's cache (one dict lookup when warm)."""
    async with runtime.uow(read_only=True) as uow:
        info = await catalog.show_sale_info(uow, show_id, runtime=runtime)
    return info is not None and info.show_status == "cancelled"


async def refund_if_show_cancelled(runtime: Runtime, order_id: str, show_id: str) -> bool:
    """An order of a show cancelled meanwhile — paid after the sweep, or left by it while a
    buyer's refund was under way — refunded in full, fees kept given back. The show's status is
    read through catalog's cache, which the cancellation's commit invalidated before its
    event was relayed. The refund's unique claim makes this and the show's sweep refund it
    once between them."""
    if not await show_cancelled(runtime, show_id):
        return False
    return (
        await _refund_all(
            runtime, Order.id == order_id, "show cancelled", kind="show", refund_used=True
        )
        > 0
    )


async def _refund_all(
    runtime: Runtime, which: Any, reason: str, *, kind: str, refund_used: bool
) -> int:
    async with runtime.uow() as uow:
        live = Order.status.in_([OrderStatus.PAID.value, OrderStatus.PENDING.value])
        closed_with_fee = (Order.status == OrderStatus.PARTIALLY_REFUNDED.value) & (Order.fee > 0)
        order_ids = list(
            (
                await uow.session.execute(select(Order.id).where(which, live | closed_with_fee))
            ).scalars()
        )
    refunded = 0
    for order_id in order_ids:
        claimed = await _refund_one(runtime, order_id, reason, kind=kind, refund_used=refund_used)
        if claimed and await refunds.execute_refund(runtime, claimed):
            refunded += 1
    log.info("orders_refunded", reason=reason, count=refunded)
    return refunded


async def _refund_one(
    runtime: Runtime, order_id: str, reason: str, *, kind: str, refund_used: bool
) -> refund_claims.Claimed | None:
    async with runtime.uow() as uow:
        order = await lock_order(uow, order_id)
        if order is None:
            return None
        if order.status == OrderStatus.PENDING.value and order.confirming_since is None:
            await end_pending(uow, runtime, order, OrderStatus.CANCELLED, reason)
            await uow.commit()
            return None
        if order.status == OrderStatus.PARTIALLY_REFUNDED.value and order.fee > 0:
            return await _return_fees(uow, order, reason, kind=kind)
        if order.status != OrderStatus.PAID.value:
            return None
        if not refund_used and await tickets.used_ticket_count(uow, order.id):
            # a show that was delivered: an operator refunds it explicitly, or not
            log.warning("event_refund_skipped_used_tickets", order_id=order.id)
            return None
        lines = await refund_claims.order_lines(uow, order.id, lock=True)
        try:
            quote = await refund_claims.price(
                uow, order, refund_claims.pick(lines, None), waive_fee=True
            )
            # the fees of seats the buyer returned earlier come back too: nothing was delivered
            return await refund_claims.claim(
                uow, order, quote, reason, kind=kind, fee_returned=order.fee
            )
        except (PaymentInProgress, OrderNotCancellable):
            return None


async def _return_fees(
    uow: UnitOfWork, order: Order, reason: str, *, kind: str
) -> refund_claims.Claimed | None:
    """An order its buyer cancelled with a fee, of a show or event that will not happen:
    the fee goes back (a refund of no lines; its own claim, so a second sweep finds it
    taken)."""
    empty = refund_claims.Quote(True, "operator", ())
    try:
        return await refund_claims.claim(
            uow, order, empty, reason, kind=kind, fee_returned=order.fee, key=f"fees:{order.id}"
        )
    except (PaymentInProgress, OrderNotCancellable):
        return None
