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
