"""Orders as the API shows them: plain data read inside the unit of work (rows expire
when it ends), and who may see them."""

from __future__ import annotations

import json

import structlog
from sqlalchemy import select

from boxoffice.orders import views
from boxoffice.orders.errors import (
    OrderNotFound,
)
from boxoffice.orders.models import Order, OrderLine
from boxoffice.orders.schemas import LineRead, OrderRead
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Principal, Role
from boxoffice.platform.uow import UnitOfWork
from boxoffice.tickets import service as tickets

log = structlog.get_logger("boxoffice.orders")

OrderView = OrderRead


async def order_view(uow: UnitOfWork, order: Order) -> OrderView:
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


async def visible_order(uow: UnitOfWork, user: Principal, order_id: str) -> Order:
    order = await uow.session.get(Order, order_id)
    if order is None or (order.user_id != user.id and not user.has_role(Role.ADMIN)):
        raise OrderNotFound(f"Order {order_id} not found.")
    return order


async def read_order(runtime: Runtime, order_id: str) -> OrderView:
    async with runtime.uow() as uow:
        order = await uow.session.get(Order, order_id)
        if order is None:
            raise OrderNotFound(f"Order {order_id} not found.")
        return await views.order_view(uow, order)
