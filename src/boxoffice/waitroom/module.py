"""How the waiting room plugs into the app: routes (and their fast lane), the queue store,
the serving board, the in-process dispatcher and the purge job."""

from __future__ import annotations

from contextlib import AsyncExitStack

from boxoffice.platform.contexts import API_PREFIX, ContextModule
from boxoffice.platform.jobs import JobSpec
from boxoffice.platform.runtime import Runtime
from boxoffice.waitroom import fast_routes, routes, runner, service


async def startup(runtime: Runtime, stack: AsyncExitStack) -> None:
    """Attach the queue store, start the serving subscriber, and the dispatcher if asked."""
    waitroom = service.room(runtime)
    stack.push_async_callback(waitroom.store.close)
    waitroom.board.start()
    stack.push_async_callback(waitroom.board.stop)
    runtime.readiness["waitroom"] = waitroom.store.ping
    if runtime.background and waitroom.settings.dispatch_in_process:
        await runner.start_in_process(runtime, waitroom, stack)


JOBS = [
    JobSpec(
        name="waitroom.purge_closed_queues",
        schedule="30 3 * * *",
        run=service.purge_closed_queues,
        description="Forget the waiting rooms of shows whose sale is over.",
    )
]

MODULE = ContextModule(
    "waitroom",
    routers=[routes.router],
    fast_routes=fast_routes.routes(API_PREFIX),
    startup=startup,
    jobs=JOBS,
)
