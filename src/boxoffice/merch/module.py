"""How merch plugs into the app: routes, the storage port for product images and the
expiry job."""

from __future__ import annotations

from contextlib import AsyncExitStack

from boxoffice.merch import routes, service
from boxoffice.platform.contexts import ContextModule
from boxoffice.platform.jobs import JobSpec
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.storage import attach_storage

JOBS = [
    JobSpec(
        name="merch.release_expired_reservations",
        schedule="* * * * *",  # every minute
        run=service.release_expired,
        description=(
            "Give back the stock of goods reserved by orders that lapsed without being "
            "released (a safety net behind orders' own expiry)."
        ),
    )
]


async def startup(runtime: Runtime, stack: AsyncExitStack) -> None:
    """Attach the shared storage port (product images) — the catalog's, if it made it first."""
    await attach_storage(runtime, stack)


MODULE = ContextModule("merch", routers=[routes.router], startup=startup, jobs=JOBS)
