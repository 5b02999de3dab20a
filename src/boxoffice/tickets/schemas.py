"""tickets' HTTP shapes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class SeatRead(BaseModel):
    id: str
    section: str
    row: str
    number: str
    grade: str


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


class TicketPage(BaseModel):
    items: list[TicketRead]
    next_cursor: str | None


class CheckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=128)
    show_id: str = Field(min_length=1, max_length=64, description="the show the door scans for")


class CheckInRead(BaseModel):
    ticket_id: str
    show_id: str
    seat: SeatRead
    status: str
    checked_in_at: datetime
