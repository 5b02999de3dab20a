"""The event consumers orders registers (run by the worker or in-process)."""

from __future__ import annotations

from typing import Any

from boxoffice.catalog.events import EventCancelled
from boxoffice.orders import service
from boxoffice.platform.messaging import Consumer, Delivery


async def refund_cancelled_event(event: EventCancelled, delivery: Delivery) -> None:
    """``EventCancelled`` → full refunds of its paid orders (the idempotent use case: each
    order commits on its own, so a redelivery refunds only what is left). The refund
    notices follow from the ``OrderCancelled`` events it records."""
    await service.refund_event_orders(delivery.runtime, event.event_id)


CONSUMERS: list[Consumer[Any]] = [
    Consumer(
        "orders.refund_cancelled_event",
        EventCancelled,
        refund_cancelled_event,
        acts_outside_db=True,  # calls the payment providers
    ),
]
