"""tickets' HTTP shapes."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field

from boxoffice.platform.db import record_of
from boxoffice.platform.schemas import Strict

if TYPE_CHECKING:
    from boxoffice.tickets.models import Ticket, TicketTransfer


class SeatRead(BaseModel):
    id: str
    section: str
    row: str
    number: str
    grade: str

    @classmethod
    def of_ticket(cls, ticket: Ticket) -> SeatRead:
        """The seat a ticket is for, as copied onto the ticket when it was issued."""
        return record_of(cls, ticket, id=ticket.seat_id)


class TicketRead(BaseModel):
    id: str
    order_id: str
    show_id: str
    event_id: str
    title: str
    starts_at: datetime | None
    seat: SeatRead
    price: int
    currency: str
    status: str
    code: str
    issued_at: datetime
    checked_in_at: datetime | None
    voided_at: datetime | None

    @classmethod
    def of_ticket(cls, ticket: Ticket) -> TicketRead:
        """The holder's view of the ticket: its own columns, and its seat."""
        return record_of(cls, ticket, seat=SeatRead.of_ticket(ticket))


class TicketPage(BaseModel):
    items: list[TicketRead]
    next_cursor: str | None


class CheckIn(Strict):
    code: str = Field(min_length=1, max_length=128)
    show_id: str = Field(min_length=1, max_length=64, description="the show the door scans for")


class CheckInRead(BaseModel):
    ticket_id: str
    show_id: str
    seat: SeatRead
    status: str
    checked_in_at: datetime


class AttendeeRead(BaseModel):
    """One ticket of a show with its holder (``GET /shows/{id}/attendees``)."""

    ticket_id: str
    order_id: str
    status: str
    holder_id: str
    holder_email: str | None = None
    holder_name: str | None = None
    seat: SeatRead
    price: int
    currency: str
    issued_at: datetime
    checked_in_at: datetime | None = None


class AttendeePage(BaseModel):
    items: list[AttendeeRead]
    next_cursor: str | None = None
    checked_in: int
    live: int  # valid or used: the tickets that can still come through the door


class AttendeeQuery(BaseModel):
    """``status`` filter; ``q`` = a holder's e-mail or an order id."""

    status: Literal["valid", "used", "void"] | None = None
    q: str | None = Field(default=None, max_length=254)
    cursor: str | None = Field(default=None, max_length=64)
    limit: int = Field(default=50, ge=1, le=200)


class DoorCountRead(BaseModel):
    show_id: str
    live: int  # valid or used tickets
    checked_in: int


class TransferCreate(Strict):
    to_email: str = Field(
        min_length=3,
        max_length=254,
        pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
        description="the receiver's e-mail: their account's, or the one they will sign up with",
    )


class TransferRead(BaseModel):
    id: str
    ticket_id: str
    show_id: str
    direction: Literal["sent", "received"]
    to_email: str
    status: Literal["pending", "accepted", "declined", "cancelled"]
    new_ticket_id: str | None = Field(
        default=None, description="accepted: the receiver's ticket (the old one is void)"
    )
    created_at: datetime
    closed_at: datetime | None

    @classmethod
    def of_transfer(cls, transfer: TicketTransfer, direction: str) -> TransferRead:
        """The transfer's columns, as the holder (``sent``) or receiver (``received``) sees it."""
        return record_of(cls, transfer, direction=direction)


class TransferAnswer(BaseModel):
    transfer: TransferRead
    ticket: TicketRead | None = Field(
        default=None, description="accepted: the receiver's new ticket, with its new code"
    )


class TransferListed(TransferRead):
    """A transfer in the user's list, with the ticket it gives: the receiver answers
    knowing which show and seat they are offered."""

    title: str
    starts_at: datetime | None
    seat: SeatRead

    @classmethod
    def of_listed(cls, transfer: TicketTransfer, direction: str, ticket: Ticket) -> TransferListed:
        """The transfer as ``of_transfer`` reads it; the show and seat from its ticket."""
        read = TransferRead.of_transfer(transfer, direction).model_dump()
        return record_of(cls, ticket, seat=SeatRead.of_ticket(ticket), **read)


class TransferList(BaseModel):
    items: list[TransferListed]
