"""notifications' tables: the log of e-mails handed to the mail server."""

from __future__ import annotations

from sqlalchemy import Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from boxoffice.platform.db import Base, IdColumn, IdKey, UTCTime


class SentEmail(Base):
    """One e-mail per (template, event): written with the consumer's processed id."""

    __tablename__ = "notifications_emails"
    __table_args__ = (UniqueConstraint("template", "event_id"),)

    id: Mapped[IdKey]
    template: Mapped[str] = mapped_column(String(40))
    event_id: Mapped[IdColumn]
    user_id: Mapped[IdColumn | None] = mapped_column(index=True)
    to_address: Mapped[str] = mapped_column(String(320))
    locale: Mapped[str] = mapped_column(String(8))
    subject: Mapped[str] = mapped_column(String(300))
    message_id: Mapped[str] = mapped_column(String(200))
    sent_at: Mapped[UTCTime]


class WebhookEndpoint(Base):
    """A seller's HTTPS endpoint and the events it wants (``docs/webhooks.md``). The secret
    signs every delivery; it is shown once, at registration, and never logged."""

    __tablename__ = "notifications_webhook_endpoints"

    id: Mapped[IdKey]
    seller_id: Mapped[IdColumn] = mapped_column(index=True)
    url: Mapped[str] = mapped_column(String(500))
    events: Mapped[str] = mapped_column(String(200))  # space-separated event types
    secret: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(default=True)
    failure_streak: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[UTCTime]
    disabled_at: Mapped[UTCTime | None]


class WebhookDelivery(Base):
    """One event for one endpoint: sent until the endpoint answers 2xx, in order per
    aggregate (an order's ``order.paid`` before its ``order.refunded``)."""

    __tablename__ = "notifications_webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_id"),
        Index(
            "ix_notifications_webhook_deliveries_endpoint_id_aggregate_id",
            "endpoint_id",
            "aggregate_id",
        ),
    )

    id: Mapped[IdKey]
    endpoint_id: Mapped[IdColumn]
    event_id: Mapped[IdColumn]
    event_type: Mapped[str] = mapped_column(String(40))
    aggregate_id: Mapped[IdColumn]
    payload: Mapped[str] = mapped_column(Text())
    status: Mapped[str] = mapped_column(String(12))  # pending | delivered | abandoned
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[UTCTime]
    delivered_at: Mapped[UTCTime | None]


class WebhookAttempt(Base):
    """One try of a delivery: what the endpoint answered, or why nothing came back."""

    __tablename__ = "notifications_webhook_attempts"

    id: Mapped[IdKey]
    delivery_id: Mapped[IdColumn] = mapped_column(index=True)
    at: Mapped[UTCTime]
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(300))
    duration_ms: Mapped[int] = mapped_column(Integer)
