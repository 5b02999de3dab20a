"""seating's HTTP shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Self

from pydantic import BaseModel, Field, StringConstraints, model_validator

from boxoffice.platform.db import record_of
from boxoffice.seating.contracts import HeldSeats

SeatId = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class StandingIn(BaseModel):
    section: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    quantity: int = Field(ge=1, le=50)


class BestAvailableIn(BaseModel):
    """Seats the shop chooses: this many side by side, of this grade, in this section
    (either left out: any). docs/seating.md, "Best available"."""

    quantity: int = Field(ge=1, le=50)
    grade: Annotated[str, StringConstraints(min_length=1, max_length=32)] | None = None
    section: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None


class HoldCreate(BaseModel):
    # Chosen seats; may be empty when standing places are asked for (at least one of them).
    seat_ids: list[SeatId] = Field(default_factory=list, max_length=50)
    # Places in standing areas, by quantity (docs/selling.md).
    standing: list[StandingIn] | None = Field(default=None, max_length=10)
    # Seat id -> ticket type id, for the seats not sold at their grade's base price.
    ticket_types: dict[SeatId, SeatId] | None = Field(default=None, max_length=50)
    # A presale code or voucher of the event (docs/selling.md).
    code: Annotated[str, StringConstraints(min_length=1, max_length=40)] | None = None
    # Instead of seat_ids, standing and ticket_types: the shop chooses the seats.
    best_available: BestAvailableIn | None = None

    @model_validator(mode="after")
    def _chosen_one_way(self) -> Self:
        if self.best_available is not None and (
            self.seat_ids or self.standing or self.ticket_types
        ):
            raise ValueError("best_available is asked instead of seat_ids, standing and types")
        return self


class _Seat(BaseModel):
    """A seat where it is and what it costs, as a hold and the seat map name it."""

    id: str
    section: str
    row: str
    number: str
    grade: str
    price: int


class HeldSeatRead(_Seat):
    ticket_type_id: str | None = None
    ticket_type_name: str | None = None


class HoldRead(BaseModel):
    hold_id: str
    show_id: str
    seat_ids: list[str]
    expires_at: datetime
    amount: int
    currency: str
    status: str  # active | released | expired | sold
    seats: list[HeldSeatRead]
    # Goods of the event on sale and in stock, offered next to the tickets (bundles).
    suggested_products: list[dict[str, Any]] = Field(default_factory=list)

    @classmethod
    def of(cls, held: HeldSeats) -> HoldRead:
        return record_of(
            cls,
            held,
            seat_ids=[s.seat_id for s in held.seats],
            seats=[record_of(HeldSeatRead, s, id=s.seat_id) for s in held.seats],
        )


class SeatRead(_Seat):
    status: str  # available | held | sold


class SeatMapRead(BaseModel):
    """The documented shape of ``GET /shows/{id}/seats`` (the body is pre-rendered)."""

    show_id: str
    seats: list[SeatRead]


# The sold-out waitlist (docs/selling.md)

GradeCode = Annotated[str, StringConstraints(min_length=1, max_length=32)]


class WaitlistJoin(BaseModel):
    grade: GradeCode | None = None  # None: any seat


class WaitlistEntryRead(BaseModel):
    id: str
    show_id: str
    grade: str | None
    status: str  # waiting | offered | bought | missed | left
    joined_at: datetime
    position: int | None  # 1 = next in line, while waiting
    hold_id: str | None  # the offered seat's hold, to order and pay
    offer_expires_at: datetime | None


# Box-office seats (docs/selling.md)


class BlockRequest(BaseModel):
    seat_ids: list[SeatId] = Field(min_length=1, max_length=1000)
    reason: Annotated[str, StringConstraints(max_length=32)] = "house"


class ReleaseRequest(BaseModel):
    seat_ids: list[SeatId] = Field(min_length=1, max_length=1000)


class BlockedSeats(BaseModel):
    show_id: str
    seat_ids: list[str]


class BlockedSeatRead(BaseModel):
    seat_id: str
    reason: str
