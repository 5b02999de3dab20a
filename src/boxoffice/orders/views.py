"""Orders as the API shows them: plain data read inside the unit of work (rows expire
when it ends), and who may see them."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import select

from boxoffice.orders import views
from boxoffice.orders.errors import (
    OrderNotFound,
)
from boxoffice.orders.lifecycle import CAPTURED_STATES
from boxoffice.orders.models import Order, OrderLine, Payment
from boxoffice.orders.schemas import LineRead, OrderRead
from boxoffice.platform.db import record_of
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Principal
from boxoffice.platform.uow import UnitOfWork
from boxoffice.seating.contracts import HeldSeat
from boxoffice.tickets import service as tickets

log = structlog.get_logger("boxoffice.orders")

OrderView = OrderRead


def order_read(
    order: Any, lines: Iterable[Any], ticket_ids: list[str], receipt: dict[str, Any] | None = None
) -> OrderView:
    """The order as the API shows it, from its row (an ORM ``Order`` or a Core row: the
    same names), its lines and its captured payment's receipt (``method``, ``receipt_url``,
    ``approved_at``): the one place this shape is made."""
    checkout = json.loads(order.checkout) if order.checkout else {}
    return record_of(
        OrderRead,
        order,
        lines=[line_read(line) for line in lines],
        payment={"provider": order.provider, **checkout, **(receipt or {})},
        delivery=json.loads(order.delivery) if order.delivery else None,
        ticket_ids=ticket_ids,
    )


def line_read(line: Any) -> LineRead:
    """An order line (its row, or a :class:`Line` not yet written) as the API shows it."""
    return LineRead.model_validate(line)


@dataclass(frozen=True)
class Line:
    """An order line before (or without) its row: what placing writes and paying shows."""

    position: int
    kind: str  # seat | merch
    ref: str  # seat id or SKU
    description: str
    quantity: int
    unit_price: int

    @property
    def amount(self) -> int:
        return self.unit_price * self.quantity


def seat_line(seat: HeldSeat, position: int) -> Line:
    """The order line of one held seat (placing writes it; paying shows it unread)."""
    grade = f"{seat.grade} {seat.ticket_type_name}" if seat.ticket_type_name else seat.grade
    description = f"{grade} {seat.section} {seat.row}-{seat.number}"[:200]
    return Line(position, "seat", seat.seat_id, description, 1, seat.price)


async def order_view(uow: UnitOfWork, order: Order) -> OrderView:
    """The order as plain data, read inside the unit of work (rows expire when it ends)."""
    lines = (
        await uow.session.execute(
            select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.position)
        )
    ).scalars()
    receipt = await _receipt(uow, order.id) if order.paid_at is not None else None  # paid once
    return order_read(order, lines, await tickets.order_ticket_ids(uow, order.id), receipt)


async def _receipt(uow: UnitOfWork, order_id: str) -> dict[str, Any] | None:
    row = (
        await uow.session.execute(
            select(Payment.method, Payment.receipt_url, Payment.approved_at).where(
                Payment.order_id == order_id, Payment.status.in_(CAPTURED_STATES)
            )
        )
    ).first()
    if row is None:
        return None
    return {"method": row.method, "receipt_url": row.receipt_url, "approved_at": row.approved_at}


async def visible_order(uow: UnitOfWork, user: Principal, order_id: str) -> Order:
    return await uow.get_for(Order, order_id, user, OrderNotFound(f"Order {order_id} not found."))


async def read_order(runtime: Runtime, order_id: str) -> OrderView:
    async with runtime.uow(read_only=True) as uow:
        return await order_in(uow, order_id)


async def order_in(uow: UnitOfWork, order_id: str) -> OrderView:
    """The order as plain data, read in a unit of work the caller holds."""
    order = await uow.session.get(Order, order_id)
    if order is None:
        raise OrderNotFound(f"Order {order_id} not found.")
    return await views.order_view(uow, order)
