"""How catalog plugs into the app: routes, media, its adapters and the view-count flush."""

from __future__ import annotations

from contextlib import AsyncExitStack

from boxoffice.catalog import adapters, hot_routes, routes, service, ticket_type_routes
from boxoffice.catalog.views import MemoryViewCounter
from boxoffice.platform.contexts import ContextModule
from boxoffice.platform.jobs import JobSpec
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.storage import attach_storage, media_router


async def startup(runtime: Runtime, stack: AsyncExitStack) -> None:
    state = adapters.attach(runtime)
    state.storage = await attach_storage(runtime, stack)
    if isinstance(state.views, MemoryViewCounter):
        # Counts held in this process's memory would die with it: flush them on the way out.
        stack.push_async_callback(service.flush_view_counts, runtime)


JOBS = [
    JobSpec(
        name="catalog.flush_views",
        schedule="* * * * *",
        run=service.flush_view_counts,
        description="Move event view counts from Redis into the database.",
    )
]

MODULE = ContextModule(
    "catalog",
    routers=[routes.router, ticket_type_routes.router],
    root_routers=[media_router],
    hot_routes=hot_routes.HOT_ROUTES,
    startup=startup,
    jobs=JOBS,
)
