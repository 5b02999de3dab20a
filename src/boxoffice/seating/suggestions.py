"""Seats to offer when a hold is refused: as many free seats side by side as were asked
for, of the same grade, in the same section, one of the runs nearest the seats asked for.

In a flash sale a fan's seat map is seconds behind the board, so the seats they pick are
often gone; a fan told only "taken" picks again from the same stale map, and after a few
refusals gives up while seats are left. The refusal therefore names seats that were free
a moment ago, from this process's own copy of the board (``docs/seating.md``, "When the
seats are taken"). They are an offer, not a hold: the fan holds them like any others, and
the board and the database judge that hold as usual.

Pure but for the refusal's random pick and what :func:`offer` remembers of a view: the
layout, the board's view and the seats just refused in, the seat ids out.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Sequence
from datetime import datetime

from boxoffice.catalog.contracts import STANDING_ROW
from boxoffice.seating.domain import AVAILABLE, epoch_ms
from boxoffice.seating.errors import SeatUnavailable
from boxoffice.seating.layout import SeatPlace
from boxoffice.seating.snapshot import RecentBoard, SnapshotCache

SPREAD = 4  # the nearest runs an offer is chosen among
# How recent this process's copy of the board must be to offer seats with a refusal.
SUGGEST_WITHIN_SECONDS = 1.0


def refusal(
    snapshots: SnapshotCache, show_id: str, wanted: list[str], taken: list[str], now: datetime
) -> SeatUnavailable:
    """The 409 naming the seats ``taken`` and offering as many free seats side by side
    (``suggested_seat_ids``: one of the nearest runs at random, so that buyers refused
    together are not all sent to one run) from this process's copy of the board, when it
    was current within ``SUGGEST_WITHIN_SECONDS``; none otherwise, since a refusal spends
    no round trip on the offer."""
    recent = snapshots.recent(show_id, SUGGEST_WITHIN_SECONDS)
    pick = random.randrange(SPREAD)  # noqa: S311 - spreading, not a secret
    found = [] if recent is None else offer(recent, wanted, set(taken), epoch_ms(now), pick=pick)
    return SeatUnavailable("Some seats were just taken.", seat_ids=taken, suggested_seat_ids=found)


def offer(
    recent: RecentBoard,
    wanted: Sequence[str],
    taken: Collection[str],
    now_ms: int,
    *,
    pick: int = 0,
) -> list[str]:
    """``len(wanted)`` free seats next to each other in one row, of the grade of the first
    seat asked for, in its section. The candidates are the ``SPREAD`` nearest such runs
    that do not overlap: rows by nearness to that seat's (the front one of two as near),
    within a row by how near the run's middle is to the middle of what was asked for (the
    earlier of two as near). ``pick`` chooses among them (0: the nearest), so that the
    refusals of one moment, often of the same few seats, are not all offered the same
    run. Empty when the section has no such run.

    What is remembered for the view is where it has no run to offer, so that refusals in
    a sold-out section do not each scan it (only the absence: seats the refusals name are
    taken in any case, and a hold lapsing changes the view's expired count, which is part
    of what is remembered)."""
    anchor = recent.layout.index.get(wanted[0]) if wanted else None
    if anchor is None or anchor.row == STANDING_ROW:  # standing places go by quantity
        return []
    key = (recent.view.expired_count(now_ms), anchor.section, anchor.grade, len(wanted))
    if key in recent.no_run:
        return []
    found = _nearest_runs(recent, anchor, wanted, taken, now_ms)
    if not found:
        recent.no_run.add(key)
        return []
    return found[pick % len(found)]


def _nearest_runs(
    recent: RecentBoard, anchor: SeatPlace, wanted: Sequence[str], taken: Collection[str], now: int
) -> list[list[str]]:
    """Up to ``SPREAD`` runs, nearest first (see :func:`offer`)."""
    layout = recent.layout
    rows = layout.rows(anchor.section)
    row_at, _ = layout.place(anchor.seat_id)
    # The middle of what was asked for in the first seat's row: where the run should sit.
    columns = [
        layout.place(seat_id)[1]
        for seat_id in wanted
        if (seat := layout.index.get(seat_id)) is not None
        and (seat.section, seat.row) == (anchor.section, anchor.row)
    ]
    column = sum(columns) / len(columns)

    view, grade, size = recent.view, anchor.grade, len(wanted)
    found: list[list[str]] = []
    for index in _outward(row_at, len(rows)):
        row = rows[index]
        # Free: of the grade, not just refused, and available as the seat map shows it.
        free = [
            seat.grade == grade
            and seat.seat_id not in taken
            and view.status_of(seat.seat_id, now) == AVAILABLE
            for seat in row
        ]
        for start in free_runs(free, size, column):
            found.append([seat.seat_id for seat in row[start : start + size]])
            if len(found) == SPREAD:
                return found
    return found


def _outward(start: int, count: int) -> list[int]:
    """Row indexes by distance from ``start``, the front (lower) one first at each step."""
    order = [start]
    for step in range(1, count):
        order.extend(i for i in (start - step, start + step) if 0 <= i < count)
    return order


def free_runs(free: Sequence[bool], size: int, column: float) -> list[int]:
    """Where runs of ``size`` consecutive free places start, nearest ``column`` first (by
    their middle; the earlier of two as near), leaving out runs overlapping a nearer one."""
    starts = []
    streak = 0
    for end, ok in enumerate(free):
        streak = streak + 1 if ok else 0
        if streak >= size:
            starts.append(end - size + 1)
    starts.sort(key=lambda start: (abs(start + (size - 1) / 2 - column), start))
    chosen: list[int] = []
    for start in starts:
        if all(abs(start - other) >= size for other in chosen):
            chosen.append(start)
    return chosen
