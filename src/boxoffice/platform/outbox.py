"""The transactional outbox table: events are rows written in the causing transaction."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from boxoffice.platform.db import Base, IdColumn, UTCTime


class OutboxMessage(Base):
    __tablename__ = "platform_outbox"

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    event_id: Mapped[IdColumn] = mapped_column(unique=True)
    topic: Mapped[str] = mapped_column(String(120), index=True)
    event_type: Mapped[str] = mapped_column(String(80))
    version: Mapped[int] = mapped_column(Integer)
    aggregate_id: Mapped[str] = mapped_column(String(64), index=True)
    payload: Mapped[str] = mapped_column(Text)
    occurred_at: Mapped[UTCTime]
    published_at: Mapped[UTCTime | None] = mapped_column(index=True)
