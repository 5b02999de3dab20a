"""Orders' plain rules: money in integer KRW, the order's states, the cancellation fee.

No FastAPI, no SQLAlchemy: these functions are unit-tested in microseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import StrEnum

from boxoffice.catalog.contracts import CancellationPolicy

# Korea has no daylight saving time: the calendar of the schedule is UTC+9.
KST = timezone(timedelta(hours=9), "KST")


# --- money ----------------------------------------------------------------------------


def check_amount(amount: int) -> int:
    """An amount in minor units (KRW has none below the won): a non-negative integer."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError(f"money is an integer number of minor units, got {amount!r}")
    if amount < 0:
        raise ValueError(f"money cannot be negative: {amount}")
    return amount


def percent_of(amount: int, percent: int) -> int:
    """``percent`` % of ``amount``, rounded down to the won (the buyer's favour)."""
    check_amount(amount)
    if not 0 <= percent <= 100:
        raise ValueError(f"percent out of range: {percent}")
    return amount * percent // 100


# --- order states -------------------------------------------------------------------------


class OrderStatus(StrEnum):
    PENDING = "pending"  # created from a hold, waiting for its payment
    PAID = "paid"  # money captured, seats sold, tickets issued
    CANCELLED = "cancelled"  # given up before any money was taken
    REFUNDED = "refunded"  # paid, then refunded in full
    PARTIALLY_REFUNDED = "partially_refunded"  # paid, then refunded minus a cancellation fee
    EXPIRED = "expired"  # its hold ran out before it was paid
    FAILED = "failed"  # the payment could not be taken or the order could not be fulfilled


TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.PENDING: frozenset(
        {OrderStatus.PAID, OrderStatus.CANCELLED, OrderStatus.EXPIRED, OrderStatus.FAILED}
    ),
    OrderStatus.PAID: frozenset({OrderStatus.REFUNDED, OrderStatus.PARTIALLY_REFUNDED}),
    OrderStatus.CANCELLED: frozenset(),
    OrderStatus.REFUNDED: frozenset(),
    # its show cancelled after the buyer had cancelled: the fee kept is given back
    OrderStatus.PARTIALLY_REFUNDED: frozenset({OrderStatus.REFUNDED}),
    OrderStatus.EXPIRED: frozenset(),
    OrderStatus.FAILED: frozenset(),
}

# States whose money (captured minus refunded) the business keeps; the others hold none.
MONEY_STATES = frozenset({OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED, OrderStatus.REFUNDED})


class IllegalTransition(ValueError):
    pass


def can_transition(current: OrderStatus | str, target: OrderStatus | str) -> bool:
    return OrderStatus(target) in TRANSITIONS[OrderStatus(current)]


def transition(current: OrderStatus | str, target: OrderStatus | str) -> OrderStatus:
    """The new state, or ``IllegalTransition`` (e.g. a refunded order cannot be paid)."""
    if not can_transition(current, target):
        raise IllegalTransition(f"an order cannot go from {current} to {target}")
    return OrderStatus(target)


def status_after_refund(paid_amount: int, refunded_amount: int) -> OrderStatus:
    if refunded_amount >= paid_amount:
        return OrderStatus.REFUNDED
    return OrderStatus.PARTIALLY_REFUNDED


# --- cancellation fee ----------------------------------------------------------------------


@dataclass(frozen=True)
class CancellationQuote:
    """What cancelling now costs: ``fee`` kept, ``refund`` returned; ``rule`` names why."""

    allowed: bool
    fee: int
    refund: int
    rule: str


def _kst_date(moment: datetime) -> datetime:
    local = moment.astimezone(KST)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def days_before_show(now: datetime, show_starts_at: datetime) -> int:
    """Calendar days (Korean time) from today to the show's day: 0 on the day itself."""
    return (_kst_date(show_starts_at) - _kst_date(now)).days


def cancellation_quote(
    policy: CancellationPolicy,
    *,
    ticket_amount: int,
    ticket_count: int,
    other_amount: int = 0,
    booked_at: datetime,
    show_starts_at: datetime,
    now: datetime,
) -> CancellationQuote:
    """The fee of cancelling now, by the usual Korean schedule that ``policy`` parameterises.

    - No cancellation from ``cutoff_hours_before_show`` before the show on.
    - Free on the day of booking (Korean calendar day), and for
      ``free_days_after_booking`` days after it, unless the show is near: once the show is
      within the widest tier, the tier applies even to a fresh booking (except the same day).
    - Otherwise the fee of the tier the show's distance falls in (``(days, percent)``: the
      narrowest tier whose ``days`` is at least the days left), or, before any tier,
      ``fixed_fee`` per ticket, capped at 10 % of the tickets' price.
    Fees apply to the ticket part only; ``other_amount`` (merch) is always refunded in full.
    """
    check_amount(ticket_amount)
    check_amount(other_amount)
    total = ticket_amount + other_amount
    if now >= show_starts_at - timedelta(hours=policy.cutoff_hours_before_show):
        return CancellationQuote(False, 0, 0, "after_cutoff")
    days_left = days_before_show(now, show_starts_at)
    tiers = sorted(policy.tiers)  # narrowest window first
    tier_percent = next((pct for days, pct in tiers if days_left <= days), None)
    if _kst_date(now) == _kst_date(booked_at):
        return CancellationQuote(True, 0, total, "same_day")
    if tier_percent is None and now - booked_at <= timedelta(days=policy.free_days_after_booking):
        return CancellationQuote(True, 0, total, "free_after_booking")
    if tier_percent is not None:
        fee = percent_of(ticket_amount, tier_percent)
        return CancellationQuote(True, fee, total - fee, f"tier_{tier_percent}")
    fee = min(policy.fixed_fee * ticket_count, percent_of(ticket_amount, 10))
    return CancellationQuote(True, fee, total - fee, "fixed_fee")
