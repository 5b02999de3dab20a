"""The event consumers notifications registers (run by the worker or in-process)."""

from __future__ import annotations

from typing import Any

from boxoffice.identity.events import PasswordResetRequested, UserRegistered
from boxoffice.notifications import service
from boxoffice.orders.events import OrderCancelled, OrderPaid
from boxoffice.platform.jobs import JobSpec
from boxoffice.platform.messaging import Consumer
from boxoffice.platform.messaging.housekeeping import prune_processed_events
from boxoffice.seating.events import WaitlistSeatOffered
from boxoffice.tickets.events import ShowReminderDue

CONSUMERS: list[Consumer[Any]] = [
    Consumer(
        "notifications.welcome_email",
        UserRegistered,
        service.welcome_email,
        kind="email",
        acts_outside_db=True,
    ),
    Consumer(
        "notifications.password_reset_email",
        PasswordResetRequested,
        service.password_reset_email,
        kind="email",
        acts_outside_db=True,
    ),
    Consumer(
        "notifications.order_confirmation",
        OrderPaid,
        service.order_confirmation,
        kind="email",
        acts_outside_db=True,
    ),
    Consumer(
        "notifications.refund_notice",
        OrderCancelled,
        service.refund_notice,
        kind="email",
        acts_outside_db=True,
    ),
    Consumer(
        "notifications.show_reminder",
        ShowReminderDue,
        service.show_reminder,
        kind="email",
        acts_outside_db=True,
    ),
    Consumer(
        "notifications.waitlist_offer",
        WaitlistSeatOffered,
        service.waitlist_offer,
        kind="email",
        acts_outside_db=True,
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
