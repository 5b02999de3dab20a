"""tickets' tables (prefix ``tickets_``)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from boxoffice.platform.db import Base, IdColumn, IdKey, UTCTime

# The columns that say which seat a ticket is for and what it cost, in the order the
# attendee list's CSV and the holder's data export show them.
SEAT_COLUMNS = ("section", "row", "number", "grade", "price", "currency")


class Ticket(Base):
    """One seat of one show for one holder. ``active_seat`` is the seat id while the ticket
    is valid or used and NULL once void, so the database refuses two live tickets for a seat.
    """

    __tablename__ = "tickets_tickets"
    __table_args__ = (
        UniqueConstraint("show_id", "active_seat"),
        Index("ix_tickets_tickets_order_id", "order_id"),
        Index("ix_tickets_tickets_user_id", "user_id"),
        Index("ix_tickets_tickets_show_id_id", "show_id", "id"),
    )

    id: Mapped[IdKey]
    order_id: Mapped[IdColumn]
    user_id: Mapped[IdColumn]
    show_id: Mapped[IdColumn]
    event_id: Mapped[IdColumn]
    seller_id: Mapped[IdColumn]
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[UTCTime | None]
    seat_id: Mapped[str] = mapped_column(String(64))
    active_seat: Mapped[str | None] = mapped_column(String(64))
    section: Mapped[str] = mapped_column(String(64))
    row: Mapped[str] = mapped_column(String(16))
    number: Mapped[str] = mapped_column(String(16))
    grade: Mapped[str] = mapped_column(String(32))
    price: Mapped[int] = mapped_column(BigInteger())
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(8))  # valid | used | void
    code: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[UTCTime]
    checked_in_at: Mapped[UTCTime | None]
    checked_in_by: Mapped[IdColumn | None]
    voided_at: Mapped[UTCTime | None]


class ShowReminder(Base):
    """A holder was reminded of a show (one e-mail per holder per show, whoever runs the
    job: the primary key refuses a second)."""

    __tablename__ = "tickets_show_reminders"

    show_id: Mapped[IdKey]
    user_id: Mapped[IdKey]
    reminded_at: Mapped[UTCTime]


class TicketTransfer(Base):
    """A holder gives a ticket to another account, by e-mail. ``pending_key`` is the ticket
    id while the transfer is pending and NULL after, so the database refuses two pending
    transfers of one ticket; every transfer stays as the ticket's record."""

    __tablename__ = "tickets_transfers"
    __table_args__ = (
        UniqueConstraint("pending_key"),
        Index("ix_tickets_transfers_ticket_id", "ticket_id"),
        Index("ix_tickets_transfers_from_user_id", "from_user_id"),
        Index("ix_tickets_transfers_to_email", "to_email"),
    )

    id: Mapped[IdKey]
    ticket_id: Mapped[IdColumn]
    show_id: Mapped[IdColumn]
    from_user_id: Mapped[IdColumn]
    to_email: Mapped[str] = mapped_column(String(254))  # normalised as identity keeps e-mails
    to_user_id: Mapped[IdColumn | None]  # the account that accepted
    status: Mapped[str] = mapped_column(String(12))  # pending|accepted|declined|cancelled
    pending_key: Mapped[IdColumn | None]
    new_ticket_id: Mapped[IdColumn | None]
    created_at: Mapped[UTCTime]
    closed_at: Mapped[UTCTime | None]
