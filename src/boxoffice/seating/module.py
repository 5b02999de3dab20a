"""How seating plugs into the app: routes (the hold on the fast lane), the seat board, the
expiry job, and the ports it fills for catalog (a show's inventory) and the waiting room
(seats left)."""

from __future__ import annotations

from contextlib import AsyncExitStack

import structlog

from boxoffice.catalog.contracts import ShowInventory
from boxoffice.platform.contexts import ContextModule
from boxoffice.platform.jobs import JobSpec
from boxoffice.platform.runtime import Runtime
from boxoffice.seating import adapters, code_routes, hot_routes, routes, service
from boxoffice.waitroom import service as waitroom
from boxoffice.waitroom.contracts import SeatCount

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


def provide(runtime: Runtime) -> None:
    """Catalog makes a show's seats through seating; the dispatcher counts what is left."""

    async def seats_left(show_id: str) -> tuple[int, int] | None:
        return await service.seats_left(runtime, show_id)

    runtime.adapters.put(ShowInventory(service.create_show_inventory))
    runtime.adapters.put(SeatCount(seats_left))


MODULE = ContextModule(
    "seating",
    routers=[routes.router, code_routes.router],
    hot_routes=hot_routes.HOT_ROUTES,
    startup=startup,
    jobs=JOBS,
    provide=provide,
)
