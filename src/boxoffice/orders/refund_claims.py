"""Claiming a refund of some or all of an order's lines, and pricing it.

A claim runs under the order's row lock (``lifecycle.lock_order``) with its lines locked
too: it checks that the units asked for are still the order's, prices them — the show's
fee window applied line by line, so returning seats one at a time costs what returning
them together does — voids the seats' tickets (from the claim on they open no door),
counts the units in the lines' ``refunded_quantity`` and writes the refund with its
lines, pending. ``refunds.execute_refund`` then asks the provider; a refusal gives the
units and the tickets back. ``docs/orders-and-payments.md`` has the rules.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from boxoffice.catalog import service as catalog
from boxoffice.orders import domain, lifecycle
from boxoffice.orders.errors import LineNotRefundable, OrderNotCancellable, PaymentInProgress
from boxoffice.orders.models import Order, OrderLine, Payment, Refund, RefundLine
from boxoffice.platform.errors import Unprocessable
from boxoffice.platform.ids import new_id
from boxoffice.platform.uow import UnitOfWork
from boxoffice.tickets import service as tickets


@dataclass(frozen=True)
class Claimed:
    """A refund just written, pending, with what its provider needs to send it (so the
    sender need not read it back)."""

    refund_id: str
    order_id: str
    provider: str
    reference: str
    amount: int
    reason: str

    @classmethod
    def of(cls, refund: Refund, payment: Payment) -> Claimed:
        assert payment.reference is not None
        return cls(
            refund.id,
            refund.order_id,
            payment.provider,
            payment.reference,
            refund.amount,
            refund.reason,
        )


@dataclass(frozen=True)
class Pick:
    """Units of the line at ``position``; ``quantity`` None: every unit not yet refunded."""

    position: int
    quantity: int | None = None


@dataclass(frozen=True)
class Priced:
    line: OrderLine
    quantity: int
    amount: int  # what the units were paid
    fee: int  # what of it is kept


@dataclass(frozen=True)
class Quote:
    """What refunding ``lines`` now returns (``refund``) and keeps (``fee``); ``rule``
    names the window (``same_day``, ``tier_10``, ``operator``...)."""

    allowed: bool
    rule: str
    lines: tuple[Priced, ...]

    @property
    def fee(self) -> int:
        return sum(p.fee for p in self.lines) if self.allowed else 0

    @property
    def refund(self) -> int:
        return sum(p.amount for p in self.lines) - self.fee if self.allowed else 0

    def terms(self) -> domain.CancellationQuote:
        return domain.CancellationQuote(self.allowed, self.fee, self.refund, self.rule)


def unit_value(line: OrderLine, start: int, quantity: int) -> int:
    """What units ``start`` .. ``start + quantity`` of the line were paid: shares of its
    amount rounded so that all of its units together are worth exactly its amount."""
    share = line.amount * (start + quantity) // line.quantity
    return share - line.amount * start // line.quantity


async def order_lines(uow: UnitOfWork, order_id: str, *, lock: bool) -> list[OrderLine]:
    query = select(OrderLine).where(OrderLine.order_id == order_id).order_by(OrderLine.position)
    if lock:
        query = query.with_for_update()
    rows = await uow.session.execute(query.execution_options(populate_existing=True))
    return list(rows.scalars())


def pick(lines: Sequence[OrderLine], picks: Sequence[Pick] | None) -> list[tuple[OrderLine, int]]:
    """The units ``picks`` name (all that are left when None). Raises ``Unprocessable``
    for an unknown or repeated position, ``LineNotRefundable`` for more units than are
    left and ``OrderNotCancellable`` when nothing is left to refund."""
    left = {line.position: line for line in lines}
    if picks is None:
        chosen = [(li, li.quantity - li.refunded_quantity) for li in lines]
        chosen = [(li, q) for li, q in chosen if q > 0]
        if not chosen:
            raise OrderNotCancellable("Every line of this order was refunded already.")
        return chosen
    positions = [p.position for p in picks]
    if len(set(positions)) != len(positions) or any(p not in left for p in positions):
        raise Unprocessable(
            "Name each line of the order once, by its position.",
            errors=[{"loc": ["body", "lines"], "msg": "unknown or repeated position"}],
        )
    chosen = []
    for wanted in picks:
        line = left[wanted.position]
        remaining = line.quantity - line.refunded_quantity
        quantity = remaining if wanted.quantity is None else wanted.quantity
        if quantity < 1 or quantity > remaining:
            raise LineNotRefundable(
                f"Line {line.position} has {remaining} unit(s) left to refund.",
                position=line.position,
                refundable_quantity=remaining,
            )
        chosen.append((line, quantity))
    return chosen


async def price(
    uow: UnitOfWork, order: Order, chosen: Sequence[tuple[OrderLine, int]], *, waive_fee: bool
) -> Quote:
    """What refunding ``chosen`` costs now: nothing for an operator's refund (``waive_fee``),
    a goods-only order, a vanished show or a moved one still in its free window; else
    the show's fee schedule (``domain.cancellation_quote``) on each seat line."""
    amounts = [unit_value(line, line.refunded_quantity, q) for line, q in chosen]

    def priced(fees: Sequence[int]) -> tuple[Priced, ...]:
        return tuple(
            Priced(line, q, amount, fee)
            for (line, q), amount, fee in zip(chosen, amounts, fees, strict=True)
        )

    free = [0] * len(chosen)
    if waive_fee:
        return Quote(True, "operator", priced(free))
    if order.show_id is None:  # goods only: refunded in full until they ship
        return Quote(True, "goods", priced(free))
    info = await catalog.show_sale_info(uow, order.show_id)
    if info is None:
        return Quote(True, "show_gone", priced(free))
    now = uow.clock.now()
    if info.free_refund_until is not None and now < info.free_refund_until:  # moved show
        return Quote(True, "rescheduled", priced(free))

    def window(amount: int, count: int) -> domain.CancellationQuote:
        return domain.cancellation_quote(
            info.cancellation,
            ticket_amount=amount,
            ticket_count=count,
            booked_at=order.paid_at or order.created_at,
            show_starts_at=info.starts_at,
            now=now,
        )

    rule = window(0, 0)
    fees = [
        window(amount, q).fee if line.kind == "seat" else 0
        for (line, q), amount in zip(chosen, amounts, strict=True)
    ]
    return Quote(rule.allowed, rule.rule, priced(fees))


