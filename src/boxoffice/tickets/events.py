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
