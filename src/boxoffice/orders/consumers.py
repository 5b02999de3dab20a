"""The event consumers orders registers (run by the worker or in-process)."""

from __future__ import annotations

from typing import Any

from boxoffice.catalog.events import EventCancelled, ShowCancelled
from boxoffice.orders import service
from boxoffice.orders.events import OrderCancelled, OrderPaid
from boxoffice.platform.messaging import Consumer, Delivery
from boxoffice.platform.runtime import Runtime


async def refund_cancelled_event(event: EventCancelled, delivery: Delivery) -> None:
    """``EventCancelled`` → full refunds of its paid orders (the idempotent use case: each
    order commits on its own, so a redelivery refunds only what is left). The refund
    notices follow from the ``OrderCancelled`` events it records."""
    await service.refund_event_orders(delivery.runtime, event.event_id)


async def refund_cancelled_show(event: ShowCancelled, delivery: Delivery) -> None:
    """``ShowCancelled`` → full refunds of the show's paid orders, fees waived."""
    await service.refund_show_orders(delivery.runtime, event.show_id, event.reason)


async def refund_paid_for_cancelled_show(event: OrderPaid, delivery: Delivery) -> None:
    """``OrderPaid`` of a show cancelled meanwhile → refunded: a payment that committed after
    the show's sweep read its orders is not missed (the sweep and this refund it once)."""
    if event.show_id is not None:
        await service.refund_if_show_cancelled(delivery.runtime, event.order_id, event.show_id)


async def refund_rest_for_cancelled_show(event: OrderCancelled, delivery: Delivery) -> None:
    """A buyer's refund that was under way while the show's sweep passed its order (the
    sweep found the order's one refund slot taken and left it) → once it is done, the
    rest of the order, and any fee kept, refunded like the sweep would have. A no-op (one
    cached read) when the show goes on, or when the refund was the sweep's own."""
    if event.show_id is not None and event.refund_id is not None:
        await service.refund_if_show_cancelled(delivery.runtime, event.order_id, event.show_id)


async def _paid_for_cancelled_show(event: OrderPaid, runtime: Runtime) -> bool:
    return event.show_id is not None and await service.show_cancelled(runtime, event.show_id)


async def _rest_for_cancelled_show(event: OrderCancelled, runtime: Runtime) -> bool:
    if event.show_id is None or event.refund_id is None:
        return False
    return await service.show_cancelled(runtime, event.show_id)


# The two "refund if its show is cancelled" consumers see every payment and every refund;
# while the show is on (nearly always) they have nothing to do, and ``applies`` says so
# from catalog's cache before the dispatcher claims the event in the database.
CONSUMERS: list[Consumer[Any]] = [
    Consumer(
        "orders.refund_cancelled_event",
        EventCancelled,
        refund_cancelled_event,
        acts_outside_db=True,  # calls the payment providers
    ),
    Consumer(
        "orders.refund_cancelled_show",
        ShowCancelled,
        refund_cancelled_show,
        acts_outside_db=True,
    ),
    Consumer(
        "orders.refund_paid_for_cancelled_show",
        OrderPaid,
        refund_paid_for_cancelled_show,
        acts_outside_db=True,
        applies=_paid_for_cancelled_show,
    ),
    Consumer(
        "orders.refund_rest_for_cancelled_show",
        OrderCancelled,
        refund_rest_for_cancelled_show,
        acts_outside_db=True,
        applies=_rest_for_cancelled_show,
    ),
]
