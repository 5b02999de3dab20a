"""Pricing a hold's seats from ticket types: the rules, without I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from boxoffice.catalog.contracts import TicketTypeInfo
from boxoffice.seating import pricing

NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)
ADULT = TicketTypeInfo("adult", "e", "VIP", "Adult", 110_000)
STUDENT = TicketTypeInfo("student", "e", "VIP", "Student", 88_000, quantity_cap=10)
EARLY = TicketTypeInfo(
    "early", "e", "VIP", "Early bird", 99_000, available_until=NOW + timedelta(hours=1)
)
LATE = TicketTypeInfo("late", "e", "VIP", "Late", 50_000, available_from=NOW + timedelta(days=1))
R_ONLY = TicketTypeInfo("r-student", "e", "R", "R student", 70_000, quantity_cap=5)
FAN_CLUB = TicketTypeInfo("fan", "e", "VIP", "Fan club", 95_000, hidden=True)
STOPPED = TicketTypeInfo("stopped", "e", "VIP", "Stopped", 1, active=False)
TYPES = {t.id: t for t in (ADULT, STUDENT, EARLY, LATE, R_ONLY, FAN_CLUB, STOPPED)}
GRADES = {"a1": "VIP", "a2": "VIP", "b1": "R"}


def test_seats_without_a_type_keep_the_grade_price() -> None:
    assert pricing.choose_types(GRADES, {}, TYPES, NOW) == {}
    assert pricing.seat_price(165_000, None) == 165_000


def test_a_typed_seat_is_priced_from_its_type_never_from_the_client() -> None:
    typed = pricing.choose_types(GRADES, {"a1": "student", "b1": "r-student"}, TYPES, NOW)
    assert typed == {"a1": STUDENT, "b1": R_ONLY}
    assert pricing.seat_price(165_000, typed["a1"]) == 88_000


@pytest.mark.parametrize(
    ("chosen", "reason"),
    [
        ({"a1": "r-student"}, "is for R seats"),
        ({"a1": "nope"}, "No such ticket type"),
        ({"zz": "adult"}, "not in the hold"),
        ({"a1": "late"}, "not on sale now"),
        ({"a1": "stopped"}, "not on sale now"),
        ({"a1": "fan"}, "No such ticket type"),  # hidden: as if it did not exist
    ],
)
def test_types_a_seat_cannot_have_are_refused(chosen: dict[str, str], reason: str) -> None:
    with pytest.raises(pricing.TypeRefused, match=reason) as refused:
        pricing.choose_types(GRADES, chosen, TYPES, NOW)
    assert refused.value.ticket_type_id == next(iter(chosen.values()))


def test_a_window_is_closed_at_its_end_and_open_at_its_start() -> None:
    assert pricing.choose_types(GRADES, {"a1": "early"}, TYPES, NOW)
    with pytest.raises(pricing.TypeRefused):
        pricing.choose_types(GRADES, {"a1": "early"}, TYPES, NOW + timedelta(hours=1))
    assert pricing.choose_types(GRADES, {"a1": "late"}, TYPES, NOW + timedelta(days=1))


def test_a_hidden_type_is_sold_once_unlocked() -> None:
    assert pricing.choose_types(GRADES, {"a1": "fan"}, TYPES, NOW, unlocked={"fan"}) == {
        "a1": FAN_CLUB
    }


def test_capped_needs_count_seats_per_capped_type_in_id_order() -> None:
    typed = {"a1": STUDENT, "a2": STUDENT, "b1": R_ONLY, "a3": ADULT}
    needs = pricing.capped_needs(typed)
    assert needs == [
        pricing.TypeNeed("r-student", 1, 5),
        pricing.TypeNeed("student", 2, 10),
    ]
    assert pricing.within_cap(8, 2, 10)
    assert not pricing.within_cap(9, 2, 10)
