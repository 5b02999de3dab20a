"""How seating plugs into the app: its adapters and its expiry job."""

from __future__ import annotations

from contextlib import AsyncExitStack

import structlog

from boxoffice.platform.jobs import JobSpec
from boxoffice.platform.runtime import Runtime
from boxoffice.seating import adapters, service
from boxoffice.waitroom import service as waitroom

log = structlog.get_logger("boxoffice.seating")
JOBS = [
    JobSpec(
        name="seating.expire_holds",
        schedule="* * * * * */5",  # every 5 seconds (6th field: seconds)
        run=service.expire_holds,
        description="Release the seats of holds past their expiry for good (HoldExpired).",
    )
]


async def startup(runtime: Runtime, stack: AsyncExitStack) -> None:
    """Attach the seat board (Redis when configured). The expiry sweeper is a job (below):
    the scheduler runs it, in-process under `boxoffice run`."""

    async def admission_finished(show_id: str, user_id: str) -> None:
        await waitroom.admission_finished(runtime, show_id=show_id, user_id=user_id)

    seating = adapters.build(runtime, admission_finished)
    runtime.adapters.put(seating)
    stack.push_async_callback(seating.board.close)
    stack.push_async_callback(seating.snapshots.close)  # first: loads write to the board
