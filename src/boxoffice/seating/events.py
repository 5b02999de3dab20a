"""Events seating publishes (written to the outbox in the transaction that caused them)."""

from __future__ import annotations

from dataclasses import dataclass

from boxoffice.platform.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class HoldEvent(DomainEvent):
    """What happened to one hold's seats: the hold is the aggregate."""

    hold_id: str
    show_id: str
    user_id: str
    seat_ids: list[str]

    @property
    def aggregate_id(self) -> str:
        return self.hold_id


@dataclass(frozen=True, kw_only=True)
class SeatsHeld(HoldEvent):
    context, name = "seating", "SeatsHeld"


@dataclass(frozen=True, kw_only=True)
class HoldReleased(HoldEvent):
    context, name = "seating", "HoldReleased"
    reason: str


@dataclass(frozen=True, kw_only=True)
class HoldExpired(HoldEvent):
    context, name = "seating", "HoldExpired"


@dataclass(frozen=True, kw_only=True)
class WaitlistSeatOffered(DomainEvent):
    """A seat that came back is held for a fan of the waitlist until ``expires_at``."""

    context, name = "seating", "WaitlistSeatOffered"
    entry_id: str
    hold_id: str
    show_id: str
    user_id: str
    seat_id: str
    amount: int
    currency: str
    expires_at: str  # RFC 3339

    @property
    def aggregate_id(self) -> str:
        return self.entry_id
