"""The seats offered with a refused hold: side by side, same grade, nearest row first."""

from __future__ import annotations

from boxoffice.catalog.contracts import STANDING_ROW
from boxoffice.seating.domain import BoardView
from boxoffice.seating.layout import Layout, SeatPlace
from boxoffice.seating.snapshot import RecentBoard
from boxoffice.seating.suggestions import SPREAD, offer
from tests.support.seating import board_view

NOW = 1_000_000


def _layout(rows: dict[str, int], *, section: str = "A", grade: str = "R") -> Layout:
    seats = [
        SeatPlace(f"{section}-{row}-{n}", section, row, str(n), grade)
        for row, count in rows.items()
        for n in range(1, count + 1)
    ]
    return Layout("show", "event", seats, {s.seat_id: s for s in seats})


def nearest_free(
    layout: Layout, view: BoardView, asked: list[str], taken: list[str], now: int, *, pick: int = 0
) -> list[str]:
    """The offer on a view seen for the first time."""
    return offer(RecentBoard(layout, view, set()), asked, taken, now, pick=pick)


def test_the_nearest_run_in_the_same_row_comes_first() -> None:
    layout = _layout({"1": 10, "2": 10})
    view = board_view(sold=["A-1-5", "A-1-6"])
    # Asked for 5 and 6 (now sold): 3-4 and 7-8 are equally near; the earlier run wins.
    assert nearest_free(layout, view, ["A-1-5", "A-1-6"], ["A-1-5", "A-1-6"], NOW) == [
        "A-1-3",
        "A-1-4",
    ]


def test_a_free_seat_among_those_asked_for_is_offered_again() -> None:
    layout = _layout({"1": 10})
    view = board_view(sold=["A-1-5"])
    assert nearest_free(layout, view, ["A-1-5", "A-1-6"], ["A-1-5"], NOW) == ["A-1-6", "A-1-7"]


def test_the_seats_just_refused_count_as_taken_even_where_the_view_is_behind() -> None:
    layout = _layout({"1": 3})
    view = board_view()  # the process's copy has not seen the sale yet
    assert nearest_free(layout, view, ["A-1-2"], ["A-1-2"], NOW) in (["A-1-1"], ["A-1-3"])


def test_a_full_row_sends_the_offer_to_the_nearest_row_front_first() -> None:
    layout = _layout({"1": 4, "2": 4, "3": 4, "4": 4})
    full_row_3 = [f"A-3-{n}" for n in range(1, 5)]
    view = board_view(sold=full_row_3)
    asked = ["A-3-2", "A-3-3"]
    assert nearest_free(layout, view, asked, asked, NOW) == ["A-2-2", "A-2-3"]
    view = board_view(sold=[*full_row_3, "A-2-2", "A-2-3"])
    assert nearest_free(layout, view, asked, asked, NOW) == ["A-4-2", "A-4-3"]


def test_seats_must_sit_together_and_share_the_grade() -> None:
    layout = _layout({"1": 6})
    cheap = [SeatPlace(f"A-1-{n}", "A", "1", str(n), "S") for n in (7, 8)]
    layout = Layout("show", "event", [*layout.seats, *cheap], layout.index)
    layout.index.update({s.seat_id: s for s in cheap})
    # Free: 2, 4, 6 (grade R, none side by side) and 7, 8 (grade S).
    view = board_view(sold=["A-1-1", "A-1-3", "A-1-5"])
    assert nearest_free(layout, view, ["A-1-1", "A-1-3"], ["A-1-1", "A-1-3"], NOW) == []
    assert nearest_free(layout, view, ["A-1-1"], ["A-1-1"], NOW) == ["A-1-2"]


def test_a_hold_past_its_deadline_frees_its_seat_and_a_live_one_does_not() -> None:
    layout = _layout({"1": 3})
    view = board_view(sold=["A-1-1"], held={"A-1-2": NOW - 1, "A-1-3": NOW + 60_000})
    assert nearest_free(layout, view, ["A-1-1"], ["A-1-1"], NOW) == ["A-1-2"]
    view = board_view(sold=["A-1-1"], held={"A-1-2": NOW + 1, "A-1-3": NOW + 60_000})
    assert nearest_free(layout, view, ["A-1-1"], ["A-1-1"], NOW) == []


def test_other_sections_are_not_searched_and_unknown_seats_get_no_offer() -> None:
    a, b = _layout({"1": 2}), _layout({"1": 2}, section="B")
    layout = Layout("show", "event", [*a.seats, *b.seats], {**a.index, **b.index})
    view = board_view(sold=["A-1-1", "A-1-2"])
    assert nearest_free(layout, view, ["A-1-1"], ["A-1-1"], NOW) == []
    assert nearest_free(layout, view, ["nope"], ["nope"], NOW) == []
    assert nearest_free(layout, view, [], [], NOW) == []


def test_a_view_remembers_where_it_has_nothing_to_offer_until_a_hold_lapses() -> None:
    layout = _layout({"1": 2})
    view = board_view(sold=["A-1-1"], held={"A-1-2": NOW + 1_000})
    recent = RecentBoard(layout, view, set())
    assert offer(recent, ["A-1-1"], ["A-1-1"], NOW) == []
    assert recent.no_run == {(0, "A", "R", 1)}
    # Remembered: the section is not scanned again for this view (even where it would now
    # find a seat, as a view that is wrong about a seat would).
    wrong = RecentBoard(layout, board_view(), recent.no_run)
    assert offer(wrong, ["A-1-1"], ["A-1-1"], NOW) == []
    # The hold on A-1-2 lapses: the view's expired count moves, and the seat is offered.
    assert offer(recent, ["A-1-1"], ["A-1-1"], NOW + 1_000) == ["A-1-2"]
    assert offer(recent, ["A-1-1", "A-1-2"], ["A-1-1"], NOW + 1_000) == []
    assert recent.no_run == {(0, "A", "R", 1), (1, "A", "R", 2)}


def test_standing_places_are_not_offered() -> None:
    places = [SeatPlace(f"G-{n}", "Floor", STANDING_ROW, str(n), "GA") for n in range(1, 5)]
    layout = Layout("show", "event", places, {p.seat_id: p for p in places})
    assert nearest_free(layout, board_view(sold=["G-1"]), ["G-1"], ["G-1"], NOW) == []


def test_pick_spreads_offers_over_the_nearest_runs_that_do_not_overlap() -> None:
    layout = _layout({"1": 6, "2": 6})
    view = board_view(sold=["A-1-3", "A-1-4"])
    asked = ["A-1-3", "A-1-4"]
    offers = [nearest_free(layout, view, asked, asked, NOW, pick=p) for p in range(5)]
    # Row 1: 1-2 and 5-6 (as near, the earlier first); row 2: 3-4, then 1-2 (2-3 and 4-5
    # overlap 3-4); the fifth pick comes round to the first.
    assert offers == [
        ["A-1-1", "A-1-2"],
        ["A-1-5", "A-1-6"],
        ["A-2-3", "A-2-4"],
        ["A-2-1", "A-2-2"],
        ["A-1-1", "A-1-2"],
    ]
    assert len({tuple(o) for o in offers}) == SPREAD
    # Fewer runs than the spread: the picks go round the runs there are.
    view = board_view(sold=["A-1-3", "A-1-4", *[f"A-2-{n}" for n in range(1, 7)]])
    assert nearest_free(layout, view, asked, asked, NOW, pick=2) == ["A-1-1", "A-1-2"]
