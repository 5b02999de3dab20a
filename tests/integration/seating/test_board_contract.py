"""One contract for both seat boards: the in-process one and the Redis (Lua) one."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from boxoffice.platform.redisconn import command_client
from boxoffice.seating.board import MemoryBoard, RedisBoard, SeatBoard, board_key
from boxoffice.seating.domain import Mark
from tests.support import backends

NOW = 1_800_000_000_000
SHOW = "show-1"


@pytest.fixture(params=["memory", "redis", "redis-cluster"])
async def board(request: pytest.FixtureRequest) -> AsyncIterator[SeatBoard]:
    if request.param == "memory":
        yield MemoryBoard()
        return
    url = backends.redis_url_for(request.param)
    client = command_client(url, max_connections=16)
    prefix = f"bo-test-{uuid.uuid4().hex[:12]}"
    try:
        yield RedisBoard(client, prefix)
    finally:
        await backends.clean_redis(prefix, url)
        await client.aclose()


def held(owner: str, ms: int = 60_000) -> Mark:
    return Mark("h", owner, NOW + ms)


async def test_a_board_nobody_loaded_is_cold(board: SeatBoard) -> None:
    assert (await board.mark(SHOW, ["a"], held("x"), NOW)).status == "cold"
    assert await board.version(SHOW) is None
    assert await board.read(SHOW) is None


async def test_marks_are_all_or_nothing_and_name_the_taken_seats(board: SeatBoard) -> None:
    await board.load(SHOW, [("b", held("old"))])
    outcome = await board.mark(SHOW, ["a", "b", "c"], held("new"), NOW)
    assert (outcome.status, outcome.taken) == ("taken", ("b",))
    read = await board.read(SHOW)
    assert read is not None
    assert set(read[1]) == {"b"}
    assert (await board.mark(SHOW, ["a", "c"], held("new"), NOW)).status == "ok"
    assert (await board.mark(SHOW, ["c"], held("third"), NOW)).taken == ("c",)


async def test_an_expired_mark_frees_its_seat_but_a_sold_one_never(board: SeatBoard) -> None:
    await board.load(SHOW, [("a", held("old", ms=10)), ("b", Mark("s", "sold", 0))])
    assert (await board.mark(SHOW, ["a"], held("new"), NOW + 10)).status == "ok"
    assert (await board.mark(SHOW, ["b"], held("new"), NOW + 10**9)).taken == ("b",)


async def test_unmark_frees_only_the_owners_seats(board: SeatBoard) -> None:
    await board.load(SHOW, [])
    await board.mark(SHOW, ["a", "b"], held("one"), NOW)
    await board.unmark(SHOW, ["a", "b"], "two")
    assert (await board.mark(SHOW, ["a"], held("two"), NOW)).taken == ("a",)
    await board.unmark(SHOW, ["a", "b"], "one")
    assert (await board.mark(SHOW, ["a", "b"], held("two"), NOW)).status == "ok"


async def test_settle_records_what_the_database_decided_and_bumps_the_version(
    board: SeatBoard,
) -> None:
    await board.load(SHOW, [])
    first = await board.version(SHOW)
    await board.mark(SHOW, ["a"], Mark("p", "hold", NOW + 15_000), NOW)
    await board.settle(SHOW, ["a"], Mark("s", "hold", 0))
    version = await board.version(SHOW)
    assert first is not None
    assert version is not None
    assert version > first
    read = await board.read(SHOW)
    assert read is not None
    assert read[1] == {"a": Mark("s", "hold", 0)}


async def test_loading_never_overwrites_newer_marks(board: SeatBoard) -> None:
    await board.settle(SHOW, ["a"], held("fresh"))  # a hold committed while the board was cold
    assert await board.version(SHOW) is None  # still cold: not loaded from the database
    await board.load(SHOW, [("a", held("stale")), ("b", held("other"))])
    read = await board.read(SHOW)
    assert read is not None
    assert read[1]["a"].owner == "fresh"
    assert read[1]["b"].owner == "other"


async def test_a_release_on_a_cold_board_outlives_a_load_from_an_older_read(
    board: SeatBoard,
) -> None:
    stale = [("a", held("gone")), ("b", held("gone")), ("c", held("kept"))]  # read, then...
    await board.settle(SHOW, ["b", "c"], held("gone"))  # (its commit reached the cold board)
    await board.settle(SHOW, ["c"], held("kept"))  # (c went to another hold since)
    await board.release(SHOW, ["a", "b", "c"], "gone")  # ...the hold was released
    assert await board.version(SHOW) is None
    await board.load(SHOW, stale)
    assert (await board.mark(SHOW, ["a", "b"], held("next"), NOW)).status == "ok"
    assert (await board.mark(SHOW, ["c"], held("next"), NOW)).taken == ("c",)


async def test_a_release_on_a_ready_board_frees_the_owners_seats(board: SeatBoard) -> None:
    await board.load(SHOW, [("a", held("one")), ("b", held("two"))])
    await board.release(SHOW, ["a", "b"], "one")
    read = await board.read(SHOW)
    assert read is not None
    assert set(read[1]) == {"b"}


async def test_a_second_load_leaves_a_ready_board_alone(board: SeatBoard) -> None:
    await board.load(SHOW, [("a", held("one"))])
    await board.release(SHOW, ["a"], "one")  # released after both loaders read
    await board.load(SHOW, [("a", held("one")), ("b", held("two"))])  # the slower loader
    read = await board.read(SHOW)
    assert read is not None
    assert read[1] == {}


async def test_a_large_load_makes_the_board_ready_once_complete(board: SeatBoard) -> None:
    marks = [(f"s{i}", held(f"h{i}")) for i in range(5000)]
    await board.load(SHOW, marks)
    read = await board.read(SHOW)
    assert read is not None
    assert len(read[1]) == 5000


async def test_forgetting_the_board_makes_it_cold_again(board: SeatBoard) -> None:
    await board.load(SHOW, [("a", held("x"))])
    await board.forget(SHOW)
    assert await board.version(SHOW) is None
    assert (await board.mark(SHOW, ["a"], held("y"), NOW)).status == "cold"


def test_board_keys_are_hash_tagged_by_show() -> None:
    assert board_key("bo", "abc") == "bo:seating:{abc}:board"


async def test_concurrent_marks_give_each_seat_to_one_attempt(board: SeatBoard) -> None:
    await board.load(SHOW, [])
    seats = [f"s{i}" for i in range(12)]
    requests = [seats[i : i + 1 + i % 3] for i in range(len(seats))] * 3  # overlapping
    outcomes = await asyncio.gather(
        *(board.mark(SHOW, wanted, held(f"o{i}"), NOW) for i, wanted in enumerate(requests))
    )
    winners = {
        seat: f"o{i}"
        for i, (wanted, outcome) in enumerate(zip(requests, outcomes, strict=True))
        if outcome.status == "ok"
        for seat in wanted
    }
    won = [s for w, o in zip(requests, outcomes, strict=True) if o.status == "ok" for s in w]
    assert len(won) == len(set(won)), "two attempts marked one seat"
    for wanted, outcome in zip(requests, outcomes, strict=True):
        assert outcome.status in ("ok", "taken")
        if outcome.status == "taken":
            assert outcome.taken
            assert set(outcome.taken) <= set(wanted)
    read = await board.read(SHOW)
    assert read is not None
    assert {seat: mark.owner for seat, mark in read[1].items()} == winners
