"""The event consumers notifications registers (run by the worker or in-process)."""

from __future__ import annotations

from boxoffice.notifications import service
from boxoffice.platform.messaging import Consumer

CONSUMERS = [
    Consumer(
        "notifications.welcome_email",
        "boxoffice.identity.UserRegistered",
        service.welcome_email,
        kind="email",
    ),
    Consumer(
        "notifications.order_confirmation",
        "boxoffice.orders.OrderPaid",
        service.order_confirmation,
        kind="email",
    ),
    Consumer(
        "notifications.refund_notice",
        "boxoffice.orders.OrderCancelled",
        service.refund_notice,
        kind="email",
    ),
]
