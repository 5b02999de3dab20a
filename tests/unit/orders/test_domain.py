"""Orders' pure rules: money, state machine, and the cancellation schedule at its edges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from boxoffice.catalog.contracts import CancellationPolicy
from boxoffice.orders import domain
from boxoffice.orders.domain import KST, OrderStatus

POLICY = CancellationPolicy()  # 7 free days, 4,000 per ticket, cutoff 24 h, 10/20/30 %
SHOW = datetime(2026, 12, 20, 19, 0, tzinfo=KST)  # Sunday 19:00 in Seoul


def kst(day: int, hour: int = 12, minute: int = 0, month: int = 12) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=KST)


# (booked, now, expected rule, expected fee) for two tickets of 100,000 won.
CASES = [
    # booked long before; far from the show: fixed fee 4,000 x 2 (below 10 % cap of 20,000)
    (kst(1, month=11), kst(1), "fixed_fee", 8000),
    # 10 days before: still the fixed fee; 9 days before: first tier
    (kst(1, month=11), kst(10, 23, 59), "fixed_fee", 8000),
    (kst(1, month=11), kst(11, 0, 0), "tier_10", 20000),
    (kst(1, month=11), kst(13, 23, 59), "tier_10", 20000),
    (kst(1, month=11), kst(14, 0, 0), "tier_20", 40000),
    (kst(1, month=11), kst(17, 23, 59), "tier_20", 40000),
    (kst(1, month=11), kst(18, 0, 0), "tier_30", 60000),
    (kst(1, month=11), kst(19, 18, 59), "tier_30", 60000),
    # booked recently, show far: free for 7 days after booking, then the fixed fee
    (kst(1, 10), kst(8, 10), "free_after_booking", 0),
    (kst(1, 10), kst(8, 10, 1), "fixed_fee", 8000),
    # booked recently but the show is near: the tier applies at once ...
    (kst(12, 10), kst(13, 10), "tier_10", 20000),
    # ... except on the very day of booking
    (kst(18, 10), kst(18, 23, 59), "same_day", 0),
    (kst(18, 10), kst(19, 0, 0), "tier_30", 60000),
]


@pytest.mark.parametrize(("booked", "now", "rule", "fee"), CASES)
def test_fee_schedule_boundaries(booked: datetime, now: datetime, rule: str, fee: int) -> None:
    quote = domain.cancellation_quote(
        POLICY,
        ticket_amount=200_000,
        ticket_count=2,
        booked_at=booked,
        show_starts_at=SHOW,
        now=now,
    )
    assert quote.allowed
    assert (quote.rule, quote.fee) == (rule, fee)
    assert quote.refund == 200_000 - fee


@pytest.mark.parametrize(
    ("now", "allowed"),
    [(kst(19, 18, 59), True), (kst(19, 19, 0), False), (kst(20, 10), False), (kst(21), False)],
)
def test_no_cancellation_from_the_cutoff(now: datetime, allowed: bool) -> None:
    quote = domain.cancellation_quote(
        POLICY,
        ticket_amount=50_000,
        ticket_count=1,
        booked_at=kst(1, month=11),
        show_starts_at=SHOW,
        now=now,
    )
    assert quote.allowed is allowed
    if not allowed:
        assert (quote.rule, quote.fee, quote.refund) == ("after_cutoff", 0, 0)


def test_fixed_fee_is_capped_at_ten_percent_of_cheap_tickets() -> None:
    quote = domain.cancellation_quote(
        POLICY,
        ticket_amount=30_000,  # 3 tickets of 10,000: 3 x 4,000 would be 40 %
        ticket_count=3,
        booked_at=kst(1, month=11),
        show_starts_at=SHOW,
        now=kst(1),
    )
    assert (quote.rule, quote.fee) == ("fixed_fee", 3000)


def test_merch_is_refunded_in_full_and_fees_round_down() -> None:
    quote = domain.cancellation_quote(
        POLICY,
        ticket_amount=99_999,
        ticket_count=1,
        other_amount=35_000,
        booked_at=kst(1, month=11),
        show_starts_at=SHOW,
        now=kst(15),
    )
    assert (quote.rule, quote.fee) == ("tier_20", 19_999)
    assert quote.refund == 99_999 + 35_000 - 19_999


def test_schedule_follows_the_policy_given() -> None:
    policy = CancellationPolicy(
        free_days_after_booking=0, fixed_fee=1000, cutoff_hours_before_show=2, tiers=((1, 50),)
    )
    common = {"ticket_amount": 10_000, "ticket_count": 1, "booked_at": kst(1, month=11)}
    far = domain.cancellation_quote(policy, **common, show_starts_at=SHOW, now=kst(10))
    near = domain.cancellation_quote(policy, **common, show_starts_at=SHOW, now=kst(20, 16))
    late = domain.cancellation_quote(policy, **common, show_starts_at=SHOW, now=kst(20, 17, 1))
    assert (far.fee, near.fee, late.allowed) == (1000, 5000, False)


def test_days_are_counted_on_the_korean_calendar() -> None:
    # 16:00 UTC on the 10th is 01:00 on the 11th in Seoul: 9 days before the show.
    assert domain.days_before_show(datetime(2026, 12, 10, 16, 0, tzinfo=UTC), SHOW) == 9
    assert domain.days_before_show(datetime(2026, 12, 10, 14, 59, tzinfo=UTC), SHOW) == 10


def test_money_is_integer_minor_units() -> None:
    assert domain.percent_of(12_345, 10) == 1_234
    assert domain.percent_of(0, 30) == 0
    with pytest.raises(TypeError):
        domain.check_amount(1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        domain.check_amount(True)
    with pytest.raises(ValueError, match="negative"):
        domain.check_amount(-1)
    with pytest.raises(ValueError, match="percent"):
        domain.percent_of(100, 101)


@pytest.mark.parametrize(
    ("current", "target", "ok"),
    [
        ("pending", "paid", True),
        ("pending", "expired", True),
        ("pending", "failed", True),
        ("pending", "cancelled", True),
        ("pending", "refunded", False),
        ("paid", "refunded", True),
        ("paid", "partially_refunded", True),
        ("paid", "cancelled", False),
        ("paid", "expired", False),
        ("expired", "paid", False),
        ("failed", "paid", False),
        ("refunded", "paid", False),
        ("partially_refunded", "refunded", True),  # the show cancelled: its fee given back
        ("partially_refunded", "paid", False),
        ("refunded", "partially_refunded", False),
        ("cancelled", "pending", False),
    ],
)
def test_order_state_machine(current: str, target: str, ok: bool) -> None:
    assert domain.can_transition(current, target) is ok
    if ok:
        assert domain.transition(current, target) == OrderStatus(target)
    else:
        with pytest.raises(domain.IllegalTransition):
            domain.transition(current, target)


def test_every_state_is_in_the_machine() -> None:
    assert set(domain.TRANSITIONS) == set(OrderStatus)
    assert domain.status_after_refund(10_000, 10_000) is OrderStatus.REFUNDED
    assert domain.status_after_refund(10_000, 9_000) is OrderStatus.PARTIALLY_REFUNDED


def test_quote_for_a_show_in_the_past_is_refused() -> None:
    past = domain.cancellation_quote(
        POLICY,
        ticket_amount=1,
        ticket_count=1,
        booked_at=kst(1, month=11),
        show_starts_at=SHOW,
        now=SHOW + timedelta(days=1),
    )
    assert not past.allowed
