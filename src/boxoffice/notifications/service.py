"""notifications' use cases: e-mails that follow domain events, and the dead-letter desk.

Each e-mail consumer renders the message in the user's language, hands it to the mail
transport and then records it (and the event as processed) in one transaction. A
transport failure raises, so the dispatcher retries it through the retry topic with
growing delays and finally dead-letters it for an admin.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import structlog

from boxoffice.identity import service as identity
from boxoffice.identity.events import (
    EmailChanged,
    EmailVerificationRequested,
    PasswordChanged,
    PasswordResetRequested,
    UserRegistered,
)
from boxoffice.notifications.mail import (
    Mailer,
    Templates,
    build_message,
    mailer_for,
    message_id_for,
    pick_locale,
)
from boxoffice.notifications.models import SentEmail
from boxoffice.notifications.schemas import DeadLetterQuery
from boxoffice.orders import service as orders
from boxoffice.orders.events import OrderCancelled, OrderPaid
from boxoffice.platform.errors import NotFound
from boxoffice.platform.ids import new_id
from boxoffice.platform.messaging import Delivery
from boxoffice.platform.messaging import deadletters as _deadletters
from boxoffice.platform.messaging.models import DeadLetter
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.uow import UnitOfWork
from boxoffice.seating.events import WaitlistSeatOffered
from boxoffice.tickets.events import (
    ShowMovedNotice,
    ShowReminderDue,
    TicketTransferOffered,
    TicketTransferred,
)

log = structlog.get_logger("boxoffice.notifications")


@dataclass(frozen=True)
class MailTransport:
    """The process's mailer, attached once (SMTP or files, by settings)."""

    mailer: Mailer


def mailer(runtime: Runtime) -> Mailer:
    """The process's mail transport (tests may attach their own: ``MailTransport``)."""
    return runtime.adapters.ensure(
        MailTransport, lambda: MailTransport(mailer_for(runtime.settings))
    ).mailer


def templates(runtime: Runtime) -> Templates:
    return runtime.adapters.ensure(Templates, Templates)


async def send_templated(
    delivery: Delivery,
    *,
    template: str,
    to: str,
    locale: str,
    user_id: str | None,
    context: dict[str, Any],
) -> None:
    """Render and send; record the e-mail and the processed event together right after
    the server accepted it (``Delivery.commit_after``)."""
    runtime = delivery.runtime
    settings = runtime.settings
    locale = pick_locale(locale)
    rendered = templates(runtime).render(
        template, locale, {"public_url": settings.public_url, **context}
    )
    message_id = message_id_for(settings, f"{template}.{delivery.event_id}")
    message = build_message(settings, to=to, rendered=rendered, message_id=message_id)
    async with delivery.uow() as uow:
        uow.session.add(
            SentEmail(
                id=new_id(),
                template=template,
                event_id=delivery.event_id,
                user_id=user_id,
                to_address=to,
                locale=locale,
                subject=rendered.subject[:300],
                message_id=message_id,
                sent_at=uow.clock.now(),
            )
        )
        # The record waits, written, for the server's 250; only its COMMIT follows it.
        await delivery.commit_after(uow, lambda: mailer(runtime).send(message))


async def _recipient(delivery: Delivery, user_id: str) -> identity.UserSummary | None:
    async with delivery.uow(read_only=True) as uow:
        return await identity.user_summary(uow, user_id)


async def _mail_account(
    delivery: Delivery, template: str, event: Any, context: dict[str, Any]
) -> None:
    """``template`` to the address an identity event names (``email``), in its language,
    greeting its ``display_name`` — the account's own e-mails about itself."""
    await send_templated(
        delivery,
        template=template,
        to=event.email,
        locale=event.locale or "ko",
        user_id=event.user_id,
        context={"name": event.display_name or event.email, "email": event.email, **context},
    )


async def welcome_email(event: UserRegistered, delivery: Delivery) -> None:
    """``UserRegistered`` → welcome e-mail (with the verification link of a password
    sign-up) in the language the user signed up with."""
    await _mail_account(delivery, "welcome", event, {"verify_url": event.verify_url})


async def verify_email(event: EmailVerificationRequested, delivery: Delivery) -> None:
    """``EmailVerificationRequested`` → a new verification link, in the account's language."""
    context = {"verify_url": event.verify_url, "expires_at": _in_seoul(event.expires_at)}
    await _mail_account(delivery, "verify_email", event, context)


