"""Messaging: the outbox relayed to a broker (or consumed in-process), idempotent consumers,
retries through a retry topic, dead letters. See docs/messaging.md."""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import TYPE_CHECKING

from boxoffice.platform.messaging.consumers import (
    AlreadyProcessed,
    Consumer,
    Delivery,
    Dispatcher,
    PermanentFailure,
)
from boxoffice.platform.messaging.envelope import Envelope

if TYPE_CHECKING:
    from boxoffice.platform.runtime import Runtime

__all__ = [
    "AlreadyProcessed",
    "Consumer",
    "Delivery",
    "Dispatcher",
    "Envelope",
    "PermanentFailure",
    "startup",
]


def registered_consumers(runtime: Runtime) -> list[Consumer]:
    return runtime.consumers


async def startup(runtime: Runtime, stack: AsyncExitStack) -> None:
    """App start: a broker readiness check when a broker is configured; without one, the
    embedded bus consumes the outbox in-process (only when background loops run)."""
    from boxoffice.platform.messaging.worker import InProcessBus, make_broker

    if runtime.settings.broker_url:
        probe = make_broker(runtime)
        connected = False

        async def broker_ready() -> bool:
            nonlocal connected
            if not connected:
                await probe.start()
                connected = True
            return await probe.ping()

        async def close_probe() -> None:
            if connected:
                await probe.close()

        runtime.readiness["broker"] = broker_ready
        stack.push_async_callback(close_probe)
        return
    bus = InProcessBus(runtime, registered_consumers(runtime))
    runtime.adapters.put(bus)
    if runtime.background:
        bus.start()
        stack.push_async_callback(bus.stop)
