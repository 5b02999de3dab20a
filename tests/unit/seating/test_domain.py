"""Seating's plain rules: statuses at a moment, marks, ETags, limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from boxoffice.seating import domain
from boxoffice.seating.domain import BoardView, Mark

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
NOW_MS = domain.epoch_ms(NOW)


def test_a_hold_past_its_expiry_no_longer_keeps_the_seat() -> None:
    assert domain.seat_status("held", NOW + timedelta(seconds=1), NOW) == "held"
    assert domain.seat_status("held", NOW, NOW) == "available"
    assert domain.seat_status("sold", None, NOW + timedelta(days=365)) == "sold"
    assert domain.seat_status("available", None, NOW) == "available"


def test_marks_round_trip_and_sold_marks_never_expire() -> None:
    mark = Mark("h", "hold-1", NOW_MS + 1000)
    assert Mark.decode(mark.encode()) == mark
    assert mark.taken_at(NOW_MS)
    assert not mark.taken_at(NOW_MS + 1000)
    assert Mark("s", "hold-1", 0).taken_at(NOW_MS + 10**9)
    assert domain.mark_status(None, NOW_MS) == "available"
    assert domain.mark_status(Mark("p", "h", NOW_MS + 5), NOW_MS) == "held"


def test_the_etag_changes_when_a_hold_expires_even_without_a_new_version() -> None:
    view = BoardView.build(
        3,
        {
            "a": Mark("h", "x", NOW_MS + 100),
            "b": Mark("s", "y", 0),
            "c": Mark("h", "z", NOW_MS + 200),
        },
    )
    before = view.etag(NOW_MS, "p")
    assert view.etag(NOW_MS + 99, "p") == before
    assert view.etag(NOW_MS + 100, "p") != before
    assert view.status_of("a", NOW_MS + 100) == "available"
    assert view.status_of("b", NOW_MS + 10**9) == "sold"
    assert view.etag(NOW_MS, "other-prices") != before
    assert BoardView.build(4, view.marks).etag(NOW_MS, "p") != before


def test_a_request_keeps_distinct_seats_in_order_and_has_bounds() -> None:
    assert domain.requested_seats(["b", "a", "b"]) == ["b", "a"]
    with pytest.raises(domain.InvalidSeatRequest):
        domain.requested_seats([])
    with pytest.raises(domain.InvalidSeatRequest):
        domain.requested_seats([str(i) for i in range(51)])


def test_the_limit_counts_what_the_user_already_has() -> None:
    assert domain.within_limit(2, 2, 4)
    assert not domain.within_limit(3, 2, 4)
    assert domain.within_limit(100, 1, 0)  # 0 = no limit


def test_holds_last_seven_minutes_unless_the_event_says_otherwise() -> None:
    assert domain.hold_expiry(NOW, None) == NOW + timedelta(minutes=7)
    assert domain.hold_expiry(NOW, 0) == NOW + timedelta(minutes=7)
    assert domain.hold_expiry(NOW, 10) == NOW + timedelta(minutes=10)


def test_an_unreachable_database_is_told_apart_from_a_bad_query() -> None:
    from sqlalchemy.exc import DBAPIError

    from boxoffice.platform.db import unreachable as is_unavailable

    class Refused(Exception):
        sqlstate = "53300"

    class Syntax(Exception):
        sqlstate = "42601"

    assert is_unavailable(DBAPIError("SELECT 1", {}, Refused("sorry, too many clients")))
    assert not is_unavailable(DBAPIError("SELEC 1", {}, Syntax("syntax error")))
    assert is_unavailable(DBAPIError("SELECT 1", {}, OSError(2003, "Can't connect")))
