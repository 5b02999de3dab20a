"""The sold-out waitlist's rules in plain Python (``docs/selling.md``).

Seats that come back are offered in the order fans joined: the earliest waiting fan whose
wish (a grade, or any seat) a free seat fits gets it, one seat per fan at a time, and the
seats go in map order. Nobody holds two offers at once: an offered entry waits no more.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class EntryStatus(StrEnum):
    WAITING = "waiting"  # in line for a seat
    OFFERED = "offered"  # holds a seat until the offer's expiry, to pay for
    BOUGHT = "bought"  # paid for the offered seat
    MISSED = "missed"  # let the offer lapse (or it was released)
    LEFT = "left"  # gave the place up


@dataclass(frozen=True)
class Waiting:
    entry_id: str
    user_id: str
    grade: str | None  # None: any seat
    joined_at: datetime


@dataclass(frozen=True)
class FreeSeat:
    seat_id: str
    grade: str


@dataclass(frozen=True)
class Offer:
    entry: Waiting
    seat: FreeSeat


def in_join_order(entries: Sequence[Waiting]) -> list[Waiting]:
    """Earliest first; the entry id (time-ordered) breaks a tie."""
    return sorted(entries, key=lambda e: (e.joined_at, e.entry_id))


def offers(free: Sequence[FreeSeat], waiting: Sequence[Waiting]) -> list[Offer]:
    """Pair free seats (in map order) with waiting entries (in join order): each seat goes
    to the earliest entry it fits that has no seat yet; a seat nobody wants stays free."""
    line = in_join_order(waiting)
    taken: set[str] = set()
    paired = []
    for seat in free:
        for entry in line:
            if entry.entry_id not in taken and entry.grade in (None, seat.grade):
                taken.add(entry.entry_id)
                paired.append(Offer(entry, seat))
                break
    return paired


def after_offer(hold_status: str, hold_expires_at: datetime, now: datetime) -> EntryStatus:
    """What an offered entry has become, from its hold: sold → bought; still active and
    not expired → still offered; anything else → missed."""
    if hold_status == "sold":
        return EntryStatus.BOUGHT
    if hold_status == "active" and hold_expires_at > now:
        return EntryStatus.OFFERED
    return EntryStatus.MISSED
