"""The envelope an event travels in: the outbox row, as bytes on the broker."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from boxoffice.platform.jsonutil import dumps, loads
from boxoffice.platform.messaging.models import ScheduledRetry
from boxoffice.platform.outbox import OutboxMessage


@dataclass(frozen=True)
class Envelope:
    event_id: str
    topic: str  # boxoffice.<context>.<Event>: the event's own topic, also on a retry
    event_type: str
    version: int
    aggregate_id: str
    payload: dict[str, Any]
    occurred_at: datetime
    attempt: int = 1  # 1 for the first delivery; retries carry the attempt they are
    retried: bool = False  # came through the retry topic

    @classmethod
    def from_outbox(cls, row: OutboxMessage | ScheduledRetry, **delivery: Any) -> Envelope:
        """The event a stored row holds (an outbox row, or a retry with ``attempt``)."""
        return cls(
            event_id=row.event_id,
            topic=row.topic,
            event_type=row.event_type,
            version=row.version,
            aggregate_id=row.aggregate_id,
            payload=loads(row.payload),
            occurred_at=row.occurred_at,
            **delivery,
        )

    def encode(self) -> bytes:
        return dumps(
            {
                "event_id": self.event_id,
                "topic": self.topic,
                "type": self.event_type,
                "version": self.version,
                "aggregate_id": self.aggregate_id,
                "payload": self.payload,
                "occurred_at": self.occurred_at.isoformat(),
                "attempt": self.attempt,
                "retried": self.retried,
            }
        )

    @classmethod
    def decode(cls, raw: bytes | str | Mapping[str, Any]) -> Envelope:
        """From the bytes ``encode`` made, or from them already decoded from JSON."""
        data = raw if isinstance(raw, Mapping) else loads(raw)
        return cls(
            event_id=str(data["event_id"]),
            topic=str(data["topic"]),
            event_type=str(data["type"]),
            version=int(data["version"]),
            aggregate_id=str(data["aggregate_id"]),
            payload=dict(data["payload"]),
            occurred_at=datetime.fromisoformat(data["occurred_at"]),
            attempt=int(data.get("attempt", 1)),
            retried=bool(data.get("retried", False)),
        )

    @classmethod
    def from_retry(cls, row: ScheduledRetry) -> Envelope:
        return cls.from_outbox(row, attempt=row.attempt, retried=True)
