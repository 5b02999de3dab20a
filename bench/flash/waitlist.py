"""The flash sale's waitlist (``--waitlist``): what fans told "sold out" do, and what a
buyer who cancels after the sell-out does.

A share of the buyers told "sold out" join the show's waitlist and look at their entry
every few seconds (as the page's stream would tell them, without holding thousands of
streams open on the load generator); when a returned seat is offered they order it from
the offer's hold and pay. They give up (leave) after ``waitlist_wait_seconds``. A buyer
who cancels waits for the sell-out first, so their seats come back to a sold-out show
and go to the waitlist — the case the waitlist exists for.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from typing import TYPE_CHECKING, Any

from bench.flash.client import Client
from bench.flash.http import call

if TYPE_CHECKING:
    from bench.flash.buyer import BuyerResult, Plan, SeatMap

API = "/api/v1"
POLL_SECONDS = 4.0


async def wait_for_sell_out(
    client: Client,
    plan: Plan,
    seat_map: SeatMap,
    result: BuyerResult,
    rng: random.Random,
) -> None:
    """Until the seat map shows no seat available (bounded), then a moment more."""
    deadline = time.monotonic() + plan.waitlist_wait_seconds
    while time.monotonic() < deadline:
        await seat_map.refresh(client, plan, result)
        if not seat_map.available:
            break
        await asyncio.sleep(2.0)
    await asyncio.sleep(rng.uniform(0, 10))


async def try_waitlist(
    client: Client,
    plan: Plan,
    auth: dict[str, str],
    result: BuyerResult,
    rng: random.Random,
) -> None:
    """Join the waitlist, wait for an offer, buy it: outcome ``bought_from_waitlist``, or
    ``waitlist_gave_up`` (left after the wait). ``sold_out`` stays when the show never
    let them join (seats still free for the whole wait: they were told to hold one)."""
    url = f"{API}/shows/{plan.show_id}/waitlist"
    deadline = time.monotonic() + plan.waitlist_wait_seconds
    entry: dict[str, Any] | None = None
    while entry is None and time.monotonic() < deadline:
        status, body, _ = await call(
            client, plan, result, "waitlist_join", "POST", url, headers=auth
        )
        if status in (200, 201):
            entry = body
        elif status == 409:  # seats_available: a hold is lapsing; the offer job frees it
            await asyncio.sleep(POLL_SECONDS)
        else:
            raise RuntimeError(f"waitlist join answered {status} {body}")
    if entry is None:
        return
    result.waitlisted = True
    entry_url = f"{API}/waitlist/{entry['id']}"
    while time.monotonic() < deadline:
        await asyncio.sleep(rng.uniform(0.5, 1.5) * POLL_SECONDS)
        status, entry, _ = await call(
            client, plan, result, "waitlist_poll", "GET", entry_url, headers=auth
        )
        if status != 200:
            raise RuntimeError(f"waitlist entry answered {status} {entry}")
        if entry["status"] == "offered":
            result.offers.append(entry["hold_id"])
            await _buy_offer(client, plan, auth, result, entry["hold_id"])
            return
        if entry["status"] != "waiting":
            raise RuntimeError(f"waitlist entry became {entry['status']}")
    await call(client, plan, result, "waitlist_leave", "DELETE", entry_url, headers=auth)
    result.outcome = "waitlist_gave_up"


async def _buy_offer(
    client: Client,
    plan: Plan,
    auth: dict[str, str],
    result: BuyerResult,
    hold_id: str,
) -> None:
    started = time.monotonic()
    headers = dict(auth, **{"Idempotency-Key": str(uuid.uuid4())})
    body = {"hold_id": hold_id, "items": [], "payment_provider": "internal"}
    url = f"{API}/orders"
    status, order, _ = await call(
        client, plan, result, "order", "POST", url, json=body, headers=headers
    )
    if status != 201:
        raise RuntimeError(f"order of an offer answered {status} {order}")
    result.order_id = order["id"]
    pay_url = f"{API}/orders/{order['id']}/pay"
    status, paid, _ = await call(client, plan, result, "pay", "POST", pay_url, headers=auth)
    if status != 200 or paid.get("status") != "paid":
        raise RuntimeError(f"pay of an offer answered {status} {paid}")
    hold_url = f"{API}/holds/{hold_id}"
    status, hold, _ = await call(
        client, plan, result, "waitlist_hold", "GET", hold_url, headers=auth
    )
    result.seats = list(hold.get("seat_ids", [])) if status == 200 else [hold_id]
    result.paid = True
    result.paid_at = time.time() - plan.started_at
    result.timed("waitlist_buy", time.monotonic() - started)
    result.outcome = "bought_from_waitlist"


async def report(database_url: str, show_id: str, results: list[dict[str, Any]]) -> dict[str, Any]:
    """What the waitlist did, counted in the database and from the buyers' outcomes.

    ``unsold_seats_while_fans_waited`` is the count that must be 0: seats still unsold at
    the end of a run in which some fan gave up waiting (a seat came back and was not offered
    to them, or not in time)."""
    from sqlalchemy import text

    from boxoffice.platform.db import create_engine

    engine = create_engine(database_url, pool_size=1)
    try:
        async with engine.connect() as conn:

            async def scalar(sql: str) -> int:
                return int((await conn.execute(text(sql), {"show": show_id})).scalar() or 0)

            unsold = await scalar(
                "SELECT count(*) FROM seating_seats WHERE show_id = :show AND status <> 'sold'"
            )
            offers = await scalar(
                "SELECT count(*) FROM seating_waitlist"
                " WHERE show_id = :show AND hold_id IS NOT NULL"
            )
            by_status: dict[str, int] = dict(
                (
                    await conn.execute(
                        text(
                            "SELECT status, count(*) FROM seating_waitlist"
                            " WHERE show_id = :show GROUP BY status"
                        ),
                        {"show": show_id},
                    )
                ).all()
            )
    finally:
        await engine.dispose()
    returned = sum(len(r["seats"]) for r in results if r["outcome"] == "bought_then_cancelled")
    resold = sum(len(r["seats"]) for r in results if r["outcome"] == "bought_from_waitlist")
    gave_up = sum(1 for r in results if r["outcome"] == "waitlist_gave_up")
    return {
        "fans_who_joined": sum(1 for r in results if r.get("waitlisted")),
        "entries_by_status": {k: int(v) for k, v in by_status.items()},
        "seats_returned_after_buying": returned,
        "offers_made": offers,
        "seats_resold_to_the_waitlist": resold,
        "fans_who_gave_up": gave_up,
        "seats_unsold_at_the_end": unsold,
        "unsold_seats_while_fans_waited": unsold if gave_up else 0,
        "fans_offered_two_seats_at_once": sum(1 for r in results if len(r.get("offers", [])) > 1),
    }
