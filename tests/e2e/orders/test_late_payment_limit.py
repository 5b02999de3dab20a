"""A late payment revives a lapsed hold only within the buyer's per-show limit: counted in
the database, on every backend, sequentially and when the buyer races two payments."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest

from boxoffice.platform.clock import FrozenClock
from boxoffice.platform.runtime import Runtime
from tests.conftest import BACKENDS
from tests.stubs.kakaopay import KakaoPayStandIn
from tests.stubs.toss import TossStandIn
from tests.support.api import Caller, assert_problem
from tests.support.catalog import ShowSetup
from tests.support.orders import count_rows, new_order, pay

LIMIT = 4  # open_show's max_tickets_per_user


async def _valid_tickets(runtime: Runtime, fan: Caller) -> int:
    return await count_rows(
        runtime,
        "SELECT count(*) FROM tickets_tickets WHERE user_id = :u AND status = 'valid'",
        u=fan.id,
    )


@pytest.mark.parametrize("backend", BACKENDS[:2])
async def test_paying_a_lapsed_hold_after_buying_the_limit_elsewhere_is_refunded(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    show: ShowSetup,
    fan: Caller,
    toss: TossStandIn,
    kakaopay: KakaoPayStandIn,
) -> None:
    late = await new_order(client, fan, show, "toss", seats=LIMIT)
    clock.advance(timedelta(minutes=8))  # its hold lapses; nobody swept it
    fresh = await new_order(client, fan, show, "toss", seats=LIMIT, offset=LIMIT)
    assert (await pay(client, fan, fresh, toss, kakaopay)).status_code == 200
    refused = await pay(client, fan, late, toss, kakaopay)
    body = assert_problem(refused, 422, "purchase_limit_exceeded")
    assert (body["refunded"], body["order_status"], body["limit"]) == (True, "failed", LIMIT)
    assert await _valid_tickets(runtime, fan) == LIMIT
    assert (toss.captured, toss.refunded) == (2 * fresh["amount"], fresh["amount"])


@pytest.mark.parametrize("backend", BACKENDS[:2])
async def test_two_lapsed_holds_paid_at_once_sell_at_most_the_limit(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    show: ShowSetup,
    fan: Caller,
    toss: TossStandIn,
    kakaopay: KakaoPayStandIn,
) -> None:
    first = await new_order(client, fan, show, "toss", seats=LIMIT)
    clock.advance(timedelta(minutes=8))
    second = await new_order(client, fan, show, "toss", seats=LIMIT, offset=LIMIT)
    clock.advance(timedelta(minutes=8))  # both holds lapsed, both orders still pending
    answers = await asyncio.gather(
        pay(client, fan, first, toss, kakaopay), pay(client, fan, second, toss, kakaopay)
    )
    assert sorted(a.status_code for a in answers) == [200, 422], [a.text for a in answers]
    refused = next(a for a in answers if a.status_code == 422)
    assert assert_problem(refused, 422, "purchase_limit_exceeded")["refunded"] is True
    assert await _valid_tickets(runtime, fan) == LIMIT
