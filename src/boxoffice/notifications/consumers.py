"""The event consumers notifications registers (run by the worker or in-process)."""

from __future__ import annotations

from boxoffice.notifications import service
from boxoffice.orders import service as orders
from boxoffice.platform.jobs import JobSpec
from boxoffice.platform.messaging import Consumer, Delivery
from boxoffice.platform.messaging.housekeeping import prune_processed_events


async def refund_cancelled_event(delivery: Delivery) -> None:
    """``EventCancelled`` → full refunds of its paid orders (orders' idempotent use case:
    each order commits on its own, so a redelivery refunds only what is left). The
    refund notices follow from the ``OrderCancelled`` events it records."""
    await orders.refund_event_orders(delivery.runtime, str(delivery.payload["event_id"]))


CONSUMERS = [
    Consumer(
        "notifications.welcome_email",
        "boxoffice.identity.UserRegistered",
        service.welcome_email,
        kind="email",
        acts_outside_db=True,
    ),
    Consumer(
        "notifications.order_confirmation",
        "boxoffice.orders.OrderPaid",
        service.order_confirmation,
        kind="email",
        acts_outside_db=True,
    ),
    Consumer(
        "notifications.refund_notice",
        "boxoffice.orders.OrderCancelled",
        service.refund_notice,
        kind="email",
        acts_outside_db=True,
    ),
    Consumer(
        "orders.refund_cancelled_event",
        "boxoffice.catalog.EventCancelled",
        refund_cancelled_event,
        acts_outside_db=True,  # calls the payment providers
    ),
]

JOBS: list[JobSpec] = [
    JobSpec(
        "notifications.prune_processed_events",
        "20 4 * * *",
        prune_processed_events,
        "Forget consumers' processed event ids past their retention",
    )
]
