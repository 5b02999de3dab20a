"""The seats the shop chooses for a best-available hold: free, side by side, of one
grade; sections in map order, rows front first, the middle of a row first."""

from __future__ import annotations

import pytest

from boxoffice.catalog.contracts import STANDING_ROW
from boxoffice.seating.best_available import (
    SPREAD,
    Wanted,
    best_runs,
    check,
    choose_runs,
    pick,
)
from boxoffice.seating.domain import BoardView
from boxoffice.seating.errors import UnknownSeats
from boxoffice.seating.layout import Layout, SeatPlace
from boxoffice.seating.snapshot import CHOSEN_SECONDS, FreeSeats, RecentChoices
from tests.support.seating import board_view

NOW = 1_000_000


def _layout(*rows: tuple[str, str, str, int]) -> Layout:
    """(section, row, grade, seats) in map order; seat ids are section-row-number."""
    seats = [
        SeatPlace(f"{section}-{row}-{n}", section, row, str(n), grade)
        for section, row, grade, count in rows
        for n in range(1, count + 1)
    ]
    return Layout("show", "event", seats, {s.seat_id: s for s in seats})


def _runs(layout: Layout, view: BoardView, wanted: Wanted, left_out: set[str]) -> list[list[str]]:
    return best_runs(layout, FreeSeats.of(layout, view, NOW), wanted, left_out)


def test_the_front_row_middle_run_comes_first_then_the_next_nearest() -> None:
    layout = _layout(("A", "1", "R", 6), ("A", "2", "R", 6))
    runs = _runs(layout, board_view(), Wanted(2), set())
    assert runs[0] == ["A-1-3", "A-1-4"]
    assert runs[1:3] == [["A-1-1", "A-1-2"], ["A-1-5", "A-1-6"]]  # earlier of two as near
    assert runs[3] == ["A-2-3", "A-2-4"]


def test_only_free_seats_side_by_side_are_chosen() -> None:
    layout = _layout(("A", "1", "R", 5), ("A", "2", "R", 5))
    # Row 1 has free seats 1, 2 and 4 but no three together; a lapsed hold is free again.
    view = board_view(sold=["A-1-3"], held={"A-1-5": NOW + 60_000, "A-2-1": NOW - 1})
    assert _runs(layout, view, Wanted(3), set()) == [["A-2-2", "A-2-3", "A-2-4"]]


def test_seats_left_out_are_not_chosen() -> None:
    layout = _layout(("A", "1", "R", 4))
    runs = _runs(layout, board_view(), Wanted(2), {"A-1-2", "A-1-3"})
    assert runs == []  # 1 and 4 are free, but not side by side
    runs = _runs(layout, board_view(), Wanted(1), {"A-1-2", "A-1-3"})
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
    assert _runs(layout, board_view(), Wanted(3), set()) == [["s3", "s4", "s5"]]
    assert _runs(layout, board_view(), Wanted(2, grade="VIP"), set()) == [["s1", "s2"]]
    assert ["s2", "s3"] not in _runs(layout, board_view(), Wanted(2), set())


def test_sections_in_map_order_and_the_section_asked_for() -> None:
    layout = _layout(("B", "1", "R", 2), ("A", "1", "R", 2))
    assert _runs(layout, board_view(), Wanted(2), set()) == [
        ["B-1-1", "B-1-2"],
        ["A-1-1", "A-1-2"],
    ]
    assert _runs(layout, board_view(), Wanted(2, section="A"), set()) == [["A-1-1", "A-1-2"]]


def test_standing_places_are_never_chosen_as_seats() -> None:
    layout = _layout(("Floor", STANDING_ROW, "GA", 10), ("A", "1", "R", 2))
    assert _runs(layout, board_view(), Wanted(2), set()) == [["A-1-1", "A-1-2"]]


def test_at_most_spread_runs_are_offered_to_choose_among() -> None:
    layout = _layout(*[("A", str(row), "R", 20) for row in range(1, 6)])
    runs = _runs(layout, board_view(), Wanted(1), set())
    assert len(runs) == SPREAD
    assert len({seat for run in runs for seat in run}) == SPREAD


def test_nothing_free_side_by_side_gives_no_run() -> None:
    layout = _layout(("A", "1", "R", 3))
    assert _runs(layout, board_view(sold=["A-1-2"]), Wanted(2), set()) == []


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


def test_a_nearly_full_views_few_runs_are_listed_once_and_filtered_after() -> None:
    layout = _layout(("A", "1", "R", 4), ("A", "2", "R", 4))
    free = FreeSeats.of(layout, board_view(sold=["A-1-1", "A-1-2", "A-2-1"]), NOW)
    assert free.taken_in_row == {0: 2, 1: 1}  # rows numbered across the map
    both = [["A-1-3", "A-1-4"], ["A-2-2", "A-2-3"]]
    assert choose_runs(layout, free, Wanted(2), set()) == both
    assert free.runs == {Wanted(2): both}
    # The next request of this view takes the list, leaving out what it must.
    free.taken = frozenset()  # (were the board read again, A-1-1 would be free: it is not)
    assert choose_runs(layout, free, Wanted(2), {"A-1-4"}) == [["A-2-2", "A-2-3"]]


def test_runs_are_not_listed_when_some_were_left_out_or_there_are_many() -> None:
    layout = _layout(("A", "1", "R", 4))
    free = FreeSeats.of(layout, board_view(), NOW)
    assert choose_runs(layout, free, Wanted(1), {"A-1-2"}) == [["A-1-3"], ["A-1-1"], ["A-1-4"]]
    assert free.runs == {}
    wide = _layout(("A", "1", "R", 20))
    free = FreeSeats.of(wide, board_view(), NOW)
    assert len(choose_runs(wide, free, Wanted(1), set())) == SPREAD
    assert free.runs == {}


def test_the_free_seats_are_made_again_when_the_view_moves_or_a_hold_lapses() -> None:
    layout = _layout(("A", "1", "R", 4))
    known = RecentChoices()
    view = board_view(held={"A-1-1": NOW + 10})
    first = known.free_seats(layout, view, NOW)
    assert first.taken == {"A-1-1"}
    assert known.free_seats(layout, view, NOW + 5) is first
    assert known.free_seats(layout, view, NOW + 10).taken == set()  # the hold lapsed
    assert known.free_seats(layout, BoardView.build(9, {}), NOW + 10) is not first


def test_in_a_crowd_a_choice_is_made_among_the_runs_of_the_best_row_only() -> None:
    layout = _layout(("A", "1", "R", 6), ("A", "2", "R", 6))
    runs = _runs(layout, board_view(), Wanted(2), set())
    assert len(runs) == 6  # three in each row
    picked = {tuple(pick(layout, runs, crowded=True)) for _ in range(200)}
    assert picked == {("A-1-3", "A-1-4"), ("A-1-1", "A-1-2"), ("A-1-5", "A-1-6")}


def test_a_fan_alone_gets_the_best_run() -> None:
    layout = _layout(("A", "1", "R", 18), ("A", "2", "R", 18))
    runs = _runs(layout, board_view(), Wanted(2), set())
    alone = {tuple(pick(layout, runs, crowded=False)) for _ in range(50)}
    assert alone == {("A-1-9", "A-1-10")}
