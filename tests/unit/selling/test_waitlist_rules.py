"""The waitlist's order, without I/O: returned seats go to the earliest fan they fit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from boxoffice.seating.waitlist_rules import (
    EntryStatus,
    FreeSeat,
    Waiting,
    after_offer,
    in_join_order,
    offers,
)

T0 = datetime(2026, 12, 2, 12, tzinfo=UTC)


def fan(n: int, grade: str | None = None, *, at: int | None = None) -> Waiting:
    return Waiting(f"e{n:03d}", f"u{n}", grade, T0 + timedelta(seconds=n if at is None else at))


def test_fans_are_in_the_order_they_joined_and_the_id_breaks_a_tie() -> None:
    fans = [fan(3), fan(1), fan(2, at=1)]
    assert [f.entry_id for f in in_join_order(fans)] == ["e001", "e002", "e003"]


def test_each_seat_goes_to_the_earliest_fan_without_one() -> None:
    fans = [fan(n) for n in range(5)]
    seats = [FreeSeat("a1", "VIP"), FreeSeat("a2", "R")]
    paired = offers(seats, list(reversed(fans)))
    assert [(o.seat.seat_id, o.entry.entry_id) for o in paired] == [("a1", "e000"), ("a2", "e001")]


def test_a_fan_waiting_for_a_grade_is_passed_over_by_other_grades_not_by_their_turn() -> None:
    fans = [fan(0, "VIP"), fan(1), fan(2, "R")]
    paired = offers([FreeSeat("r1", "R"), FreeSeat("v1", "VIP"), FreeSeat("r2", "R")], fans)
    assert [(o.seat.seat_id, o.entry.entry_id) for o in paired] == [
        ("r1", "e001"),
        ("v1", "e000"),
        ("r2", "e002"),
    ]


def test_nobody_gets_two_seats_and_unwanted_seats_stay_free() -> None:
    paired = offers(
        [FreeSeat("s1", "S"), FreeSeat("v1", "VIP"), FreeSeat("v2", "VIP")], [fan(0, "VIP")]
    )
    assert [(o.seat.seat_id, o.entry.entry_id) for o in paired] == [("v1", "e000")]
    assert offers([FreeSeat("v1", "VIP")], []) == []


def test_an_offer_ends_bought_when_paid_and_missed_when_it_lapses() -> None:
    assert after_offer("sold", T0, T0) is EntryStatus.BOUGHT
    assert after_offer("active", T0 + timedelta(minutes=1), T0) is EntryStatus.OFFERED
    assert after_offer("active", T0, T0) is EntryStatus.MISSED
    assert after_offer("released", T0 + timedelta(minutes=1), T0) is EntryStatus.MISSED
    assert after_offer("expired", T0, T0) is EntryStatus.MISSED
