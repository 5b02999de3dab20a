"""notifications' tables: the log of e-mails handed to the mail server."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from boxoffice.platform.db import Base, Id, UTCDateTime


class SentEmail(Base):
    """One e-mail per (template, event): written with the consumer's processed id."""

    __tablename__ = "notifications_emails"
    __table_args__ = (UniqueConstraint("template", "event_id"),)

    id: Mapped[str] = mapped_column(Id(), primary_key=True)
    template: Mapped[str] = mapped_column(String(40))
    event_id: Mapped[str] = mapped_column(Id())
    user_id: Mapped[str | None] = mapped_column(Id(), index=True)
    to_address: Mapped[str] = mapped_column(String(320))
    locale: Mapped[str] = mapped_column(String(8))
    subject: Mapped[str] = mapped_column(String(300))
    message_id: Mapped[str] = mapped_column(String(200))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
