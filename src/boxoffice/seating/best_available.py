"""Seats the shop chooses: "the best N seats side by side" (``best_available`` in the hold).

In a sale's first minutes a fan's seat map is seconds behind the board, so seats picked on
it are often gone: each refusal costs the fan a round trip and the shop a request, and a
fan refused often enough gives up while seats are left (``docs/seating.md``, "When the
seats are taken"). A fan who asks for a number of seats instead (of a grade, in a section,
or anywhere) lets the shop choose from its own copy of the board, at most
``VIEW_WITHIN_SECONDS`` old, and hold them in the same request.

Which seats: runs of ``quantity`` free seats next to each other in one row, all of one
grade; sections in map order, rows front first, within a row the run nearest its middle.
A request alone gets the best run. Concurrent requests would all choose that one run,
so where this process chose seats a moment ago, or a choice was just refused, a request
takes one of the runs of the best row among the ``SPREAD`` best at random, and seats this
process chose a moment ago for another request are left out. The hold itself is the usual
one (the board marks, the database judges); when it is refused the seats it names are left
out and the shop chooses again, up to ``ATTEMPTS`` times.
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace

from boxoffice.catalog.contracts import STANDING_ROW, ShowSaleInfo
from boxoffice.platform.runtime import Runtime
from boxoffice.seating import holds, suggestions
from boxoffice.seating.adapters import seating_of
from boxoffice.seating.code_rules import CodeInfo
from boxoffice.seating.contracts import HeldSeats
from boxoffice.seating.domain import epoch_ms
from boxoffice.seating.errors import SeatUnavailable, UnknownSeats
from boxoffice.seating.layout import Layout
from boxoffice.seating.snapshot import FreeSeats

SPREAD = 8  # the best runs one choice is made among
ATTEMPTS = 3  # choices per request: a refused one is followed by another
# How recent this process's view of the board must be to choose from it without reading
# the board again (a read is all of a show's marks: in a sale the board changes every
# moment, and each request reading it cost more than its hold).
VIEW_WITHIN_SECONDS = 0.5


@dataclass(frozen=True)
class Wanted:
    """What the fan asked the shop to choose: how many seats, of which grade and in which
    section (None: any)."""

    quantity: int
    grade: str | None = None
    section: str | None = None

    def where(self) -> str:
        grade = f" of grade {self.grade}" if self.grade else ""
        return grade + (f" in section {self.section}" if self.section else "")


def check(layout: Layout, wanted: Wanted) -> None:
    """``UnknownSeats`` (422) for a grade or section the show's map does not have."""
    if wanted.grade is not None and wanted.grade not in layout.grades:
        raise UnknownSeats(f"This show has no seats of grade {wanted.grade}.", errors=_at("grade"))
    if wanted.section is not None and not layout.rows(wanted.section):
        raise UnknownSeats(f"This show has no section {wanted.section}.", errors=_at("section"))


def _at(name: str) -> list[dict[str, object]]:
    return [{"loc": ["body", "best_available", name], "msg": f"unknown {name}"}]


def best_runs(
    layout: Layout, free: FreeSeats, wanted: Wanted, left_out: AbstractSet[str]
) -> list[list[str]]:
    """Up to ``SPREAD`` runs of ``wanted.quantity`` free seats side by side, best first (see
    the module's docstring), none of them in ``left_out``. Rows without that many free
    seats are passed over unread, so a nearly full show costs little more than an empty one."""
    found: list[list[str]] = []
    size, taken = wanted.quantity, free.taken
    first_row = layout.row_numbers[1]
    for section in [wanted.section] if wanted.section else layout.sections():
        for row_at, row in enumerate(layout.rows(section), start=first_row[section]):
            if len(row) - free.taken_in_row[row_at] < size:
                continue
            if row[0].row == STANDING_ROW:  # standing places go by quantity, not by seat
                continue
            middle, at = (len(row) - 1) / 2, 0
            for grade, group in itertools.groupby(row, key=lambda seat: seat.grade):
                seats = list(group)
                if wanted.grade is None or grade == wanted.grade:
                    flags = [s.seat_id not in taken and s.seat_id not in left_out for s in seats]
                    for start in suggestions.free_runs(flags, size, middle - at):
                        found.append([seat.seat_id for seat in seats[start : start + size]])
                        if len(found) == SPREAD:
                            return found
                at += len(seats)
    return found


def choose_runs(
    layout: Layout, free: FreeSeats, wanted: Wanted, left_out: AbstractSet[str]
) -> list[list[str]]:
    """:func:`best_runs`, from the list ``free`` kept of every run a request found in this
    view when it found fewer than ``SPREAD`` (with none left out; the seats left out now are
    taken from that list); kept there when that is so now."""
    listed = free.runs.get(wanted)
    if listed is not None:
        return [run for run in listed if left_out.isdisjoint(run)]
    runs = best_runs(layout, free, wanted, left_out)
    if len(runs) < SPREAD and not left_out:
        free.runs[wanted] = runs
    return runs


def pick(layout: Layout, runs: list[list[str]], *, crowded: bool) -> list[str]:
    """The best run for a fan alone (``crowded`` False); in a crowd, one of the runs in the
    best row at random, so that fans choosing at the same moment are spread along it
    instead of all sent to its middle."""
    if not crowded:
        return runs[0]
    best_row = layout.row_numbers[0][runs[0][0]]
    in_row = [run for run in runs if layout.row_numbers[0][run[0]] == best_row]
    return in_row[random.randrange(len(in_row))]  # noqa: S311 - spreading, not a secret


@dataclass(frozen=True)
class Chooser:
    """One best-available hold request, its show and buyer resolved."""

    info: ShowSaleInfo
    layout: Layout
    user_id: str
    wanted: Wanted
    code: CodeInfo | None = None

    async def hold(self, runtime: Runtime, refresh: holds.Refresh) -> HeldSeats:
        """Choose seats and hold them (see the module's docstring). Raises ``UnknownSeats``
        (422) for a grade or section the map does not have, ``SeatUnavailable`` (409, no
        ``seat_ids``) when no run is free or every choice was taken first, and otherwise
        what :func:`holds.hold` raises."""
        check(self.layout, self.wanted)
        adapters = seating_of(runtime)
        show_id, wanted = self.info.show_id, self.wanted
        refused: set[str] = set()
        for _attempt in range(ATTEMPTS):
            view = await adapters.snapshots.recent_view(show_id, VIEW_WITHIN_SECONDS)
            choices, moment = adapters.snapshots.choices, time.monotonic()
            left_out = refused | choices.recent(show_id, moment)
            free = choices.free_seats(self.layout, view, epoch_ms(runtime.clock.now()))
            runs = choose_runs(self.layout, free, wanted, left_out)
            if not runs:
                break
            # Others choosing too: this process chose for them a moment ago, or they
            # took what this request chose.
            seats = pick(self.layout, runs, crowded=bool(left_out))
            choices.add(show_id, seats, moment)
            request = holds.attempt(self.info, self.layout, self.user_id, seats)
            try:
                return await holds.hold(runtime, replace(request, code=self.code), refresh)
            except SeatUnavailable as error:
                refused.update(error.extra.get("seat_ids") or seats)
        raise SeatUnavailable(
            f"No {wanted.quantity} seats side by side are free{wanted.where()} now.",
            seat_ids=[],
            suggested_seat_ids=[],
        )
