"""A hold's life as plain rules: its states, and what each change is allowed to do.

::

    active ──(order attached, still active)──> active ──(paid)──> sold
       │  └─(expiry passes)─> expired* ──(swept)──> expired
       └─(released: by the buyer, an admin, or the order failing)──> released

    * an active hold past its expiry shows as ``expired`` before any sweeper runs; its
      order may still be paid while nobody took its seats (the hold is revived, within
      the buyer's per-show limit).

No database here: :mod:`boxoffice.seating.selling` applies these decisions with
conditional statements (whose ``WHERE`` is the same rule, so the database has the last
word when two requests race), and these functions explain a statement that matched no
row. Unit-tested without I/O.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from boxoffice.platform.errors import Conflict
from boxoffice.seating.contracts import HeldSeat
from boxoffice.seating.errors import HoldLapsed, HoldNotFound


class HoldStatus(StrEnum):
    ACTIVE = "active"
    RELEASED = "released"
    EXPIRED = "expired"
    SOLD = "sold"


@dataclass(frozen=True)
class HoldState:
    """What the rules need to know of a hold."""

    hold_id: str
    show_id: str
    user_id: str
    status: HoldStatus
    expires_at: datetime
    order_id: str | None

    def visible_status(self, now: datetime) -> HoldStatus:
        """An active hold past its expiry is ``expired`` before any sweeper runs."""
        if self.status is HoldStatus.ACTIVE and self.expires_at <= now:
            return HoldStatus.EXPIRED
        return self.status


def attach(
    hold_id: str, hold: HoldState | None, *, user_id: str, order_id: str, now: datetime
) -> bool:
    """May ``order_id`` take the hold now? True: attach it; False: it already has it.

    Raises ``HoldNotFound`` (unknown, or another user's), ``HoldLapsed`` (expired or
    released), ``Conflict`` (sold, or attached to another order)."""
    if hold is None or hold.user_id != user_id:
        raise HoldNotFound(f"Hold {hold_id} not found.")
    status = hold.visible_status(now)
    if status is HoldStatus.SOLD:
        if hold.order_id == order_id:
            return False
        raise Conflict("This hold already became an order.")
    if status is not HoldStatus.ACTIVE:
        raise HoldLapsed(f"Hold {hold.hold_id} is {status.value}; choose seats again.")
    if hold.order_id == order_id:
        return False
    if hold.order_id is not None:
        raise Conflict("This hold is already attached to another order.")
    return True


def sell(hold_id: str, hold: HoldState | None, *, order_id: str) -> bool:
    """May the hold's seats be sold to ``order_id``? True: sell them (the hold is active
    or lapsed, never given to another order); False: already sold to this order.

    Raises ``HoldNotFound``, ``Conflict`` (sold or attached to another order),
    ``HoldLapsed`` (released: its seats went back for good)."""
    if hold is None:
        raise HoldNotFound(f"Hold {hold_id} not found.")
    if hold.status is HoldStatus.SOLD:
        if hold.order_id == order_id:
            return False
        raise Conflict("This hold was sold to another order.")
    if hold.order_id not in (None, order_id):
        raise Conflict("This hold is attached to another order.")
    if hold.status not in (HoldStatus.ACTIVE, HoldStatus.EXPIRED):
        raise HoldLapsed(f"Hold {hold.hold_id} was {hold.status.value}; its seats are gone.")
    return True


def lapsed(hold: HoldState, now: datetime) -> bool:
    """Selling a lapsed hold revives it: its seats may have gone to someone else, and the
    buyer's per-show limit must be checked again (they may have bought since)."""
    return hold.visible_status(now) is HoldStatus.EXPIRED


def expirable(hold: HoldState, now: datetime) -> bool:
    """The sweeper ends an active hold whose expiry has passed."""
    return hold.status is HoldStatus.ACTIVE and hold.expires_at <= now


def releasable(hold: HoldState) -> bool:
    """Only an active hold gives its seats back when released."""
    return hold.status is HoldStatus.ACTIVE


# --- a hold's seats as it keeps them ---------------------------------------------------------


def encode_seats(seats: tuple[HeldSeat, ...]) -> str:
    """The seats as the hold keeps them (compact JSON: the order and tickets are made
    from this, at the price the buyer was shown); a typed seat adds its type's id and name."""
    return json.dumps([_encoded(s) for s in seats], separators=(",", ":"))


def _encoded(s: HeldSeat) -> list[object]:
    place: list[object] = [s.seat_id, s.section, s.row, s.number, s.grade, s.price]
    if s.ticket_type_id is not None:
        place += [s.ticket_type_id, s.ticket_type_name]
    return place


def decode_seats(raw: str) -> tuple[HeldSeat, ...]:
    return tuple(_decoded(place) for place in json.loads(raw))


def _decoded(place: list[Any]) -> HeldSeat:
    seat_id, section, row, number, grade, price, *typed = place
    type_id, type_name = typed if typed else (None, None)
    return HeldSeat(seat_id, section, row, number, grade, int(price), type_id, type_name)