async def password_reset_email(event: PasswordResetRequested, delivery: Delivery) -> None:
    """``PasswordResetRequested`` → the single-use link, in the account's language."""
    context = {"reset_url": event.reset_url, "expires_at": event.expires_at}
    await _mail_account(delivery, "password_reset", event, context)


async def password_changed(event: PasswordChanged, delivery: Delivery) -> None:
    """``PasswordChanged`` → the owner is told, with the way back if it was not them."""
    context = {"reset_url": _link(delivery, "/forgot-password")}
    await _mail_account(delivery, "password_changed", event, context)


async def email_changed(event: EmailChanged, delivery: Delivery) -> None:
    """``EmailChanged`` → the old address is told where the account went."""
    await send_templated(
        delivery,
        template="email_changed",
        to=event.old_email,
        locale=event.locale or "ko",
        user_id=event.user_id,
        context={
            "name": event.display_name or event.old_email,
            "old_email": event.old_email,
            "new_email": event.new_email,
        },
    )


async def _send_to_user(
    delivery: Delivery, user_id: str, template: str, context: dict[str, Any], **about: str
) -> None:
    """``template`` to the account of ``user_id`` (see ``_send_to``)."""
    await _send_to(delivery, await _recipient(delivery, user_id), template, context, **about)


async def _send_to(
    delivery: Delivery,
    user: identity.UserSummary | None,
    template: str,
    context: dict[str, Any],
    **about: str,
) -> None:
    """``template`` to ``user``, in its language, greeting it by name; a user gone since
    (deleted, None) is logged with ``about`` and skipped."""
    if user is None:
        log.warning("email_without_user", template=template, **about)
        return
    await send_templated(
        delivery,
        template=template,
        to=user.email,
        locale=user.locale,
        user_id=user.id,
        context={"name": user.name, **context},
    )


def _link(delivery: Delivery, path: str) -> str:
    return delivery.runtime.settings.public_url.rstrip("/") + path


_NO_RECEIPT: dict[str, Any] = {
    "lines": [],
    "paid_at": "",
    "provider": "",
    "method": None,
    "receipt_url": None,
}


async def _receipt_to(
    delivery: Delivery, order_id: str, user_id: str
) -> tuple[dict[str, Any], identity.UserSummary | None]:
    """The order's receipt as its e-mails print it, and its recipient, read together (an
    order gone since: the e-mail goes without its receipt)."""
    async with delivery.uow(read_only=True) as uow:
        try:
            receipt = _printed(await orders.order_in(uow, order_id))
        except NotFound:
            receipt = dict(_NO_RECEIPT)
        return receipt, await identity.user_summary(uow, user_id)


def _printed(order: orders.OrderView) -> dict[str, Any]:
    """Lines, when and how it was paid, and the payment company's receipt page if any."""
    payment = order.payment
    return {
        "lines": [
            {"description": line.description, "quantity": line.quantity, "amount": line.amount}
            for line in order.lines
        ],
        "paid_at": _in_seoul(order.paid_at.isoformat()) if order.paid_at else "",
        "provider": payment.get("provider", ""),
        "method": payment.get("method"),
        "receipt_url": payment.get("receipt_url"),
    }


async def order_confirmation(event: OrderPaid, delivery: Delivery) -> None:
    """``OrderPaid`` → confirmation and receipt, with a link to each ticket."""
    receipt, user = await _receipt_to(delivery, event.order_id, event.user_id)
    context = {
        "order_id": event.order_id,
        "amount": event.amount,
        "currency": event.currency or "KRW",
        "tickets": [_link(delivery, f"/tickets/{ticket_id}") for ticket_id in event.ticket_ids],
        **receipt,
    }
    await _send_to(delivery, user, "order_paid", context, order_id=event.order_id)


async def refund_notice(event: OrderCancelled, delivery: Delivery) -> None:
    """``OrderCancelled`` → what is refunded, and the fee kept (the refund's receipt)."""
    receipt, user = await _receipt_to(delivery, event.order_id, event.user_id)
    context = {
        "order_id": event.order_id,
        "refund_amount": event.refund_amount,
        "fee": event.fee,
        "currency": event.currency or "KRW",
        "reason": event.reason,
        "receipt_url": receipt["receipt_url"],
        "partial": event.partial,  # some lines: the rest of the order stands
        "fee_returned": event.fee_returned,  # earlier fees given back (show cancelled)
    }
    await _send_to(delivery, user, "order_cancelled", context, order_id=event.order_id)


