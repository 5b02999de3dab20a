"""catalog's rules in plain Python: seat maps, the event lifecycle, sale windows."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from boxoffice.catalog.contracts import CancellationPolicy, QueueSettings

MAX_VENUE_SEATS = 200_000

# The managed list the first migration seeds (code, name, position); admins edit it later.
DEFAULT_CATEGORIES = (
    ("concert", "Concert", 10),
    ("musical", "Musical", 20),
    ("theatre", "Theatre", 30),
    ("classical", "Classical", 40),
    ("sports", "Sports", 50),
    ("exhibition", "Exhibition", 60),
    ("family", "Family", 70),
    ("festival", "Festival", 80),
)


class EventStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"


class ShowStatus(StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class SeatPlan:
    number: str
    x: float | None = None
    y: float | None = None
    grade: str | None = None  # overrides the row's grade


@dataclass(frozen=True)
class RowPlan:
    """One row as described (``seats: N`` becomes numbers 1..N)."""

    label: str
    seats: tuple[SeatPlan, ...]
    grade: str | None = None  # overrides the section's grade for this row


@dataclass(frozen=True)
class SectionPlan:
    name: str
    grade: str
    rows: tuple[RowPlan, ...]


@dataclass(frozen=True)
class PlannedSeat:
    section: str
    row: str
    number: str
    grade: str
    x: float | None
    y: float | None


@dataclass(frozen=True)
class Problem:
    loc: tuple[str | int, ...]
    msg: str


def seat_map_problems(sections: Sequence[SectionPlan]) -> list[Problem]:
    """Every reason this seat map cannot be built (empty when it can)."""
    problems: list[Problem] = []
    total = sum(len(row.seats) for section in sections for row in section.rows)
    if total > MAX_VENUE_SEATS:
        problems.append(
            Problem(("sections",), f"a venue has at most {MAX_VENUE_SEATS} seats, not {total}")
        )
        return problems  # no point listing duplicates in a map that is refused anyway
    if total == 0:
        problems.append(Problem(("sections",), "a venue needs at least one seat"))
    seen_sections: set[str] = set()
    for s_index, section in enumerate(sections):
        if section.name in seen_sections:
            problems.append(
                Problem(("sections", s_index, "name"), f"duplicate section {section.name!r}")
            )
        seen_sections.add(section.name)
        seen_rows: set[str] = set()
        for r_index, row in enumerate(section.rows):
            loc = ("sections", s_index, "rows", r_index)
            if row.label in seen_rows:
                problems.append(
                    Problem((*loc, "label"), f"duplicate row {row.label!r} in {section.name!r}")
                )
            seen_rows.add(row.label)
            duplicates = _duplicates(seat.number for seat in row.seats)
            if duplicates:
                shown = ", ".join(duplicates[:5])
                problems.append(
                    Problem((*loc, "seats"), f"duplicate seat numbers in row {row.label}: {shown}")
                )
    return problems


def _duplicates(values: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    repeated: list[str] = []
    for value in values:
        if value in seen and value not in repeated:
            repeated.append(value)
        seen.add(value)
    return repeated


def expand_seats(sections: Sequence[SectionPlan]) -> list[PlannedSeat]:
    """The seats of a (valid) map in drawing order: sections, rows, numbers as given."""
    seats: list[PlannedSeat] = []
    for section in sections:
        for row in section.rows:
            row_grade = row.grade or section.grade
            for seat in row.seats:
                grade = seat.grade or row_grade
                seats.append(
                    PlannedSeat(section.name, row.label, seat.number, grade, seat.x, seat.y)
                )
    return seats


def grade_problems(venue_grades: set[str], priced: Sequence[str]) -> list[Problem]:
    """Every grade of the venue needs a price; no price for a grade the venue lacks."""
    problems: list[Problem] = []
    for index, code in enumerate(priced):
        if code not in venue_grades:
            problems.append(
                Problem(("grades", index, "code"), f"the venue has no seats of grade {code!r}")
            )
    missing = sorted(venue_grades - set(priced))
    if missing:
        problems.append(Problem(("grades",), f"no price for grade(s): {', '.join(missing)}"))
    duplicates = _duplicates(priced)
    if duplicates:
        problems.append(Problem(("grades",), f"duplicate grade(s): {', '.join(duplicates)}"))
    return problems


def sale_window_problems(opens: datetime, closes: datetime) -> list[Problem]:
    if opens >= closes:
        return [Problem(("sale_closes_at",), "sale_closes_at must be after sale_opens_at")]
    return []


def can_edit(status: str) -> bool:
    return status != EventStatus.CANCELLED


def can_publish(status: str) -> bool:
    return status == EventStatus.DRAFT


def can_cancel(status: str) -> bool:
    return status in (EventStatus.DRAFT, EventStatus.PUBLISHED)


def policy_to_json(policy: CancellationPolicy) -> str:
    return json.dumps(
        {
            "free_days_after_booking": policy.free_days_after_booking,
            "fixed_fee": policy.fixed_fee,
            "cutoff_hours_before_show": policy.cutoff_hours_before_show,
            "tiers": [list(tier) for tier in policy.tiers],
        },
        separators=(",", ":"),
    )


QUEUE_FIELDS = tuple(f.name for f in dataclasses.fields(QueueSettings))


def queue_of(event: Any) -> QueueSettings:
    """The event's waiting-room settings, from its ``queue_*`` columns (a row or the ORM)."""
    return QueueSettings(**{name: getattr(event, f"queue_{name}") for name in QUEUE_FIELDS})


def policy_from_json(raw: str) -> CancellationPolicy:
    data = json.loads(raw)
    return CancellationPolicy(
        free_days_after_booking=int(data["free_days_after_booking"]),
        fixed_fee=int(data["fixed_fee"]),
        cutoff_hours_before_show=int(data["cutoff_hours_before_show"]),
        tiers=tuple((int(days), int(percent)) for days, percent in data["tiers"]),
    )


def tier_problems(tiers: Sequence[tuple[int, int]]) -> list[Problem]:
    """Fee tiers: days strictly decreasing, fees in 0..100 and not decreasing as the show nears."""
    problems: list[Problem] = []
    for index in range(1, len(tiers)):
        (prev_days, prev_fee), (days, fee) = tiers[index - 1], tiers[index]
        if days >= prev_days:
            problems.append(
                Problem(("cancellation", "tiers", index), "days must decrease tier by tier")
            )
        if fee < prev_fee:
            problems.append(
                Problem(("cancellation", "tiers", index), "fees must not fall nearer the show")
            )
    return problems
