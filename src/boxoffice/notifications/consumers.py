"""The event consumers notifications registers (run by the worker or in-process)."""

from __future__ import annotations

import uuid
from typing import Any

from boxoffice.identity.events import (
    EmailChanged,
    EmailVerificationRequested,
    PasswordChanged,
    PasswordResetRequested,
    UserRegistered,
)
from boxoffice.notifications import service, webhooks
from boxoffice.notifications.events import WebhookDue
from boxoffice.orders.events import OrderCancelled, OrderPaid
from boxoffice.platform.jobs import JobSpec
from boxoffice.platform.messaging import Consumer, Delivery
from boxoffice.platform.messaging.housekeeping import prune_processed_events
from boxoffice.seating import service as seating
from boxoffice.seating.events import WaitlistSeatOffered
from boxoffice.tickets.events import (
    ShowMovedNotice,
    ShowReminderDue,
    TicketCheckedIn,
    TicketTransferOffered,
    TicketTransferred,
)


async def webhooks_order_paid(event: OrderPaid, delivery: Delivery) -> None:
    data = {"order_id": event.order_id, "amount": event.amount, "currency": event.currency,
            "show_id": event.show_id, "ticket_ids": event.ticket_ids}  # fmt: skip
    await webhooks.fan_out(
        delivery, kind="order.paid", seller_id=event.seller_id, aggregate_id=event.order_id,
        data=data,
    )  # fmt: skip


async def webhooks_order_refunded(event: OrderCancelled, delivery: Delivery) -> None:
    refunded = event.refund_amount > 0  # a pending order given up moved no money
    data = {"order_id": event.order_id, "refund_amount": event.refund_amount, "fee": event.fee,
            "currency": event.currency, "reason": event.reason, "refund_id": event.refund_id,
            "partial": event.partial, "positions": list(event.positions),
            "fee_returned": event.fee_returned}  # fmt: skip
    await webhooks.fan_out(
        delivery, kind="order.refunded", seller_id=event.seller_id if refunded else None,
        aggregate_id=event.order_id, data=data,
    )  # fmt: skip


async def webhooks_show_sold_out(event: OrderPaid, delivery: Delivery) -> None:
    """``OrderPaid`` that took the show's last seat (none available, none held) → the
    seller's ``show.sold_out``, once per show and endpoint. Seats are counted only for a
    seller who asked for it."""
    show_id = event.show_id
    if show_id is None:
        return  # nothing to do: the dispatcher records the event as processed
    async with delivery.uow(read_only=True) as uow:
        wanted = await webhooks.wanted_by(uow, event.seller_id, "show.sold_out")
    if not wanted or await seating.seats_left(delivery.runtime, show_id) != (0, 0):
        return
    data = {"show_id": show_id, "sold_out_at": delivery.runtime.clock.now().isoformat()}
    await webhooks.fan_out(
        delivery, kind="show.sold_out", seller_id=event.seller_id, aggregate_id=show_id,
        data=data, once_as=str(uuid.uuid5(uuid.NAMESPACE_URL, f"boxoffice:sold-out:{show_id}")),
    )  # fmt: skip


async def webhooks_checked_in(event: TicketCheckedIn, delivery: Delivery) -> None:
    data = {"ticket_id": event.ticket_id, "show_id": event.show_id,
            "checked_in_at": event.checked_in_at.isoformat()}  # fmt: skip
    await webhooks.fan_out(
        delivery, kind="ticket.checked_in", seller_id=event.seller_id,
        aggregate_id=event.ticket_id, data=data,
    )  # fmt: skip


# The webhook fan-outs write only through the delivery's unit of work: the events that
# arrive together (every payment of a busy sale, every scan at the door) share one
# transaction and one commit (group commit, platform/messaging/group.py).
_FAN_OUTS: list[Consumer[Any]] = [
    Consumer(
        "notifications.webhooks_order_paid", OrderPaid, webhooks_order_paid, group_commit=True
    ),
    Consumer(
        "notifications.webhooks_order_refunded",
        OrderCancelled,
        webhooks_order_refunded,
        group_commit=True,
    ),
    Consumer(
        "notifications.webhooks_checked_in", TicketCheckedIn, webhooks_checked_in, group_commit=True
    ),
    Consumer(
        "notifications.webhooks_show_sold_out", OrderPaid, webhooks_show_sold_out, group_commit=True
    ),
]
CONSUMERS: list[Consumer[Any]] = [
    *_FAN_OUTS,
    Consumer("notifications.webhooks_send", WebhookDue, webhooks.send, acts_outside_db=True),
    Consumer(
        "notifications.welcome_email",
        UserRegistered,
        service.welcome_email,
        kind="email",
        acts_outside_db=True,
    ),
    Consumer(
        "notifications.verify_email",
        EmailVerificationRequested,
        service.verify_email,
        kind="email",
        acts_outside_db=True,
    ),
    Consumer(
        "notifications.password_changed",
        PasswordChanged,
        service.password_changed,
        kind="email",
        acts_outside_db=True,
    ),
    Consumer(
        "notifications.email_changed",
        EmailChanged,
        service.email_changed,
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
        "notifications.transfer_offer",
        TicketTransferOffered,
        service.transfer_offer,
        kind="email",
        acts_outside_db=True,
    ),
    Consumer(
        "notifications.transfer_accepted",
        TicketTransferred,
        service.transfer_accepted,
        kind="email",
        acts_outside_db=True,
    ),
    Consumer(
        "notifications.show_moved",
        ShowMovedNotice,
        service.show_moved,
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
