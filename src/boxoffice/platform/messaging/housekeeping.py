"""Housekeeping: processed ids are needed only while a duplicate can still arrive."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete

from boxoffice.platform.messaging.models import ProcessedEvent

if TYPE_CHECKING:
    from boxoffice.platform.runtime import Runtime


async def prune_processed_events(runtime: Runtime) -> int:
    """Job: forget processed ids older than ``processed_event_retention_days`` (far longer
    than any redelivery, retry schedule or JetStream dedupe window). Returns rows deleted."""
    cutoff = runtime.clock.now() - timedelta(days=runtime.settings.processed_event_retention_days)
    async with runtime.uow() as uow:
        result = await uow.session.execute(
            delete(ProcessedEvent).where(
                ProcessedEvent.processed_at < cutoff, ProcessedEvent.claim.is_(None)
            )
        )
        await uow.commit()
    return int(getattr(result, "rowcount", 0) or 0)
