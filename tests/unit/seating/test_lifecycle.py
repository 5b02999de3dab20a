"""A hold's rules without a database: who may attach, sell, release and expire it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from boxoffice.platform.errors import Conflict
from boxoffice.seating import lifecycle
from boxoffice.seating.contracts import HeldSeat
from boxoffice.seating.errors import HoldLapsed, HoldNotFound
from boxoffice.seating.lifecycle import HoldState, HoldStatus

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def hold(
    status: HoldStatus = HoldStatus.ACTIVE, *, minutes: int = 5, order: str | None = None
) -> HoldState:
    return HoldState("h1", "s1", "fan", status, NOW + timedelta(minutes=minutes), order)


def test_an_active_hold_past_its_expiry_shows_as_expired() -> None:
    assert hold().visible_status(NOW) is HoldStatus.ACTIVE
    assert hold(minutes=0).visible_status(NOW) is HoldStatus.EXPIRED
    assert hold(HoldStatus.SOLD, minutes=-9).visible_status(NOW) is HoldStatus.SOLD


def test_only_its_buyer_attaches_an_active_hold_once_per_order() -> None:
    assert lifecycle.attach("h1", hold(), user_id="fan", order_id="o1", now=NOW)
    assert not lifecycle.attach("h1", hold(order="o1"), user_id="fan", order_id="o1", now=NOW)
    with pytest.raises(HoldNotFound):
        lifecycle.attach("h1", hold(), user_id="someone", order_id="o1", now=NOW)
    with pytest.raises(HoldNotFound):
        lifecycle.attach("h1", None, user_id="fan", order_id="o1", now=NOW)
    with pytest.raises(Conflict):
        lifecycle.attach("h1", hold(order="o2"), user_id="fan", order_id="o1", now=NOW)
    with pytest.raises(HoldLapsed):
        lifecycle.attach("h1", hold(minutes=-1), user_id="fan", order_id="o1", now=NOW)
    with pytest.raises(HoldLapsed):
        lifecycle.attach("h1", hold(HoldStatus.RELEASED), user_id="fan", order_id="o1", now=NOW)
    assert not lifecycle.attach(
        "h1", hold(HoldStatus.SOLD, order="o1"), user_id="fan", order_id="o1", now=NOW
    )
    with pytest.raises(Conflict):
        lifecycle.attach(
            "h1", hold(HoldStatus.SOLD, order="o2"), user_id="fan", order_id="o1", now=NOW
        )


def test_a_hold_is_sold_once_to_its_order_and_a_lapsed_one_is_revived() -> None:
    assert lifecycle.sell("h1", hold(order="o1"), order_id="o1")
    assert lifecycle.sell("h1", hold(HoldStatus.EXPIRED, order="o1"), order_id="o1")
    assert lifecycle.lapsed(hold(minutes=-1), NOW)
    assert not lifecycle.lapsed(hold(), NOW)
    assert not lifecycle.sell("h1", hold(HoldStatus.SOLD, order="o1"), order_id="o1")
    with pytest.raises(Conflict):
        lifecycle.sell("h1", hold(HoldStatus.SOLD, order="o2"), order_id="o1")
    with pytest.raises(Conflict):
        lifecycle.sell("h1", hold(order="o2"), order_id="o1")
    with pytest.raises(HoldLapsed):
        lifecycle.sell("h1", hold(HoldStatus.RELEASED), order_id="o1")
    with pytest.raises(HoldNotFound):
        lifecycle.sell("h1", None, order_id="o1")


def test_only_active_holds_release_and_expire() -> None:
    assert lifecycle.releasable(hold())
    assert not lifecycle.releasable(hold(HoldStatus.SOLD))
    assert lifecycle.expirable(hold(minutes=0), NOW)
    assert not lifecycle.expirable(hold(), NOW)
    assert not lifecycle.expirable(hold(HoldStatus.RELEASED, minutes=-5), NOW)


def test_a_hold_keeps_its_seats_as_held() -> None:
    seats = (
        HeldSeat("A-1", "Floor", "A", "1", "VIP", 165000),
        HeldSeat("A-2", "Floor", "A", "2", "R", 0),
    )
    assert lifecycle.decode_seats(lifecycle.encode_seats(seats)) == seats
