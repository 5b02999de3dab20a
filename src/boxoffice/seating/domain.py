"""Seating's rules in plain Python: what a seat's status is at a moment, what a hold asks for.

No database, no Redis, no HTTP here, so the rules are unit-tested in microseconds.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

AVAILABLE, HELD, SOLD = "available", "held", "sold"
BLOCKED = "blocked"  # held back by the seller (box office), never claimable
# Board mark states: pending (claim in flight), held (committed hold), sold.
PENDING_MARK, HELD_MARK, SOLD_MARK = "p", "h", "s"
# A pending mark outlives a claim's transaction by far, and dies soon if the process does.
PENDING_MARK_SECONDS = 15
DEFAULT_HOLD_MINUTES = 7
MAX_SEATS_PER_HOLD = 50


class InvalidSeatRequest(ValueError):
    """The requested seat list is empty or too long."""


@dataclass(frozen=True)
class Mark:
    """A board entry for one seat: who has it (hold or order id), in which state, until when
    (milliseconds since the epoch; 0 for sold seats, which never expire)."""

    state: str
    owner: str
    deadline_ms: int

    def encode(self) -> str:
        return f"{self.state}|{self.owner}|{self.deadline_ms}"

    @classmethod
    def decode(cls, value: str) -> Mark:
        state, owner, deadline = value.split("|")
        return cls(state, owner, int(deadline))

    def taken_at(self, now_ms: int) -> bool:
        return self.state == SOLD_MARK or self.deadline_ms > now_ms


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def requested_seats(seat_ids: Sequence[str], *, max_seats: int = MAX_SEATS_PER_HOLD) -> list[str]:
    """The distinct seat ids of a hold request, in the order asked."""
    distinct = list(dict.fromkeys(seat_ids))
    if not distinct:
        raise InvalidSeatRequest("Ask for at least one seat.")
    if len(distinct) > max_seats:
        raise InvalidSeatRequest(f"A hold takes at most {max_seats} seats.")
    return distinct


def hold_expiry(now: datetime, hold_minutes: int | None) -> datetime:
    minutes = hold_minutes if hold_minutes and hold_minutes > 0 else DEFAULT_HOLD_MINUTES
    return now + timedelta(minutes=minutes)


def within_limit(owned: int, requested: int, limit: int) -> bool:
    """A user may own (active holds + bought seats) at most ``limit`` seats of a show."""
    return limit <= 0 or owned + requested <= limit


def seat_status(status: str, hold_expires_at: datetime | None, now: datetime) -> str:
    """A seat's visible status: a hold past its expiry no longer keeps the seat."""
    if status == HELD and (hold_expires_at is None or hold_expires_at <= now):
        return AVAILABLE
    return status


def mark_status(mark: Mark | None, now_ms: int) -> str:
    if mark is None:
        return AVAILABLE
    if mark.state == SOLD_MARK:
        return SOLD
    return HELD if mark.deadline_ms > now_ms else AVAILABLE


@dataclass(frozen=True)
class BoardView:
    """One version of a show's board, ready to answer "what is each seat now"."""

    version: int
    marks: Mapping[str, Mark]
    deadlines: tuple[int, ...]  # sorted deadlines of the expiring (pending/held) marks

    @classmethod
    def build(cls, version: int, marks: Mapping[str, Mark]) -> BoardView:
        deadlines = sorted(m.deadline_ms for m in marks.values() if m.state != SOLD_MARK)
        return cls(version, dict(marks), tuple(deadlines))

    def expired_count(self, now_ms: int) -> int:
        return bisect_right(self.deadlines, now_ms)

    def etag(self, now_ms: int, salt: str) -> str:
        """Changes whenever any visible status changes: on each board update (version) and
        each time one more hold passes its expiry."""
        return f'"{salt}-{self.version}-{self.expired_count(now_ms)}"'

    def status_of(self, seat_id: str, now_ms: int) -> str:
        return mark_status(self.marks.get(seat_id), now_ms)


def unknown_seats(requested: Iterable[str], known: Mapping[str, object]) -> list[str]:
    return [seat_id for seat_id in requested if seat_id not in known]
