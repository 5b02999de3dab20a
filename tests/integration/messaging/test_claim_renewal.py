"""A delivery's claim lives as long as its handler runs, and not much longer after a
crash: a slow act keeps it (another delivery of the event is told busy), a claim nobody
renews lapses and the next delivery takes the event over (messaging/claim_keeper.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from boxoffice.platform.config import Settings
from boxoffice.platform.messaging import Consumer, Delivery, Dispatcher
from boxoffice.platform.messaging.consumers import DeliveryBusy
from boxoffice.platform.messaging.decoding import decode
from boxoffice.platform.runtime import build_runtime
from tests.conftest import BACKENDS
from tests.integration.messaging.test_dispatcher import envelope
from tests.support.messaging_events import SeatCounted

CLAIM_SECONDS = 0.6


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_slow_act_keeps_its_claim_and_an_abandoned_claim_lapses(
    make_settings: Callable[..., Settings],
) -> None:
    runtime = build_runtime(make_settings(consumer_claim_seconds=CLAIM_SECONDS))
    started, release = asyncio.Event(), asyncio.Event()
    acts: list[int] = []

    async def send(event: SeatCounted, delivery: Delivery) -> None:
        started.set()
        await release.wait()  # an SMTP server taking its time

        async def act() -> None:
            acts.append(event.n)

        async with delivery.uow() as uow:
            await delivery.commit_after(uow, act)

    consumer = Consumer("test.slow_sender", SeatCounted, send, acts_outside_db=True)
    dispatcher = Dispatcher(runtime)
    slow = envelope(1)
    try:
        first = asyncio.create_task(dispatcher._deliver(consumer, decode(consumer, slow)))
        await asyncio.wait_for(started.wait(), 10)
        await asyncio.sleep(CLAIM_SECONDS * 3)  # three claims' worth into the act
        with pytest.raises(DeliveryBusy):  # the claim was renewed: nobody takes it over
            await asyncio.wait_for(dispatcher._deliver(consumer, decode(consumer, slow)), 10)
        release.set()
        assert await asyncio.wait_for(first, 10) == "processed"
        assert acts == [1]

        # A worker that took a claim and died: nothing renews it, so it lapses.
        abandoned = envelope(2)
        dead = Delivery(runtime, consumer, abandoned)
        assert await dispatcher._claim(dead) is None
        await asyncio.sleep(CLAIM_SECONDS * 1.5)
        outcome = await asyncio.wait_for(
            dispatcher._deliver(consumer, decode(consumer, abandoned)), 10
        )
        assert outcome == "processed"
        assert acts == [1, 2]
    finally:
        release.set()
        await runtime.close()
