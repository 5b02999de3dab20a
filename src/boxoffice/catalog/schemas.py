"""catalog's request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from boxoffice.catalog.domain import MAX_VENUE_SEATS
from boxoffice.platform.schemas import Strict

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
SearchText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]
SectionName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
RowLabel = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=16)]
GradeCode = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9_+-]{0,31}$")
]
SeatNumber = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=16)]
CategoryCode = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{1,31}$")]
Price = Annotated[int, Field(ge=0, le=1_000_000_000)]
LimitScope = Literal["show", "event"]  # max_tickets_per_user counts per show, or per event


# Venues


class SeatIn(Strict):
    number: SeatNumber | Annotated[int, Field(ge=0, le=10**9)]
    grade: GradeCode | None = None
    x: float | None = None
    y: float | None = None


class RowIn(Strict):
    label: RowLabel
    seats: (  # N seats numbered 1..N, or the seats' numbers, or seats with coordinates
        Annotated[int, Field(ge=1, le=MAX_VENUE_SEATS)]
        | list[SeatNumber | Annotated[int, Field(ge=0, le=10**9)] | SeatIn]
    )
    grade: GradeCode | None = None
    y: float | None = None  # the row's drawing coordinate, for seats that give none


class SectionIn(Strict):
    """Numbered rows, or a standing area (``capacity`` places, sold by quantity)."""

    name: SectionName
    grade: GradeCode
    rows: list[RowIn] = Field(default_factory=list, max_length=10_000)
    capacity: Annotated[int, Field(ge=1, le=MAX_VENUE_SEATS)] | None = None


class VenueCreate(Strict):
    name: Title
    address: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)] = ""
    sections: list[SectionIn] = Field(min_length=1, max_length=2_000)


class VenueSeatRead(BaseModel):
    id: str
    number: str
    grade: str
    x: float | None = None
    y: float | None = None


class VenueRowRead(BaseModel):
    label: str
    seats: list[VenueSeatRead]


class VenueSectionRead(BaseModel):
    name: str
    grade: str
    rows: list[VenueRowRead]


class VenueRead(BaseModel):
    """A venue with its whole seat map (served from three queries, whatever its size)."""

    id: str
    seller_id: str
    name: str
    address: str
    seat_count: int
    grades: list[str]
    created_at: datetime
    sections: list[VenueSectionRead]


# Events


class GradeIn(Strict):
    code: GradeCode
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None
    price: Price


class QueueIn(Strict):
    enabled: bool = False
    admit_per_second: float = Field(default=50.0, gt=0, le=100_000)
    max_active: int = Field(default=1000, ge=1, le=1_000_000)
    pre_queue_minutes: int = Field(default=0, ge=0, le=24 * 60)
    paused: bool = False  # admit nobody for now (the dispatcher reads it on its next tick)


class FeeTier(Strict):
    days_before: int = Field(ge=0, le=365)
    fee_percent: int = Field(ge=0, le=100)


class CancellationIn(Strict):
    free_days_after_booking: int = Field(default=7, ge=0, le=365)
    fixed_fee: Price = 4000
    cutoff_hours_before_show: int = Field(default=24, ge=0, le=24 * 60)
    tiers: list[FeeTier] = Field(
        default_factory=lambda: [
            FeeTier(days_before=9, fee_percent=10),
            FeeTier(days_before=6, fee_percent=20),
            FeeTier(days_before=2, fee_percent=30),
        ],
        max_length=20,
    )


class EventCreate(Strict):
    title: Title
    description: Annotated[str, StringConstraints(max_length=20_000)] = ""
    category: Annotated[str, StringConstraints(max_length=32)]
    venue_id: Annotated[str, StringConstraints(max_length=36)]
    grades: list[GradeIn] = Field(min_length=1, max_length=50)
    sale_opens_at: AwareDatetime
    sale_closes_at: AwareDatetime
    max_tickets_per_user: int = Field(default=4, ge=1, le=100)
    purchase_limit_scope: LimitScope = "show"
    hold_minutes: int = Field(default=7, ge=1, le=60)
    transfers_allowed: bool = True  # holders may give tickets away (docs/tickets.md)
    transfer_cutoff_hours: int = Field(default=0, ge=0, le=24 * 365)  # closed before a show
    requires_verified_email: bool = False  # buyers need a verified e-mail to place an order
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = "KRW"
    queue: QueueIn = Field(default_factory=QueueIn)
    cancellation: CancellationIn = Field(default_factory=CancellationIn)


class EventUpdate(Strict):
    """Fields to change; grades and venue only while the event is a draft without shows."""

    title: Title | None = None
    description: Annotated[str, StringConstraints(max_length=20_000)] | None = None
    category: Annotated[str, StringConstraints(max_length=32)] | None = None
    venue_id: Annotated[str, StringConstraints(max_length=36)] | None = None
    grades: list[GradeIn] | None = Field(default=None, min_length=1, max_length=50)
    sale_opens_at: AwareDatetime | None = None
    sale_closes_at: AwareDatetime | None = None
    max_tickets_per_user: int | None = Field(default=None, ge=1, le=100)
    purchase_limit_scope: LimitScope | None = None
    hold_minutes: int | None = Field(default=None, ge=1, le=60)
    transfers_allowed: bool | None = None
    transfer_cutoff_hours: int | None = Field(default=None, ge=0, le=8760)
    requires_verified_email: bool | None = None
    queue: QueueIn | None = None
    cancellation: CancellationIn | None = None


class ShowReschedule(Strict):
    starts_at: AwareDatetime
    refund_days: int = Field(default=7, ge=1, le=60, description="fee-free cancellation")


class EventCancel(Strict):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] = ""


class ShowCreate(Strict):
    starts_at: AwareDatetime


class GradeRead(BaseModel):
    code: str
    name: str
    price: int


class ShowRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    event_id: str
    starts_at: datetime
    status: str
    seat_count: int


class ImageRead(BaseModel):
    id: str
    kind: str
    url: str
    thumbnail_url: str
    content_type: str
    width: int
    height: int


class VenueBrief(BaseModel):
    id: str
    name: str
    address: str


class QueueRead(BaseModel):
    enabled: bool
    admit_per_second: float
    max_active: int
    pre_queue_minutes: int
    paused: bool = False


class CancellationRead(BaseModel):
    free_days_after_booking: int
    fixed_fee: int
    cutoff_hours_before_show: int
    tiers: list[FeeTier]


class EventRead(BaseModel):
    id: str
    seller_id: str
    title: str
    description: str
    category: str
    status: Literal["draft", "published", "cancelled"]
    currency: str
    venue: VenueBrief
    sale_opens_at: datetime
    sale_closes_at: datetime
    max_tickets_per_user: int
    purchase_limit_scope: LimitScope = "show"
    hold_minutes: int
    transfers_allowed: bool = True
    transfer_cutoff_hours: int = 0
    requires_verified_email: bool = False
    queue: QueueRead
    cancellation: CancellationRead
    grades: list[GradeRead]
    shows: list[ShowRead]
    images: list[ImageRead]
    poster_url: str | None = None
    view_count: int
    cancel_reason: str | None = None
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None = None
    cancelled_at: datetime | None = None


class EventCard(BaseModel):
    """One event in a listing."""

    id: str
    title: str
    category: str
    status: str
    currency: str
    venue: VenueBrief
    first_starts_at: datetime | None
    last_starts_at: datetime | None
    sale_opens_at: datetime
    sale_closes_at: datetime
    min_price: int | None
    poster_url: str | None = None
    thumbnail_url: str | None = None


class EventPage(BaseModel):
    items: list[EventCard]
    next_cursor: str | None = None


class ShowDetail(ShowRead):
    """A show with what a buyer needs of its event."""

    event_title: str
    event_status: str
    venue: VenueBrief
    sale_opens_at: datetime
    sale_closes_at: datetime
    max_tickets_per_user: int
    purchase_limit_scope: LimitScope = "show"
    hold_minutes: int
    currency: str
    queue: QueueRead
    grades: list[GradeRead]


class ImageCreated(ImageRead):
    pass


# Categories


class CategoryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    position: int
    active: bool


class CategoryCreate(Strict):
    code: CategoryCode
    name: Name
    position: int = Field(default=0, ge=0, le=100_000)


class CategoryUpdate(Strict):
    name: Name | None = None
    position: int | None = Field(default=None, ge=0, le=100_000)
    active: bool | None = None


class ListingQuery(BaseModel):
    q: SearchText | None = None
    category: Annotated[str, StringConstraints(max_length=32)] | None = None
    starts_from: AwareDatetime | None = None
    starts_to: AwareDatetime | None = None
    cursor: Annotated[str, StringConstraints(max_length=200)] | None = None
    limit: int = Field(default=20, ge=1, le=100)


class SellerEventRead(BaseModel):
    """One of the seller's own events, in any state (``GET /seller/events``)."""

    id: str
    seller_id: str
    title: str
    category: str
    status: Literal["draft", "published", "cancelled"]
    currency: str
    venue_id: str
    first_starts_at: datetime | None
    last_starts_at: datetime | None
    sale_opens_at: datetime
    sale_closes_at: datetime
    show_count: int
    created_at: datetime
    updated_at: datetime


class SellerEventPage(BaseModel):
    items: list[SellerEventRead]
    next_cursor: str | None = None


class SellerEventQuery(BaseModel):
    q: SearchText | None = None
    status: Literal["draft", "published", "cancelled"] | None = None
    cursor: Annotated[str, StringConstraints(max_length=64)] | None = None
    limit: int = Field(default=20, ge=1, le=100)
