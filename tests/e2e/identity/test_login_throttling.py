"""Failed sign-ins slow the guesser down, never lock the owner out (issue 16, defect 6)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI

from boxoffice.platform.clock import FrozenClock
from tests.support.api import assert_problem, log_in, sign_up, unique_email

ATTACKER, OWNER = ("203.0.113.10", 50000), ("198.51.100.7", 40000)


@pytest.fixture
async def owner_client(app: FastAPI, client: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    """The account owner, on the same app but from another address than ``client``."""
    transport = httpx.ASGITransport(app=app, client=OWNER)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def test_a_strangers_failures_do_not_lock_the_owner_out(
    client: httpx.AsyncClient, owner_client: httpx.AsyncClient
) -> None:
    email = unique_email("victim")
    assert (await sign_up(owner_client, email)).status_code == 201
    refused = 0
    for _ in range(12):
        answer = await log_in(client, email, "wrong-password")
        assert answer.status_code in (401, 429)
        refused += answer.status_code == 429
    assert refused >= 5  # the guesser is slowed down from the fifth failure or so
    blocked = await log_in(client, email, "wrong-password")
    assert_problem(blocked, 429, "rate_limited")
    assert int(blocked.headers["Retry-After"]) > 0
    # The owner, from their own address, signs in with the right password at once.
    owner = await log_in(owner_client, email)
    assert owner.status_code == 200, owner.text
    # A failure of the owner's own does not reset the guesser's delay.
    assert_problem(await log_in(client, email), 429, "rate_limited")


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime.now(UTC))


async def test_the_delay_doubles_with_each_further_failure(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    """Five failures are free; then each failure, once its delay is waited out, doubles the
    next delay (Retry-After says how long); refused attempts are not counted."""
    email = unique_email("victim")
    assert (await sign_up(client, email)).status_code == 201
    for _ in range(5):
        assert (await log_in(client, email, "wrong-password")).status_code == 401
    delays = []
    for _ in range(3):
        refused = await log_in(client, email, "wrong-password")
        assert_problem(refused, 429, "rate_limited")
        assert_problem(await log_in(client, email, "wrong-password"), 429, "rate_limited")
        delays.append(int(refused.headers["Retry-After"]))
        clock.advance(timedelta(seconds=delays[-1]))
        assert (await log_in(client, email, "wrong-password")).status_code == 401
    assert delays == [10, 20, 40]
    clock.advance(timedelta(seconds=80))
    assert (await log_in(client, email)).status_code == 200  # the owner, after the wait
    assert (await log_in(client, email, "wrong-password")).status_code == 401  # forgotten


async def test_concurrent_guesses_do_not_slip_through_together(
    client: httpx.AsyncClient,
) -> None:
    email = unique_email("victim")
    assert (await sign_up(client, email)).status_code == 201
    answers = await asyncio.gather(*(log_in(client, email, "wrong-password") for _ in range(20)))
    statuses = [answer.status_code for answer in answers]
    assert statuses.count(401) <= 6  # the five free guesses and one holding the slot
    assert statuses.count(429) >= 14
