"""Events tickets publishes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from boxoffice.platform.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class TicketsIssued(DomainEvent):
    context, name = "tickets", "TicketsIssued"
    order_id: str
    user_id: str
    ticket_ids: list[str] = field(default_factory=list)

    @property
    def aggregate_id(self) -> str:
        return self.order_id


@dataclass(frozen=True, kw_only=True)
class TicketCheckedIn(DomainEvent):
    context, name = "tickets", "TicketCheckedIn"
    ticket_id: str
    show_id: str
    checked_in_at: datetime
    seller_id: str | None = None

    @property
    def aggregate_id(self) -> str:
        return self.ticket_id


@dataclass(frozen=True, kw_only=True)
class ShowReminderDue(DomainEvent):
    """A holder's show starts within a day: remind them (their tickets' places)."""

    context, name = "tickets", "ShowReminderDue"
    user_id: str
    show_id: str
    title: str
    starts_at: str
    places: list[str] = field(default_factory=list)  # "section row number" per valid ticket

    @property
    def aggregate_id(self) -> str:
        return self.user_id


@dataclass(frozen=True, kw_only=True)
class TicketTransferOffered(DomainEvent):
    """A holder offered a ticket to an e-mail address (an account's, or not yet one)."""

    context, name = "tickets", "TicketTransferOffered"
    transfer_id: str
    ticket_id: str
    show_id: str
    from_user_id: str
    to_email: str
    to_user_id: str | None = None
    title: str = ""
    starts_at: str = ""
    place: str = ""

    @property
    def aggregate_id(self) -> str:
        return self.ticket_id


@dataclass(frozen=True, kw_only=True)
class TicketTransferred(DomainEvent):
    """The receiver accepted: the old ticket is void, ``new_ticket_id`` is theirs."""

    context, name = "tickets", "TicketTransferred"
    transfer_id: str
    ticket_id: str
    new_ticket_id: str
    show_id: str
    from_user_id: str
    to_user_id: str
    to_email: str = ""
    title: str = ""
    place: str = ""

    @property
    def aggregate_id(self) -> str:
        return self.ticket_id


@dataclass(frozen=True, kw_only=True)
class ShowMovedNotice(DomainEvent):
    """A holder's show moved: tell them the new time and until when a refund is free."""

    context, name = "tickets", "ShowMovedNotice"
    user_id: str
    show_id: str
    title: str
    old_starts_at: str
    new_starts_at: str
    free_refund_until: str

    @property
    def aggregate_id(self) -> str:
        return self.user_id