SEOUL = ZoneInfo("Asia/Seoul")


def _in_seoul(moment: str) -> str:
    """An ISO time as the box office states it (Korea's time, which the shows keep)."""
    if not moment:
        return ""
    return datetime.fromisoformat(moment).astimezone(SEOUL).strftime("%Y-%m-%d %H:%M KST")


async def show_reminder(event: ShowReminderDue, delivery: Delivery) -> None:
    """``ShowReminderDue`` → the day-before reminder, in the holder's language."""
    context = {
        "title": event.title,
        "starts_at": _in_seoul(event.starts_at),
        "places": event.places,
        "tickets_url": _link(delivery, "/account/tickets"),
    }
    await _send_to_user(delivery, event.user_id, "show_reminder", context, show_id=event.show_id)


async def transfer_offer(event: TicketTransferOffered, delivery: Delivery) -> None:
    """``TicketTransferOffered`` → the receiver (an account, or an address that can sign
    up to accept), in the receiver's language if they have an account, else the sender's."""
    sender = await _recipient(delivery, event.from_user_id)
    receiver = await _recipient(delivery, event.to_user_id) if event.to_user_id else None
    known = receiver or sender
    locale = known.locale if known is not None else "ko"
    context = {
        "name": receiver.name if receiver else event.to_email,
        "sender": sender.name if sender else "",
        "title": event.title,
        "starts_at": _in_seoul(event.starts_at),
        "place": event.place,
        "transfers_url": _link(delivery, "/account/tickets"),
        "has_account": receiver is not None,
    }
    await send_templated(
        delivery,
        template="transfer_offer",
        to=event.to_email,
        locale=locale,
        user_id=receiver.id if receiver else None,
        context=context,
    )


async def transfer_accepted(event: TicketTransferred, delivery: Delivery) -> None:
    """``TicketTransferred`` → the sender: the ticket is the receiver's now."""
    context = {"title": event.title, "place": event.place, "to_email": event.to_email}
    await _send_to_user(
        delivery, event.from_user_id, "transfer_accepted", context, transfer_id=event.transfer_id
    )


async def show_moved(event: ShowMovedNotice, delivery: Delivery) -> None:
    """``ShowMovedNotice`` → the new time, and until when cancelling costs nothing."""
    context = {
        "title": event.title,
        "old_starts_at": _in_seoul(event.old_starts_at),
        "new_starts_at": _in_seoul(event.new_starts_at),
        "free_refund_until": _in_seoul(event.free_refund_until),
        "orders_url": _link(delivery, "/account/orders"),
    }
    await _send_to_user(delivery, event.user_id, "show_moved", context, show_id=event.show_id)


async def waitlist_offer(event: WaitlistSeatOffered, delivery: Delivery) -> None:
    """``WaitlistSeatOffered`` → the seat held for the fan, and until when to pay."""
    context = {
        "seat_id": event.seat_id,
        "amount": event.amount,
        "currency": event.currency,
        "expires_at": event.expires_at,
        "checkout_url": _link(delivery, f"/checkout/{event.hold_id}"),
    }
    await _send_to_user(delivery, event.user_id, "waitlist_offer", context, hold_id=event.hold_id)


async def dead_letters(
    uow: UnitOfWork, wanted: DeadLetterQuery
) -> tuple[list[DeadLetter], str | None]:
    """A page of failed deliveries, newest first (``status="all"``: whatever their state)."""
    return await _deadletters.list_dead_letters(
        uow,
        status=None if wanted.status == "all" else wanted.status,
        kind=wanted.kind,
        limit=wanted.limit,
        cursor=wanted.cursor,
    )


async def retry_dead_letter(uow: UnitOfWork, dead_letter_id: str, *, admin_id: str) -> DeadLetter:
    """Send the failed delivery through the retry topic again (commits)."""
    return await _deadletters.retry_dead_letter(uow, dead_letter_id, admin_id=admin_id)
