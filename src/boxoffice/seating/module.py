"""How seating plugs into the app: its adapters, the in-process sweeper and its job."""

from __future__ import annotations

import asyncio
import contextlib
from contextlib import AsyncExitStack

import structlog

from boxoffice.platform.jobs import JobSpec
from boxoffice.platform.runtime import Runtime
from boxoffice.seating import adapters, service
from boxoffice.waitroom import service as waitroom

log = structlog.get_logger("boxoffice.seating")
SWEEP_SECONDS = 5.0
JOBS = [
    JobSpec(
        name="seating.expire_holds",
        schedule="* * * * * */5",  # every 5 seconds (6th field: seconds)
        run=service.expire_holds,
        description="Release the seats of holds past their expiry for good (HoldExpired).",
    )
]


async def startup(runtime: Runtime, stack: AsyncExitStack) -> None:
    """Attach the seat board (Redis when configured) and, with background loops on, run the
    expiry sweeper in-process until the batch scheduler runs it."""

    async def admission_finished(show_id: str, user_id: str) -> None:
        await waitroom.admission_finished(runtime, show_id=show_id, user_id=user_id)

    seating = adapters.build(runtime, admission_finished)
    runtime.extensions["seating"] = seating
    stack.push_async_callback(seating.snapshots.close)
    if runtime.extensions.get("background"):
        task = asyncio.create_task(_sweep_forever(runtime), name="seating-sweeper")

        async def stop() -> None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

        stack.push_async_callback(stop)


async def _sweep_forever(runtime: Runtime) -> None:
    while True:
        try:
            await service.expire_holds(runtime)
        except Exception:
            log.exception("hold_sweep_failed")
        await asyncio.sleep(SWEEP_SECONDS)
