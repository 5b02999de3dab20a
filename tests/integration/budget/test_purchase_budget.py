"""The statement budget of a purchase: what each step may cost, counted, not timed.

A flash sale's checkout is as fast as its round trips allow: each database round trip
and Redis command is paid for in Python on the API process. These tests count them per
step of a purchase (hold won, hold refused, order placed, order replayed, order paid
with the internal provider) and of a paid order's cancellation, on PostgreSQL and SQLite
with Redis, and fail when a step needs more than its budget (docs/checkout.md says why
each budget is what it is).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from boxoffice.platform.config import Settings
from boxoffice.platform.runtime import Runtime
from boxoffice.seating.adapters import seating_of
from tests.support.api import API, customer
from tests.support.budget import Cost, counting
from tests.support.catalog import open_show
from tests.support.redis_server import PrivateRedis, private_redis

pytestmark = pytest.mark.parametrize("backend", ["sqlite", "postgresql"])


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[PrivateRedis]:
    with private_redis(tmp_path) as server:
        yield server


@pytest.fixture
def settings(make_settings: Callable[..., Settings], redis_server: PrivateRedis) -> Settings:
    return make_settings(redis_url=redis_server.url)


# (database round trips, data statements, Redis commands, Redis round trips) each step may
# cost at most. BEGIN and COMMIT are round trips of their own; docs/checkout.md says what
# each one is. Every step's first Redis command is the caller's current authorisation (one
# MGET: their role now and whether their login ended, docs/security.md sections 1 and 2).
# Commands sent side by side share a round trip on the turn's auto-pipeline.
BUDGETS = {
    "hold": (6, 4, 4, 4),  # BEGIN, buyer lock, claim, hold, outbox, COMMIT; mark, sale info, settle
    "hold_refused": (0, 0, 2, 2),  # the board's mark, nothing else
    "order": (5, 3, 1, 1),  # BEGIN, hold attached, order, its lines, COMMIT
    "order_replayed": (7, 5, 1, 1),  # the hold refuses, the key finds the order, read back
    # claim (4), then settle (8); the provider's capture (its link and counter side by side),
    # sale info, board, line
    "pay": (12, 8, 7, 5),
    # a paid order cancelled by its buyer (internal provider): the refund claimed under the
    # order's lock in the transaction that found it paid (13), sent to the provider without
    # reading it back, booked (16: payment, refund, seats, order, outbox), the order read
    # back (6); the caller's authorisation, the provider's refund, the seats on the board
    "cancel": (35, 29, 9, 8),
}


async def test_each_step_of_a_purchase_stays_within_its_budget(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    show = await open_show(client, runtime, rows=2, seats_per_row=10)
    fan, rival = await customer(client), await customer(client, "rival")
    seat = show.seat_ids[3]
    holds = f"{API}/shows/{show.show_id}/holds"
    # The process has seen the show: its layout, sale info and seat board are loaded.
    warm = await client.post(holds, json={"seat_ids": [show.seat_ids[0]]}, headers=rival.headers)
    assert warm.status_code == 201
    board = seating_of(runtime).board
    for _ in range(200):  # the first hold found the board cold and loads it meanwhile
        if await board.version(show.show_id) is not None:
            break
        await asyncio.sleep(0.01)
    costs: dict[str, Cost] = {}
    async with counting(runtime.engine) as costs["hold"]:
        held = await client.post(holds, json={"seat_ids": [seat]}, headers=fan.headers)
    assert held.status_code == 201, held.text
    async with counting(runtime.engine) as costs["hold_refused"]:
        refused = await client.post(holds, json={"seat_ids": [seat]}, headers=rival.headers)
    assert refused.status_code == 409
    key = {"Idempotency-Key": uuid.uuid4().hex}
    body = {"hold_id": held.json()["hold_id"], "payment_provider": "internal"}
    async with counting(runtime.engine) as costs["order"]:
        order = await client.post(f"{API}/orders", json=body, headers=fan.headers | key)
    assert order.status_code == 201, order.text
    async with counting(runtime.engine) as costs["order_replayed"]:
        again = await client.post(f"{API}/orders", json=body, headers=fan.headers | key)
    assert again.status_code == 200, again.text
    assert again.json()["id"] == order.json()["id"]
    async with counting(runtime.engine) as costs["pay"]:
        paid = await client.post(f"{API}/orders/{order.json()['id']}/pay", headers=fan.headers)
    assert paid.status_code == 200, paid.text
    assert paid.json()["status"] == "paid"
    assert len(paid.json()["ticket_ids"]) == 1
    async with counting(runtime.engine) as costs["cancel"]:
        cancelled = await client.post(
            f"{API}/orders/{order.json()['id']}/cancel", json={}, headers=fan.headers
        )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "refunded"
    over = {
        step: str(cost)
        for step, cost in costs.items()
        if cost.round_trips > BUDGETS[step][0]
        or cost.statements > BUDGETS[step][1]
        or cost.redis > BUDGETS[step][2]
        or cost.redis_round_trips > BUDGETS[step][3]
    }
    assert not over, "\n".join(f"{step}: {cost}" for step, cost in over.items())