async def claim(
    uow: UnitOfWork,
    order: Order,
    quote: Quote,
    reason: str,
    *,
    kind: str,
    fee_returned: int = 0,
    key: str | None = None,
) -> Claimed:
    """Write the refund of ``quote``'s lines, pending, and commit; returns it; with
    ``fee_returned`` it also gives back that much of the fees the order kept before. Raises
    ``OrderNotCancellable`` (no captured payment) and ``PaymentInProgress`` (another
    refund of the order is in flight: one at a time; or ``key`` was claimed before)."""
    payment = await uow.session.scalar(
        select(Payment).where(
            Payment.order_id == order.id, Payment.status.in_(lifecycle.CAPTURED_STATES)
        )
    )
    if payment is None:
        raise OrderNotCancellable("The order has no captured payment to refund.")
    seats = [p.line.ref for p in quote.lines if p.line.kind == "seat"]
    voided = await tickets.void_order_tickets(uow, order_id=order.id, seat_ids=seats)
    refund = Refund(
        id=new_id(),
        order_id=order.id,
        payment_id=payment.id,
        kind=kind,
        status="pending",
        amount=quote.refund + fee_returned,
        fee=quote.fee,
        fee_returned=fee_returned,
        reason=reason[:500] or "cancelled",
        claim=key or f"order:{order.id}",
        created_at=uow.clock.now(),
    )
    uow.session.add(refund)
    try:
        await uow.session.flush()
        for priced in quote.lines:
            priced.line.refunded_quantity += priced.quantity
            uow.session.add(_refund_line(refund.id, priced, voided))
        await uow.commit()
    except IntegrityError as exc:
        raise PaymentInProgress("A refund of this order is already under way.") from exc
    return Claimed.of(refund, payment)


def _refund_line(refund_id: str, priced: Priced, voided: dict[str, list[str]]) -> RefundLine:
    line = priced.line
    return RefundLine(
        id=new_id(),
        refund_id=refund_id,
        line_id=line.id,
        position=line.position,
        kind=line.kind,
        ref=line.ref,
        quantity=priced.quantity,
        amount=priced.amount,
        fee=priced.fee,
        ticket_ids=json.dumps(voided.get(line.ref, [])) if line.kind == "seat" else None,
    )


async def refund_lines(uow: UnitOfWork, refund_id: str) -> list[RefundLine]:
    rows = await uow.session.execute(
        select(RefundLine).where(RefundLine.refund_id == refund_id).order_by(RefundLine.position)
    )
    return list(rows.scalars())


async def quote_remaining(uow: UnitOfWork, order: Order) -> Quote:
    """The buyer's terms for refunding every line still paid (read-only)."""
    chosen = [
        (line, line.quantity - line.refunded_quantity)
        for line in await order_lines(uow, order.id, lock=False)
    ]
    return await price(uow, order, [(li, q) for li, q in chosen if q > 0], waive_fee=False)
