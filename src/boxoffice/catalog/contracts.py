"""What other contexts may know of the catalog (plain data; no tables, no ORM), and the
ports catalog asks other contexts to fill.

``catalog.service.show_sale_info(uow, show_id)`` returns :class:`ShowSaleInfo`; waitroom,
seating, orders and merch read sale windows, limits, prices and queue settings from it.
A show's seats are the venue's (:class:`SeatSpec`); whoever sells them (seating) provides
:class:`ShowInventory`, which catalog calls inside the transaction that creates the show.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from boxoffice.catalog.errors import SaleNotOpen as SaleNotOpen
from boxoffice.catalog.errors import ShowNotFound as ShowNotFound
from boxoffice.platform.uow import UnitOfWork

# A standing (general admission) area's places are seats of a row with this label, which
# no numbered row may use (docs/selling.md): sold by quantity, never chosen by id.
STANDING_ROW = "~"


@dataclass(frozen=True)
class SeatSpec:
    """One seat of a venue's map, as a show's inventory is made from it."""

    seat_id: str
    section: str
    row: str
    number: str
    grade: str
    x: float | None = None
    y: float | None = None


CreateInventory = Callable[[UnitOfWork, str, str, Sequence[SeatSpec]], Awaitable[int]]


@dataclass(frozen=True)
class ShowInventory:
    """The port catalog calls when a show is created: ``create(uow, show_id, event_id,
    seats)`` makes the show's sellable seats in the caller's transaction (no commit) and
    returns how many. Provided at start-up by the context that sells seats."""

    create: CreateInventory


@dataclass(frozen=True)
class QueueSettings:
    enabled: bool = False
    admit_per_second: float = 50.0
    max_active: int = 1000
    # Joiners before the sale opens are shuffled at opening (fair pre-queue) when allowed.
    pre_queue_minutes: int = 0
    # The seller stopped admitting for now (the line keeps its order; joining still works).
    paused: bool = False


@dataclass(frozen=True)
class CancellationPolicy:
    """Refund rules in force for an event (see orders' fee function)."""

    free_days_after_booking: int = 7
    fixed_fee: int = 4000
    cutoff_hours_before_show: int = 24
    # (days before the show, fee percent); e.g. ((9, 10), (6, 20), (2, 30)).
    tiers: tuple[tuple[int, int], ...] = ((9, 10), (6, 20), (2, 30))


@dataclass(frozen=True)
class ShowSaleInfo:
    show_id: str
    event_id: str
    seller_id: str
    title: str
    event_status: str  # draft | published | cancelled
    show_status: str  # scheduled | cancelled
    starts_at: datetime
    sale_opens_at: datetime
    sale_closes_at: datetime
    max_tickets_per_user: int
    hold_minutes: int
    currency: str
    grade_prices: dict[str, int] = field(default_factory=dict)  # grade code -> minor units
    queue: QueueSettings = field(default_factory=QueueSettings)
    cancellation: CancellationPolicy = field(default_factory=CancellationPolicy)
    # "show": max_tickets_per_user counts per show; "event": across the event's shows.
    limit_scope: str = "show"
    # Ticket transfers: allowed by the event's seller, and until so many hours before the show.
    transfers_allowed: bool = True
    transfer_cutoff_hours: int = 0
    requires_verified_email: bool = False  # to place an order
    free_refund_until: datetime | None = None  # the show was moved: no fee until then

    def sale_open_at(self, moment: datetime) -> bool:
        return (
            self.event_status == "published"
            and self.show_status == "scheduled"
            and self.sale_opens_at <= moment < self.sale_closes_at
        )


@dataclass(frozen=True)
class TicketTypeInfo:
    """One price of one grade, as a sale prices a seat from it (``docs/selling.md``)."""

    id: str
    event_id: str
    grade: str
    name: str
    price: int
    available_from: datetime | None = None
    available_until: datetime | None = None
    quantity_cap: int | None = None  # seats of this type per show; None: no cap
    eligibility_note: str | None = None
    hidden: bool = False
    active: bool = True

    def on_sale_at(self, moment: datetime) -> bool:
        return (
            self.active
            and (self.available_from is None or self.available_from <= moment)
            and (self.available_until is None or moment < self.available_until)
        )


@dataclass(frozen=True)
class EventSummary:
    """Who owns an event and its state (merch checks ownership and currency with it)."""

    id: str
    seller_id: str
    title: str
    status: str  # draft | published | cancelled
    currency: str
    venue_id: str = ""

    @property
    def event_id(self) -> str:
        return self.id
