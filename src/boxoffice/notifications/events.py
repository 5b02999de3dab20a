"""Events notifications publishes (to itself: the sender's topic)."""

from __future__ import annotations

from dataclasses import dataclass

from boxoffice.platform.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class WebhookDue(DomainEvent):
    """One delivery to send (the sender's topic)."""

    context, name = "notifications", "WebhookDue"
    delivery_id: str
    endpoint_id: str

    @property
    def aggregate_id(self) -> str:
        return self.endpoint_id
