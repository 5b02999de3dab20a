"""A delivery's claim kept alive while its handler runs.

A consumer that acts outside the database claims ``(consumer, event)`` until
``consumer_claim_seconds`` from now (``Dispatcher._claim``). While the handler runs, the
claim is pushed forward every third of that, so a slow act (an SMTP server taking its
time) keeps it however long it takes, and the claim needs to outlast only a stalled
renewal. A worker killed mid-act stops renewing: its claim lapses within
``consumer_claim_seconds`` and the broker's redelivery takes the event over — an e-mail
in flight at a crash goes out a redelivery later, not after a claim sized for the
slowest act.

A renewal that fails (the database away) is logged and tried again at the next turn; if
the claim lapses meanwhile another delivery may take the event over, and the act may
happen twice (as after any crash between an act and its record).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import TYPE_CHECKING

import structlog

from boxoffice.platform.messaging.delivery import Delivery

if TYPE_CHECKING:
    from boxoffice.platform.runtime import Runtime

log = structlog.get_logger("boxoffice.messaging")
STOP_WAIT_SECONDS = 5.0  # a renewal under way when the handler ends: its one UPDATE


@asynccontextmanager
async def claim_kept(runtime: Runtime, delivery: Delivery) -> AsyncIterator[None]:
    """Renew ``delivery``'s claim in the background for as long as the block runs."""
    if delivery.claim is None:
        yield
        return
    stop = asyncio.Event()
    renewing = asyncio.create_task(_renew(runtime, delivery, stop))
    try:
        yield
    finally:
        stop.set()
        # A renewal waiting on the row the handler's own transaction holds (PostgreSQL,
        # commit_after) goes on once that transaction ends, which it has by now.
        done, _ = await asyncio.wait({renewing}, timeout=STOP_WAIT_SECONDS)
        if not done:
            renewing.cancel()


async def _renew(runtime: Runtime, delivery: Delivery, stop: asyncio.Event) -> None:
    seconds = runtime.settings.consumer_claim_seconds
    while True:
        try:
            await asyncio.wait_for(stop.wait(), timeout=seconds / 3)
            return
        except TimeoutError:
            pass
        try:
            if not await renew(runtime, delivery, seconds):
                return  # processed, or taken over: nothing left to keep
        except Exception as exc:  # retried at the next turn
            log.warning(
                "claim_renewal_failed",
                consumer=delivery.consumer.name,
                event_id=delivery.event_id,
                error=type(exc).__name__,
            )


async def renew(runtime: Runtime, delivery: Delivery, seconds: float) -> bool:
    """Push ``delivery``'s claim ``seconds`` past now; False when it holds it no more."""
    async with runtime.uow() as uow:
        until = uow.clock.now() + timedelta(seconds=seconds)
        held = await delivery.update_claimed(uow, claimed_until=until)
        await uow.commit()
    return held
