"""Payloads decoded into their event classes, once, by the platform."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter, ValidationError

from boxoffice.platform.events import DomainEvent
from boxoffice.platform.messaging.consumers import AnyConsumer, UndecodableEvent
from boxoffice.platform.messaging.envelope import Envelope


@dataclass(frozen=True)
class Incoming:
    """An envelope handed to one consumer, with its payload decoded into the consumer's event."""

    envelope: Envelope
    event: DomainEvent

    @property
    def event_id(self) -> str:
        return self.envelope.event_id


_ADAPTERS: dict[type[DomainEvent], TypeAdapter[Any]] = {}


def _adapter(event: type[DomainEvent]) -> TypeAdapter[Any]:
    found = _ADAPTERS.get(event)
    if found is None:
        found = _ADAPTERS[event] = TypeAdapter(event)
    return found


def decode(consumer: AnyConsumer, envelope: Envelope) -> Incoming:
    """``envelope``'s payload as ``consumer.event``; :class:`UndecodableEvent` (with the
    reason) when a field is missing or of the wrong type. Unknown fields are ignored, so a
    producer may add fields before its consumers read them."""
    try:
        event = _adapter(consumer.event).validate_python(envelope.payload)
    except ValidationError as exc:
        reasons = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'payload'}: {error['msg']}"
            for error in exc.errors()
        )
        raise UndecodableEvent(
            f"payload is not a valid {consumer.event.__name__} ({reasons})"[:480]
        ) from exc
    return Incoming(envelope, event)
