"""Concurrent callers of one key share one call; the next caller after it starts afresh."""

from __future__ import annotations

import asyncio

import pytest

from boxoffice.platform.singleflight import SingleFlight


async def test_concurrent_callers_share_one_call_and_later_ones_call_again() -> None:
    flight: SingleFlight[str, int] = SingleFlight()
    calls = 0
    release = asyncio.Event()

    async def work() -> int:
        nonlocal calls
        calls += 1
        await release.wait()
        return calls

    waiting = [asyncio.create_task(flight.do("show", work)) for _ in range(200)]
    await asyncio.sleep(0)
    release.set()
    assert await asyncio.gather(*waiting) == [1] * 200
    assert calls == 1
    assert len(flight) == 0
    assert await flight.do("show", work) == 2  # over: the next caller does the work again


async def test_a_failure_reaches_every_caller_of_that_flight_only() -> None:
    flight: SingleFlight[str, int] = SingleFlight()
    attempts = 0

    async def failing() -> int:
        nonlocal attempts
        attempts += 1
        await asyncio.sleep(0.01)
        if attempts == 1:
            raise ConnectionError("down")
        return 7

    results = await asyncio.gather(
        *(flight.do("k", failing) for _ in range(20)), return_exceptions=True
    )
    assert all(isinstance(result, ConnectionError) for result in results)
    assert await flight.do("k", failing) == 7


async def test_a_caller_that_gives_up_does_not_cancel_the_others() -> None:
    flight: SingleFlight[str, str] = SingleFlight()

    async def slow() -> str:
        await asyncio.sleep(0.05)
        return "layout"

    impatient = asyncio.create_task(flight.do("k", slow))
    patient = asyncio.create_task(flight.do("k", slow))
    await asyncio.sleep(0.01)
    impatient.cancel()
    with pytest.raises(asyncio.CancelledError):
        await impatient
    assert await patient == "layout"


async def test_different_keys_fly_separately() -> None:
    flight: SingleFlight[str, str] = SingleFlight()

    async def echo(value: str) -> str:
        await asyncio.sleep(0)
        return value

    assert await asyncio.gather(
        flight.do("a", lambda: echo("a")), flight.do("b", lambda: echo("b"))
    ) == ["a", "b"]
