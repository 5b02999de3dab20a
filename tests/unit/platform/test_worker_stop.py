"""A stopping broker worker cannot hang: each step of the stop is given up after its grace."""

from __future__ import annotations

import asyncio

import pytest

from boxoffice.platform.messaging import worker


async def test_a_loop_that_ignores_the_stop_is_cancelled_after_the_grace(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(worker, "STOP_GRACE_SECONDS", 0.2)
    stop = asyncio.Event()
    stuck = asyncio.create_task(asyncio.sleep(3600), name="stuck")
    polite = asyncio.create_task(stop.wait(), name="polite")
    stop.set()
    await worker._finish([stuck, polite])
    await asyncio.sleep(0)
    assert stuck.cancelled()
    assert polite.done()
    assert not polite.cancelled()


async def test_a_broker_step_that_never_returns_is_given_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(worker, "STOP_GRACE_SECONDS", 0.2)
    never = asyncio.get_running_loop().create_future()
    await worker._bounded("close", never)
    assert never.cancelled()
