"""1,000 hold attempts through two real server processes sharing the database (and Redis):
every seat is held at most once, counted in the database; also with Redis failing, and
with the shop choosing the seats (best available)."""

from __future__ import annotations

import asyncio
import random
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis import Redis

from boxoffice.platform.config import Settings
from boxoffice.platform.redisconn import command_client
from boxoffice.platform.runtime import Runtime
from boxoffice.seating.board import board_key
from tests.e2e.seating.conftest import bearer_tokens, contended_requests, server_env, servers
from tests.support import backends
from tests.support.api import API
from tests.support.catalog import ShowSetup, open_show
from tests.support.seating import assert_no_double_hold

ATTEMPTS = 1000


async def hammer(
    urls: list[str],
    show: ShowSetup,
    tokens: list[str],
    requests: list[list[str]],
    bodies: list[dict[str, Any]] | None = None,
) -> list[tuple[int, dict[str, Any], list[str]]]:
    """Each request holds its seats (or sends its body instead, with no seats of its own)."""
    # Idle connections are dropped well before uvicorn's 5 s keep-alive timeout, so a busy
    # client never sends on a connection the server is closing.
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64, keepalive_expiry=1.0)
    clients = [httpx.AsyncClient(base_url=u, timeout=60, limits=limits) for u in urls]

    async def one(i: int, seats: list[str]) -> tuple[int, dict[str, Any], list[str]]:
        response = await clients[i % len(clients)].post(
            f"{API}/shows/{show.show_id}/holds",
            json=bodies[i] if bodies else {"seat_ids": seats},
            headers={"Authorization": f"Bearer {tokens[i]}"},
        )
        return response.status_code, response.json(), seats

    requests = requests or [[] for _ in bodies or ()]
    try:
        return await asyncio.gather(*(one(i, seats) for i, seats in enumerate(requests)))
    finally:
        for client in clients:
            await client.aclose()


async def judge(
    runtime: Runtime, show: ShowSetup, outcomes: list[tuple[int, dict[str, Any], list[str]]]
) -> Counter[int]:
    statuses = Counter(status for status, _, _ in outcomes)
    won = [seat for status, body, _ in outcomes if status == 201 for seat in body["seat_ids"]]
    assert len(won) == len(set(won)), "two answers of 201 share a seat"
    for status, body, seats in outcomes:
        if status == 409:
            assert body["code"] == "seat_unavailable"
            assert set(body["seat_ids"]) <= set(seats)
        elif status == 503:
            assert body["code"] == "service_unavailable"
    async with runtime.uow() as uow:
        held = await assert_no_double_hold(uow, show.show_id, runtime.clock.now())
    assert held == len(won)
    assert statuses[201] > 0
    assert statuses[409] > 0
    return statuses


@pytest.mark.slow
@pytest.mark.parametrize(
    ("backend", "use_redis"),
    [("postgresql", True), ("mariadb", True), ("sqlite", False), ("postgresql", "cluster")],
)
async def test_a_thousand_attempts_on_two_servers_hold_each_seat_at_most_once(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings, tmp_path: Path
) -> None:
    show = await open_show(client, runtime, rows=5, seats_per_row=20)
    assert len(show.seat_ids) == 100
    env = server_env(settings)
    tokens = bearer_tokens(runtime, ATTEMPTS)
    requests = contended_requests(show.seat_ids, ATTEMPTS, seed=5)
    with servers([env, env], tmp_path) as urls:
        outcomes = await hammer(urls, show, tokens, requests)
    statuses = await judge(runtime, show, outcomes)
    assert set(statuses) <= {201, 409}, statuses
    if settings.redis_url:  # the servers' fast path ran on this Redis (or cluster)
        client = command_client(settings.redis_url, max_connections=2)
        try:
            assert await client.exists(board_key(settings.redis_prefix, show.show_id))
        finally:
            await client.aclose()


