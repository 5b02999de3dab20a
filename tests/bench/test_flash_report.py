"""The flash sale's report (bench/flash_sale.py ``summarise``) from buyers' timelines: when
the show sold out, how many the door let in by then, and how many of those never paid."""

from __future__ import annotations

import argparse
from dataclasses import asdict

from bench.flash.buyer import BuyerResult
from bench.flash_sale import summarise


def _buyer(admitted_at: float | None, paid_at: float | None, seats: int = 2) -> dict[str, object]:
    result = BuyerResult(user_id="u", admitted_at=admitted_at, paid_at=paid_at)
    result.seats = [f"s{i}" for i in range(seats)] if paid_at is not None else []
    result.outcome = "bought" if paid_at is not None else "sold_out"
    return asdict(result)


def test_the_sell_out_the_admitted_and_those_of_them_without_tickets() -> None:
    results = [
        _buyer(1.0, 2.0),  # two seats paid at 2 s
        _buyer(1.5, None),  # let in, never paid
        _buyer(2.5, 3.0),  # the last two seats at 3 s: sold out
        _buyer(2.9, None),  # let in before the sell-out, never paid
        _buyer(3.5, None),  # let in after it: not counted
        _buyer(None, None),  # never let in
    ]
    args = argparse.Namespace(admit_rate=2.0)
    report = summarise(results, 4, args, wall=10.0)
    assert report["time_to_sell_out_seconds"] == 3.0
    assert report["admitted_by_sell_out"] == 4
    assert report["admitted_by_sell_out_without_tickets"] == 2
    assert report["sell_out_time_the_admit_rate_allows_seconds"] == 2.0
    assert report["sell_out_ratio_to_admit_rate_bound"] == 1.5
