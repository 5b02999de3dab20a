"""catalog's tables (prefix ``catalog_``)."""

from __future__ import annotations

from typing import Annotated

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from boxoffice.platform.db import Base, IdColumn, IdKey, UTCTime, owned_by
from boxoffice.platform.media import StoredImageColumns

# Lengths match seating's seat columns, which copy these values per show.
SECTION_LENGTH = 64
ROW_LENGTH = 16
NUMBER_LENGTH = 16
GRADE_LENGTH = 32

# A row that belongs to one venue or one event and is deleted with it.
OwnedByVenue = Annotated[str, owned_by("catalog_venues.id")]
OwnedByEvent = Annotated[str, owned_by("catalog_events.id")]


class Category(Base):
    """A managed category (concert, musical, ...); seeded by migration, edited by admins."""

    __tablename__ = "catalog_categories"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Venue(Base):
    __tablename__ = "catalog_venues"

    id: Mapped[IdKey]
    seller_id: Mapped[IdColumn]
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300))
    seat_count: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[UTCTime]


class VenueSection(Base):
    __tablename__ = "catalog_venue_sections"
    __table_args__ = (UniqueConstraint("venue_id", "name"),)

    id: Mapped[IdKey]
    venue_id: Mapped[OwnedByVenue]
    name: Mapped[str] = mapped_column(String(SECTION_LENGTH))
    grade: Mapped[str] = mapped_column(String(GRADE_LENGTH))
    position: Mapped[int] = mapped_column(Integer)


class VenueSeat(Base):
    """One seat of a venue's map; inserted in bulk, read back by ``(venue_id, position)``."""

    __tablename__ = "catalog_venue_seats"
    __table_args__ = (
        UniqueConstraint("venue_id", "section", "row", "number"),
        Index("ix_catalog_venue_seats_venue_id_position", "venue_id", "position"),
    )

    id: Mapped[IdKey]
    venue_id: Mapped[OwnedByVenue]
    position: Mapped[int] = mapped_column(Integer)
    section: Mapped[str] = mapped_column(String(SECTION_LENGTH))
    row: Mapped[str] = mapped_column(String(ROW_LENGTH))
    number: Mapped[str] = mapped_column(String(NUMBER_LENGTH))
    grade: Mapped[str] = mapped_column(String(GRADE_LENGTH))
    x: Mapped[float | None] = mapped_column(Float)
    y: Mapped[float | None] = mapped_column(Float)


class Event(Base):
    __tablename__ = "catalog_events"
    __table_args__ = (
        Index("ix_catalog_events_status_first_starts_at_id", "status", "first_starts_at", "id"),
        Index("ix_catalog_events_seller_id", "seller_id"),
    )

    id: Mapped[IdKey]
    seller_id: Mapped[IdColumn]
    venue_id: Mapped[IdColumn] = mapped_column(ForeignKey("catalog_venues.id"))
    category: Mapped[str] = mapped_column(String(32), ForeignKey("catalog_categories.code"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text())
    status: Mapped[str] = mapped_column(String(16))  # draft | published | cancelled
    currency: Mapped[str] = mapped_column(String(3))
    sale_opens_at: Mapped[UTCTime]
    sale_closes_at: Mapped[UTCTime]
    max_tickets_per_user: Mapped[int] = mapped_column(Integer)
    # "show": the limit counts per show; "event": across every show of the event.
    purchase_limit_scope: Mapped[str] = mapped_column(String(8), default="show")
    hold_minutes: Mapped[int] = mapped_column(Integer)
    queue_enabled: Mapped[bool] = mapped_column(Boolean)
    queue_admit_per_second: Mapped[float] = mapped_column(Float)
    queue_max_active: Mapped[int] = mapped_column(Integer)
    queue_pre_queue_minutes: Mapped[int] = mapped_column(Integer)
    queue_paused: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Ticket transfers between accounts: allowed at all, and closed so many hours before a show.
    transfers_allowed: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    transfer_cutoff_hours: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Buying (placing an order) needs a verified e-mail; browsing, queueing, holding do not.
    requires_verified_email: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    cancellation_policy: Mapped[str] = mapped_column(Text())  # JSON of CancellationPolicy
    # The earliest and latest show, kept on the event so listing filters and orders on one table.
    first_starts_at: Mapped[UTCTime | None]
    last_starts_at: Mapped[UTCTime | None]
    view_count: Mapped[int] = mapped_column(BigInteger, default=0)
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[UTCTime]
    updated_at: Mapped[UTCTime]
    published_at: Mapped[UTCTime | None]
    cancelled_at: Mapped[UTCTime | None]


class EventGrade(Base):
    __tablename__ = "catalog_event_grades"
    __table_args__ = (UniqueConstraint("event_id", "code"),)

    id: Mapped[IdKey]
    event_id: Mapped[OwnedByEvent]
    code: Mapped[str] = mapped_column(String(GRADE_LENGTH))
    name: Mapped[str] = mapped_column(String(100))
    price: Mapped[int] = mapped_column(BigInteger)
    position: Mapped[int] = mapped_column(Integer)


class TicketType(Base):
    """One price of one grade (adult, student, early bird): sold between ``available_from``
    and ``available_until`` (either open), at most ``quantity_cap`` seats per show (None:
    no cap); ``hidden`` types are not listed (a presale code unlocks them)."""

    __tablename__ = "catalog_ticket_types"
    __table_args__ = (Index("ix_catalog_ticket_types_event_id", "event_id"),)

    id: Mapped[IdKey]
    event_id: Mapped[OwnedByEvent]
    grade: Mapped[str] = mapped_column(String(GRADE_LENGTH))
    name: Mapped[str] = mapped_column(String(100))
    price: Mapped[int] = mapped_column(BigInteger)
    available_from: Mapped[UTCTime | None]
    available_until: Mapped[UTCTime | None]
    quantity_cap: Mapped[int | None] = mapped_column(Integer)
    eligibility_note: Mapped[str | None] = mapped_column(String(300))
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[UTCTime]


class Show(Base):
    __tablename__ = "catalog_shows"
    __table_args__ = (UniqueConstraint("event_id", "starts_at"),)

    id: Mapped[IdKey]
    event_id: Mapped[OwnedByEvent]
    starts_at: Mapped[UTCTime]
    status: Mapped[str] = mapped_column(String(16))  # scheduled | cancelled
    seat_count: Mapped[int] = mapped_column(Integer)
    # Moved to another time: buyers may cancel without a fee until then (show_changes.py).
    free_refund_until: Mapped[UTCTime | None]
    created_at: Mapped[UTCTime]


class EventImage(StoredImageColumns, Base):
    __tablename__ = "catalog_event_images"
    __table_args__ = (Index("ix_catalog_event_images_event_id_kind", "event_id", "kind"),)

    id: Mapped[IdKey]
    event_id: Mapped[OwnedByEvent]
    kind: Mapped[str] = mapped_column(String(16))  # poster | detail
    created_at: Mapped[UTCTime]


class ViewFlush(Base):
    """A view-count batch already applied: makes a retried flush apply it at most once."""

    __tablename__ = "catalog_view_flushes"

    batch_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    events: Mapped[int] = mapped_column(Integer)
    views: Mapped[int] = mapped_column(BigInteger)
    flushed_at: Mapped[UTCTime]