@pytest.mark.slow
@pytest.mark.parametrize(("backend", "use_redis"), [("postgresql", True)])
async def test_redis_losing_the_shows_keys_mid_race_never_double_holds(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings, tmp_path: Path
) -> None:
    show = await open_show(client, runtime, rows=5, seats_per_row=20)
    env = server_env(settings)
    tokens = bearer_tokens(runtime, ATTEMPTS)
    requests = contended_requests(show.seat_ids, ATTEMPTS, seed=9)
    key = board_key(settings.redis_prefix, show.show_id)
    racing_done = threading.Event()
    deleted: list[int] = []

    def delete_keys_until_done() -> None:  # a thread: the test's loop is busy racing
        redis = Redis.from_url(backends.REDIS_URL)
        try:
            while not racing_done.wait(0.01):
                deleted.append(redis.delete(key))
        finally:
            redis.close()

    with servers([env, env], tmp_path) as urls:
        deleter = threading.Thread(target=delete_keys_until_done)
        deleter.start()
        try:
            outcomes = await hammer(urls, show, tokens, requests)
        finally:
            racing_done.set()
            deleter.join()
    assert sum(deleted) > 0, "the race ended before the keys could be deleted"
    statuses = await judge(runtime, show, outcomes)
    assert set(statuses) <= {201, 409, 503}, statuses


@pytest.mark.slow
@pytest.mark.parametrize(("backend", "use_redis"), [("postgresql", True)])
async def test_a_server_whose_redis_is_dead_still_never_double_holds(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings, tmp_path: Path
) -> None:
    show = await open_show(client, runtime, rows=5, seats_per_row=20)
    healthy = server_env(settings)
    cut_off = server_env(settings, BOXOFFICE_REDIS_URL="redis://127.0.0.1:1/0")
    tokens = bearer_tokens(runtime, ATTEMPTS)
    requests = contended_requests(show.seat_ids, ATTEMPTS, seed=13)
    with servers([healthy, cut_off], tmp_path) as urls:
        outcomes = await hammer(urls, show, tokens, requests)
    statuses = await judge(runtime, show, outcomes)
    assert set(statuses) <= {201, 409, 503}, statuses


@pytest.mark.slow
@pytest.mark.parametrize(
    ("backend", "use_redis"), [("postgresql", True), ("sqlite", False), ("postgresql", "cluster")]
)
async def test_one_user_on_eight_devices_across_two_servers_gets_at_most_four_seats(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings, tmp_path: Path
) -> None:
    show = await open_show(client, runtime, max_tickets_per_user=4)
    token = bearer_tokens(runtime, 1)[0]
    pairs = [show.seat_ids[i : i + 2] for i in range(0, 16, 2)]
    env = server_env(settings)
    with servers([env, env], tmp_path) as urls:
        outcomes = await hammer(urls, show, [token] * 8, pairs)
    statuses = Counter(status for status, _, _ in outcomes)
    assert statuses[201] == 2, statuses
    assert statuses[422] == 6
    assert {b["code"] for s, b, _ in outcomes if s == 422} == {"purchase_limit_exceeded"}
    async with runtime.uow() as uow:
        assert await assert_no_double_hold(uow, show.show_id, runtime.clock.now()) == 4


@pytest.mark.slow
@pytest.mark.parametrize(("backend", "use_redis"), [("postgresql", True), ("sqlite", False)])
async def test_best_available_holds_on_two_servers_share_no_seat_and_sit_together(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings, tmp_path: Path
) -> None:
    show = await open_show(client, runtime, rows=5, seats_per_row=20)
    place = {
        seat["id"]: seat
        for seat in (await client.get(f"{API}/shows/{show.show_id}/seats")).json()["seats"]
    }
    env = server_env(settings)
    count = 300  # asking for ~750 seats of 100
    rng = random.Random(21)
    bodies = [{"best_available": {"quantity": rng.randint(1, 4)}} for _ in range(count)]
    with servers([env, env], tmp_path) as urls:
        outcomes = await hammer(urls, show, bearer_tokens(runtime, count), [], bodies)
    statuses = await judge(runtime, show, outcomes)
    assert set(statuses) <= {201, 409}, statuses
    for (status, body, _), asked in zip(outcomes, bodies, strict=True):
        if status == 409:
            assert body["seat_ids"] == []
            continue
        seats = [place[seat_id] for seat_id in body["seat_ids"]]
        assert len(seats) == asked["best_available"]["quantity"]
        assert len({(s["section"], s["row"], s["grade"]) for s in seats}) == 1
        numbers = sorted(int(s["number"]) for s in seats)
        assert numbers == list(range(numbers[0], numbers[0] + len(numbers))), numbers
    # Runs of one to four of 100 seats: the crowd leaves few seats no one could sit in.
    async with runtime.uow() as uow:
        assert await assert_no_double_hold(uow, show.show_id, runtime.clock.now()) >= 90
