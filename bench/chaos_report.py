"""The chaos runs' figures: counts after the sale, errors around each fault, time back to rate.

Used by bench/chaos.py; each function takes the buyers' results (bench/flash/buyer.py's
``BuyerResult`` as dicts) and the faults injected (moments in seconds since the sale opened).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.invariants import PAID_ORDERS_WITHOUT_THEIR_TICKETS

RETRYABLE = (502, 503, 504)
BACK_TO_RATE = 0.8  # "back to its rate": 5 s selling at least 80 % of the rate before the fault
RATE_WINDOW = 5.0
BASELINE_SECONDS = 20.0

# Every order once paid needs its confirmation; every one cancelled after that, its notice.
# Users buy one order each in the sale, so e-mails are matched to orders per user.
EMAILS_MISSING = """
    SELECT coalesce(sum(greatest(0, o.wanted - coalesce(e.sent, 0))), 0) FROM (
        SELECT user_id, count(*) AS wanted FROM orders_orders
        WHERE show_id = :show AND paid_at IS NOT NULL
          AND (CAST(:template AS text) = 'order_paid' OR status IN ('cancelled', 'refunded',
               'partially_refunded'))
        GROUP BY user_id
    ) AS o LEFT JOIN (
        SELECT user_id, count(*) AS sent FROM notifications_emails
        WHERE template = :template GROUP BY user_id
    ) AS e ON e.user_id = o.user_id"""


async def emails_and_tickets(
    database_url: str, show_id: str, wait_seconds: float
) -> dict[str, Any]:
    """Paid orders without their tickets and e-mails missing, waited for while the worker
    catches up (at most ``wait_seconds``)."""
    from sqlalchemy import text

    from boxoffice.platform.db import create_engine

    engine = create_engine(database_url, pool_size=1)
    started = time.monotonic()
    try:
        while True:
            async with engine.connect() as conn:
                counts = {}
                for name, sql, params in (
                    ("paid_orders_without_tickets", PAID_ORDERS_WITHOUT_THEIR_TICKETS, {}),
                    ("confirmations_missing", EMAILS_MISSING, {"template": "order_paid"}),
                    ("refund_notices_missing", EMAILS_MISSING, {"template": "order_cancelled"}),
                ):
                    row = await conn.execute(text(sql), {"show": show_id, **params})
                    counts[name] = int(row.scalar() or 0)
                counts["emails_missing"] = (
                    counts["confirmations_missing"] + counts["refund_notices_missing"]
                )
                waited = time.monotonic() - started
                if not any(counts.values()) or waited > wait_seconds:
                    # read on the connection still open (after its block it is closed)
                    backlog = await _mail_backlog(conn) if counts["emails_missing"] else {}
                    return {**counts, "waited_for_worker_seconds": round(waited, 1), **backlog}
            await asyncio.sleep(2)
    finally:
        await engine.dispose()


async def _mail_backlog(conn: Any) -> dict[str, Any]:
    """Where e-mails still missing may be: a retry not yet due, a dead letter, an event not
    relayed, a claim a dead worker left — so a report tells "late" from "lost"."""
    from sqlalchemy import text

    queries = {
        "retries_waiting": "SELECT consumer, attempt, due_at, last_error FROM platform_retries",
        "dead_letters": "SELECT consumer, attempts, last_error FROM platform_dead_letters",
        "events_not_relayed": "SELECT event_type FROM platform_outbox WHERE published_at IS NULL",
        "claims_open": "SELECT consumer, claimed_until FROM platform_processed_events "
        "WHERE claim IS NOT NULL",
    }
    backlog: dict[str, Any] = {}
    for name, sql in queries.items():
        rows = (await conn.execute(text(sql))).all()
        backlog[name] = [[str(v)[:200] for v in row] for row in rows[:20]]
    return {"mail_backlog": backlog}


def sales(results: list[dict[str, Any]]) -> list[tuple[float, int]]:
    """(moment paid, tickets) of every paid order, in order."""
    return sorted((r["paid_at"], len(r["seats"])) for r in results if r["paid_at"] is not None)


def _rate(sold: list[tuple[float, int]], start: float, end: float) -> float:
    return sum(n for t, n in sold if start <= t < end) / max(end - start, 1e-9)


def back_to_rate(sold: list[tuple[float, int]], at: float) -> dict[str, Any]:
    """The rate before ``at`` and how long after it until a 5 s window sold at 80 % of it."""
    first = sold[0][0] if sold else at
    last = sold[-1][0] if sold else at
    since = max(first, at - BASELINE_SECONDS)
    baseline = _rate(sold, since, at) if at - since >= 2 else None
    if not baseline and last - first >= RATE_WINDOW:  # nothing sold yet: the sale's own rate
        baseline = _rate(sold, first, last)
    found = None
    if baseline:
        t = at
        while t + RATE_WINDOW <= last + 0.5:
            if _rate(sold, t, t + RATE_WINDOW) >= BACK_TO_RATE * baseline:
                found = round(t - at, 1)
                break
            t += 0.5
    return {
        "tickets_per_second_before": round(baseline, 2) if baseline else None,
        "tickets_per_second_in_the_10s_after": round(_rate(sold, at, at + 10), 2),
        "seconds_until_back_to_rate": found,
        "back_to_rate_means": f"a {RATE_WINDOW:.0f} s window selling >= {BACK_TO_RATE:.0%}"
        " of the rate of the 20 s before the fault (of the whole sale if none sold before)",
    }


def admissions_around(results: list[dict[str, Any]], at: float) -> dict[str, Any]:
    """Admissions from the line around ``at``: the rate before and the longest pause after."""
    admitted = sorted(r["admitted_at"] for r in results if r["admitted_at"] is not None)
    before = [t for t in admitted if at - BASELINE_SECONDS <= t < at]
    after = [t for t in admitted if at <= t <= at + 30]
    gaps = [b - a for a, b in zip([at, *after], after, strict=False)]
    return {
        "admitted_per_second_before": round(len(before) / BASELINE_SECONDS, 2),
        "admitted_in_the_10s_after": sum(1 for t in after if t < at + 10),
        "longest_pause_in_admissions_after_seconds": round(max(gaps), 2) if gaps else None,
    }


def _count(problems: list[tuple[float, str, int, bool]]) -> dict[str, Any]:
    by_status = Counter("connection_failed" if p[2] == 0 else str(p[2]) for p in problems)
    by_step = Counter(p[1] for p in problems)
    return {
        "answers": len(problems),
        "by_status": dict(sorted(by_status.items())),
        "by_step": dict(sorted(by_step.items())),
        "503_without_retry_after": sum(1 for p in problems if p[2] == 503 and not p[3]),
    }


def analyse(results: list[dict[str, Any]], faults: list[dict[str, Any]]) -> dict[str, Any]:
    problems = [tuple(p) for r in results for p in r.get("problems", [])]
    sold = sales(results)
    per_fault = []
    for fault in faults:
        recovery = {**back_to_rate(sold, fault["at"]), **admissions_around(results, fault["at"])}
        back = fault["back_at"] + (recovery["seconds_until_back_to_rate"] or 0)
        window = (fault["at"] - 1, max(back, fault["back_at"]) + 15)
        seen = [p for p in problems if window[0] <= p[0] <= window[1]]
        per_fault.append(
            {
                **fault,
                **recovery,
                "errors_buyers_saw_during_the_fault": {
                    "window_seconds": [round(window[0], 1), round(window[1], 1)],
                    **_count(seen),  # type: ignore[arg-type]
                    "buyers": len(
                        {
                            r["user_id"]
                            for r in results
                            for p in r.get("problems", [])
                            if window[0] <= p[0] <= window[1]
                        }
                    ),
                },
            }
        )
    server_errors = sum(1 for p in problems if p[2] >= 500 and p[2] not in RETRYABLE)
    return {
        "faults": per_fault,
        "errors_buyers_saw_in_the_whole_sale": _count(problems),  # type: ignore[arg-type]
        "server_errors": server_errors,
        "places_lost_and_joined_again": sum(r.get("places_lost", 0) for r in results),
    }


def plot(
    results: list[dict[str, Any]],
    faults: list[dict[str, Any]],
    analysis: dict[str, Any],
    out: Path,
    name: str,
) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sold = sales(results)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 7), sharex=True, height_ratios=[3, 1])
    total, xs, ys = 0, [0.0], [0]
    for moment, count in sold:
        total += count
        xs.append(moment)
        ys.append(total)
    top.step(xs, ys, where="post", label="tickets paid (cumulative)")
    rate_axis = top.twinx()
    horizon = int(max(xs)) + 2
    per_second = [_rate(sold, s, s + 1) for s in range(horizon)]
    rate_axis.bar(range(horizon), per_second, width=1.0, alpha=0.25, color="tab:green")
    rate_axis.set_ylabel("tickets paid per second")
    problems = [p for r in results for p in r.get("problems", [])]
    per_status = Counter((int(p[0]), "connection" if p[2] == 0 else str(p[2])) for p in problems)
    for status in sorted({s for _t, s in per_status}):
        counts = [per_status.get((s, status), 0) for s in range(horizon)]
        bottom.plot(range(horizon), counts, label=status, drawstyle="steps-post")
    for fault in analysis["faults"]:
        for axis in (top, bottom):
            axis.axvspan(
                fault["at"], max(fault["back_at"], fault["at"] + 0.3), color="red", alpha=0.3
            )
        top.annotate(
            f"{fault['fault']} fault",
            (fault["at"], total * 0.05),
            color="red",
            rotation=90,
            va="bottom",
            ha="right",
        )
        if fault["seconds_until_back_to_rate"] is not None:
            back = fault["at"] + fault["seconds_until_back_to_rate"]
            top.axvline(back, color="tab:orange", linestyle="--", linewidth=1)
    top.set_ylabel("tickets paid")
    top.set_title(f"Flash sale with a {name} fault: sales over time (fault in red)")
    top.grid(alpha=0.3)
    top.legend(loc="upper left")
    bottom.set_xlabel("seconds since the sale opened")
    bottom.set_ylabel("failed answers / s")
    if per_status:
        bottom.legend(loc="upper right", fontsize="small")
    bottom.grid(alpha=0.3)
    fig.savefig(out / "sales_over_time.png", dpi=110, bbox_inches="tight")
    plt.close("all")
    return ["sales_over_time.png"]
