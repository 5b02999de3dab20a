"""seating's tables (prefix ``seating_``).

A seat row carries everything the one conditional claim needs (status, hold, holder,
expiry), so claiming seats is a single-table ``UPDATE ... WHERE`` that the database
judges row by row.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Float, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from boxoffice.platform.db import Base, IdColumn, IdKey, UTCTime

SEAT_ID_LENGTH = 64


class ShowInventory(Base):
    """One show whose seats seating owns."""

    __tablename__ = "seating_shows"

    show_id: Mapped[IdKey]
    event_id: Mapped[IdColumn]
    seat_count: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[UTCTime]


class Seat(Base):
    """One seat of one show: ``available``, ``held`` (by ``hold_id`` until
    ``hold_expires_at``) or ``sold`` (to ``holder_id`` through ``order_id``)."""

    __tablename__ = "seating_seats"
    __table_args__ = (
        Index("ix_seating_seats_hold_id", "hold_id"),
        Index("ix_seating_seats_show_id_holder_id", "show_id", "holder_id"),
        Index("ix_seating_seats_show_id_ticket_type_id", "show_id", "ticket_type_id"),
    )

    show_id: Mapped[IdKey]
    seat_id: Mapped[str] = mapped_column(String(SEAT_ID_LENGTH), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)  # order on the seat map
    section: Mapped[str] = mapped_column(String(64))
    row: Mapped[str] = mapped_column(String(16))
    number: Mapped[str] = mapped_column(String(16))
    grade: Mapped[str] = mapped_column(String(32))
    x: Mapped[float | None] = mapped_column(Float)
    y: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16), default="available")
    hold_id: Mapped[IdColumn | None]
    holder_id: Mapped[IdColumn | None]
    hold_expires_at: Mapped[UTCTime | None]
    order_id: Mapped[IdColumn | None]
    # The ticket type the seat is held or sold at (None: the grade's base price); counted
    # against the type's cap only while the seat is taken (docs/selling.md).
    ticket_type_id: Mapped[IdColumn | None]
    # Why the seller holds the seat back from the sale (status "blocked"): house, press...
    blocked_for: Mapped[str | None] = mapped_column(String(32))


class Hold(Base):
    """A user's claim on some seats until ``expires_at``; ``seat_ids`` is kept (JSON) after
    the seats are released, for history and events."""

    __tablename__ = "seating_holds"
    __table_args__ = (
        Index("ix_seating_holds_status_expires_at", "status", "expires_at"),
        Index("ix_seating_holds_show_id_user_id", "show_id", "user_id"),
    )

    id: Mapped[IdKey]
    show_id: Mapped[IdColumn]
    user_id: Mapped[IdColumn]
    status: Mapped[str] = mapped_column(String(16))  # active | released | expired | sold
    seat_ids: Mapped[str] = mapped_column(Text())
    # The seats as held (JSON: [[seat id, section, row, number, grade, price], ...]); null
    # only for holds made before this was kept, which are read from the seats instead.
    seats: Mapped[str | None] = mapped_column(Text())
    amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[UTCTime]
    expires_at: Mapped[UTCTime]
    ended_at: Mapped[UTCTime | None]
    end_reason: Mapped[str | None] = mapped_column(String(32))
    order_id: Mapped[IdColumn | None]
    # The presale code or voucher the hold redeemed (docs/selling.md), if any.
    code_id: Mapped[IdColumn | None]


class BuyerLock(Base):
    """One row per (show, user): claiming it first serialises one user's holds on one show,
    so two devices racing cannot both pass the per-user limit."""

    __tablename__ = "seating_buyer_locks"

    show_id: Mapped[IdKey]
    user_id: Mapped[IdKey]
    claims: Mapped[int] = mapped_column(Integer, default=0)


class TicketTypeLock(Base):
    """One row per (show, capped ticket type): claiming it serialises the claims of that
    type on that show, so the count of its seats read next is exact under races."""

    __tablename__ = "seating_ticket_type_locks"

    show_id: Mapped[IdKey]
    ticket_type_id: Mapped[IdKey]
    claims: Mapped[int] = mapped_column(Integer, default=0)


class WaitlistEntry(Base):
    """A fan waiting for a seat of a sold-out show (one entry per show and user): a grade
    or any seat; offered a seat (``hold_id``) when one comes back (docs/selling.md)."""

    __tablename__ = "seating_waitlist"
    __table_args__ = (
        UniqueConstraint("show_id", "user_id"),
        Index("ix_seating_waitlist_show_id_status_joined_at", "show_id", "status", "joined_at"),
    )

    id: Mapped[IdKey]
    show_id: Mapped[IdColumn]
    user_id: Mapped[IdColumn]
    grade: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))  # waitlist_rules.EntryStatus
    joined_at: Mapped[UTCTime]
    hold_id: Mapped[IdColumn | None]
    offered_at: Mapped[UTCTime | None]
    offer_expires_at: Mapped[UTCTime | None]


class Code(Base):
    """A presale code or voucher of an event (code_rules.CodeInfo); ``claims`` is bumped by
    every redemption as the row lock that serialises them."""

    __tablename__ = "seating_codes"
    __table_args__ = (
        UniqueConstraint("event_id", "code"),
        Index("ix_seating_codes_batch_id", "batch_id"),
    )

    id: Mapped[IdKey]
    event_id: Mapped[IdColumn]
    code: Mapped[str] = mapped_column(String(40))
    batch_id: Mapped[IdColumn | None]
    presale_opens_at: Mapped[UTCTime | None]
    ticket_type_id: Mapped[IdColumn | None]
    amount_off: Mapped[int | None] = mapped_column(Integer)
    percent_off: Mapped[int | None] = mapped_column(Integer)
    max_uses: Mapped[int | None] = mapped_column(Integer)
    max_uses_per_user: Mapped[int | None] = mapped_column(Integer)
    valid_from: Mapped[UTCTime | None]
    valid_until: Mapped[UTCTime | None]
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    claims: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[UTCTime]


class CodeRedemption(Base):
    """One use of a code by a hold: ``reserved`` while the hold lives, ``spent`` once its
    order is paid, ``released`` when the order is cancelled (a lapsed hold's reservation
    simply stops counting). The audit of a code's redemptions."""

    __tablename__ = "seating_code_redemptions"
    __table_args__ = (
        Index("ix_seating_code_redemptions_code_id_user_id", "code_id", "user_id"),
        Index("ix_seating_code_redemptions_hold_id", "hold_id"),
        Index("ix_seating_code_redemptions_order_id", "order_id"),
    )

    id: Mapped[IdKey]
    code_id: Mapped[IdColumn]
    user_id: Mapped[IdColumn]
    hold_id: Mapped[IdColumn]
    order_id: Mapped[IdColumn | None]
    status: Mapped[str] = mapped_column(String(16))  # reserved | spent | released
    discount: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[UTCTime]
    spent_at: Mapped[UTCTime | None]
    released_at: Mapped[UTCTime | None]
