"""Tables of the messaging kernel: processed event ids, scheduled retries, dead letters."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from boxoffice.platform.db import Base, IdColumn, IdKey, UTCTime


class ProcessedEvent(Base):
    """One row per (consumer, event). While a delivery works on the event the row carries
    its ``claim`` (until ``claimed_until``: a dead worker's claim lapses); the consumer's
    own transaction clears the claim, which marks the event processed."""

    __tablename__ = "platform_processed_events"

    consumer: Mapped[str] = mapped_column(String(80), primary_key=True)
    event_id: Mapped[IdKey]
    processed_at: Mapped[UTCTime] = mapped_column(index=True)
    claim: Mapped[IdColumn | None]
    claimed_until: Mapped[UTCTime | None]


class _FailedDelivery:
    """What a retry and a dead letter both keep: the consumer that failed, and the event
    itself as the outbox held it, so it can be published again without the outbox row."""

    id: Mapped[IdKey]
    consumer: Mapped[str] = mapped_column(String(80))
    event_id: Mapped[IdColumn]
    topic: Mapped[str] = mapped_column(String(120))
    event_type: Mapped[str] = mapped_column(String(80))
    version: Mapped[int] = mapped_column(Integer)
    aggregate_id: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)
    occurred_at: Mapped[UTCTime]

    def stored_event(self) -> dict[str, Any]:
        """The event's columns, to store it again for another delivery."""
        return {
            "event_id": self.event_id,
            "topic": self.topic,
            "event_type": self.event_type,
            "version": self.version,
            "aggregate_id": self.aggregate_id,
            "payload": self.payload,
            "occurred_at": self.occurred_at,
        }


class ScheduledRetry(_FailedDelivery, Base):
    """A failed delivery waiting for its next attempt (published to the retry topic when due)."""

    __tablename__ = "platform_retries"
    __table_args__ = (UniqueConstraint("consumer", "event_id"),)

    attempt: Mapped[int] = mapped_column(Integer)  # the attempt that will run when due
    due_at: Mapped[UTCTime] = mapped_column(index=True)
    last_error: Mapped[str] = mapped_column(String(500))


class DeadLetter(_FailedDelivery, Base):
    """A delivery that failed for good; an admin can look at it and retry it."""

    __tablename__ = "platform_dead_letters"
    __table_args__ = (UniqueConstraint("consumer", "event_id"),)

    kind: Mapped[str] = mapped_column(String(20))  # "email" or "event"
    attempts: Mapped[int] = mapped_column(Integer)
    last_error: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(20), index=True)  # dead, retrying, resolved
    failed_at: Mapped[UTCTime] = mapped_column(index=True)
    retried_at: Mapped[UTCTime | None]
    retried_by: Mapped[IdColumn | None]
