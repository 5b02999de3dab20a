"""Events catalog publishes."""

from __future__ import annotations

from dataclasses import dataclass

from boxoffice.platform.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class EventPublished(DomainEvent):
    context, name = "catalog", "EventPublished"
    event_id: str
    seller_id: str
    title: str

    @property
    def aggregate_id(self) -> str:
        return self.event_id


@dataclass(frozen=True, kw_only=True)
class EventCancelled(DomainEvent):
    """The event is off: orders refunds every paid order of it (``refund_event_orders``)."""

    context, name = "catalog", "EventCancelled"
    event_id: str
    seller_id: str
    title: str
    reason: str

    @property
    def aggregate_id(self) -> str:
        return self.event_id


@dataclass(frozen=True, kw_only=True)
class ShowCancelled(DomainEvent):
    """One show of the event is off: orders refunds every paid order of it in full."""

    context, name = "catalog", "ShowCancelled"
    show_id: str
    event_id: str
    seller_id: str
    title: str
    starts_at: str
    reason: str

    @property
    def aggregate_id(self) -> str:
        return self.event_id


@dataclass(frozen=True, kw_only=True)
class ShowRescheduled(DomainEvent):
    """A show moved to another time; its buyers may cancel without a fee until
    ``free_refund_until`` (tickets follow the time and tell each holder)."""

    context, name = "catalog", "ShowRescheduled"
    show_id: str
    event_id: str
    title: str
    old_starts_at: str
    new_starts_at: str
    free_refund_until: str

    @property
    def aggregate_id(self) -> str:
        return self.event_id
