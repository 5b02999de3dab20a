"""catalog's plain rules: seat maps, grades, windows, fee tiers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from boxoffice.catalog import domain
from boxoffice.catalog.domain import RowPlan, SeatPlan, SectionPlan


def row(label: str, *numbers: str, grade: str | None = None) -> RowPlan:
    return RowPlan(label, tuple(SeatPlan(n) for n in numbers), grade)


def test_a_valid_map_expands_in_drawing_order_with_grade_overrides() -> None:
    sections = [
        SectionPlan("Floor", "VIP", (row("A", "1", "2"), row("B", "1", grade="R"))),
        SectionPlan(
            "Balcony", "S", (RowPlan("C", (SeatPlan("7", x=1.0, y=2.0, grade="A"), SeatPlan("8"))),)
        ),
    ]
    assert domain.seat_map_problems(sections) == []
    seats = domain.expand_seats(sections)
    assert [(s.section, s.row, s.number, s.grade) for s in seats] == [
        ("Floor", "A", "1", "VIP"),
        ("Floor", "A", "2", "VIP"),
        ("Floor", "B", "1", "R"),
        ("Balcony", "C", "7", "A"),
        ("Balcony", "C", "8", "S"),
    ]
    assert (seats[3].x, seats[3].y) == (1.0, 2.0)


def test_duplicates_are_named() -> None:
    sections = [
        SectionPlan("F", "R", (row("A", "1", "2", "1", "2"), row("A", "3"))),
        SectionPlan("F", "S", (row("B", "1"),)),
    ]
    messages = [p.msg for p in domain.seat_map_problems(sections)]
    assert any("duplicate seat numbers in row A: 1, 2" in m for m in messages)
    assert any("duplicate row 'A'" in m for m in messages)
    assert any("duplicate section 'F'" in m for m in messages)


def test_the_same_number_in_different_rows_is_fine() -> None:
    assert domain.seat_map_problems([SectionPlan("F", "R", (row("A", "1"), row("B", "1")))]) == []


def test_size_limits() -> None:
    huge = [SectionPlan("F", "R", (RowPlan("A", tuple(SeatPlan(str(i)) for i in range(200_001))),))]
    assert "at most 200000" in domain.seat_map_problems(huge)[0].msg
    exactly = [
        SectionPlan("F", "R", (RowPlan("A", tuple(SeatPlan(str(i)) for i in range(200_000))),))
    ]
    assert domain.seat_map_problems(exactly) == []
    assert "at least one seat" in domain.seat_map_problems([])[0].msg


def test_every_grade_priced_and_no_stranger_grades() -> None:
    assert domain.grade_problems({"VIP", "R"}, ["R", "VIP"]) == []
    messages = [p.msg for p in domain.grade_problems({"VIP", "R"}, ["VIP", "S", "VIP"])]
    assert any("no seats of grade 'S'" in m for m in messages)
    assert any("no price for grade(s): R" in m for m in messages)
    assert any("duplicate grade(s): VIP" in m for m in messages)


def test_sale_window_and_lifecycle() -> None:
    now = datetime(2026, 11, 22, tzinfo=UTC)
    assert domain.sale_window_problems(now, now + timedelta(seconds=1)) == []
    assert domain.sale_window_problems(now, now)
    assert domain.can_publish("draft")
    assert not domain.can_publish("published")
    assert not domain.can_publish("cancelled")
    assert domain.can_cancel("draft")
    assert domain.can_cancel("published")
    assert not domain.can_cancel("cancelled")
    assert not domain.can_edit("cancelled")


def test_fee_tiers_must_tighten_towards_the_show() -> None:
    assert domain.tier_problems([(9, 10), (6, 20), (2, 30)]) == []
    assert domain.tier_problems([(2, 30), (9, 10)])
    assert domain.tier_problems([(9, 30), (2, 10)])


def test_policy_round_trips_through_json() -> None:
    from boxoffice.catalog.contracts import CancellationPolicy

    policy = CancellationPolicy(free_days_after_booking=3, fixed_fee=2000, tiers=((5, 15),))
    assert domain.policy_from_json(domain.policy_to_json(policy)) == policy
