"""catalog's scheduled jobs (run by batch's scheduler; ``boxoffice flush-views`` by hand)."""

from __future__ import annotations

from boxoffice.catalog import service
from boxoffice.platform.jobs import JobSpec
from boxoffice.platform.runtime import Runtime


async def flush_views(runtime: Runtime) -> int:
    """Views counted in Redis (or memory) since the last flush, written to the database."""
    return await service.flush_view_counts(runtime)


JOBS = [
    JobSpec(
        name="catalog.flush_views",
        schedule="* * * * *",
        run=flush_views,
        description="Move event view counts from Redis into the database.",
    )
]
