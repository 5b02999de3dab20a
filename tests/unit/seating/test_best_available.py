"""The seats the shop chooses for a best-available hold: free, side by side, of one
grade; sections in map order, rows front first, the middle of a row first."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from boxoffice.catalog.contracts import STANDING_ROW
from boxoffice.seating.best_available import SPREAD, Wanted, best_runs, check
from boxoffice.seating.domain import HELD_MARK, SOLD_MARK, BoardView, Mark
from boxoffice.seating.errors import UnknownSeats
from boxoffice.seating.snapshot import CHOSEN_SECONDS, Layout, RecentChoices, SeatPlace

NOW = 1_000_000


def _layout(*rows: tuple[str, str, str, int]) -> Layout:
    """(section, row, grade, seats) in map order; seat ids are section-row-number."""
    seats = [
        SeatPlace(f"{section}-{row}-{n}", section, row, str(n), grade)
        for section, row, grade, count in rows
        for n in range(1, count + 1)
    ]
    return Layout("show", "event", seats, {s.seat_id: s for s in seats})


def _view(sold: Sequence[str] = (), held: dict[str, int] | None = None) -> BoardView:
    marks = {seat: Mark(SOLD_MARK, "order", 0) for seat in sold}
    marks.update({seat: Mark(HELD_MARK, "hold", until) for seat, until in (held or {}).items()})
    return BoardView.build(3, marks)


def test_the_front_row_middle_run_comes_first_then_the_next_nearest() -> None:
    layout = _layout(("A", "1", "R", 6), ("A", "2", "R", 6))
    runs = best_runs(layout, _view(), Wanted(2), NOW, set())
    assert runs[0] == ["A-1-3", "A-1-4"]
    assert runs[1:3] == [["A-1-1", "A-1-2"], ["A-1-5", "A-1-6"]]  # earlier of two as near
    assert runs[3] == ["A-2-3", "A-2-4"]


def test_only_free_seats_side_by_side_are_chosen() -> None:
    layout = _layout(("A", "1", "R", 5), ("A", "2", "R", 5))
    # Row 1 has free seats 1, 2 and 4 but no three together; a lapsed hold is free again.
    view = _view(sold=["A-1-3"], held={"A-1-5": NOW + 60_000, "A-2-1": NOW - 1})
    assert best_runs(layout, view, Wanted(3), NOW, set()) == [["A-2-2", "A-2-3", "A-2-4"]]


def test_seats_left_out_are_not_chosen() -> None:
    layout = _layout(("A", "1", "R", 4))
    runs = best_runs(layout, _view(), Wanted(2), NOW, {"A-1-2", "A-1-3"})
    assert runs == []  # 1 and 4 are free, but not side by side
    runs = best_runs(layout, _view(), Wanted(1), NOW, {"A-1-2", "A-1-3"})
    assert sorted(runs) == [["A-1-1"], ["A-1-4"]]


def test_a_run_keeps_to_one_grade_and_to_the_grade_asked_for() -> None:
    seats = [
        SeatPlace("s1", "A", "1", "1", "VIP"),
        SeatPlace("s2", "A", "1", "2", "VIP"),
        SeatPlace("s3", "A", "1", "3", "R"),
        SeatPlace("s4", "A", "1", "4", "R"),
        SeatPlace("s5", "A", "1", "5", "R"),
    ]
    layout = Layout("show", "event", seats, {s.seat_id: s for s in seats})
    assert best_runs(layout, _view(), Wanted(3), NOW, set()) == [["s3", "s4", "s5"]]
    assert best_runs(layout, _view(), Wanted(2, grade="VIP"), NOW, set()) == [["s1", "s2"]]
    assert ["s2", "s3"] not in best_runs(layout, _view(), Wanted(2), NOW, set())


def test_sections_in_map_order_and_the_section_asked_for() -> None:
    layout = _layout(("B", "1", "R", 2), ("A", "1", "R", 2))
    assert best_runs(layout, _view(), Wanted(2), NOW, set()) == [
        ["B-1-1", "B-1-2"],
        ["A-1-1", "A-1-2"],
    ]
    assert best_runs(layout, _view(), Wanted(2, section="A"), NOW, set()) == [["A-1-1", "A-1-2"]]


def test_standing_places_are_never_chosen_as_seats() -> None:
    layout = _layout(("Floor", STANDING_ROW, "GA", 10), ("A", "1", "R", 2))
    assert best_runs(layout, _view(), Wanted(2), NOW, set()) == [["A-1-1", "A-1-2"]]


def test_at_most_spread_runs_are_offered_to_choose_among() -> None:
    layout = _layout(*[("A", str(row), "R", 20) for row in range(1, 6)])
    runs = best_runs(layout, _view(), Wanted(1), NOW, set())
    assert len(runs) == SPREAD
    assert len({seat for run in runs for seat in run}) == SPREAD


def test_nothing_free_side_by_side_gives_no_run() -> None:
    layout = _layout(("A", "1", "R", 3))
    assert best_runs(layout, _view(sold=["A-1-2"]), Wanted(2), NOW, set()) == []


def test_an_unknown_grade_or_section_is_refused() -> None:
    layout = _layout(("A", "1", "R", 3))
    check(layout, Wanted(2, grade="R", section="A"))
    with pytest.raises(UnknownSeats):
        check(layout, Wanted(2, grade="VIP"))
    with pytest.raises(UnknownSeats):
        check(layout, Wanted(2, section="Z"))


def test_seats_chosen_a_moment_ago_are_kept_from_the_next_choices() -> None:
    chosen = RecentChoices()
    chosen.add("show", ["a", "b"], 100.0)
    assert chosen.recent("show", 100.5) == {"a", "b"}
    assert chosen.recent("other", 100.5) == set()
    assert chosen.recent("show", 100.0 + CHOSEN_SECONDS) == set()
