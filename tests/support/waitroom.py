"""Waiting-room test helpers: queue stores on each adapter, shows with given sale settings."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

from boxoffice.catalog.contracts import QueueSettings, ShowSaleInfo
from boxoffice.waitroom.redis_store import RedisQueueStore
from boxoffice.waitroom.store import MemoryQueueStore, QueueStore
from tests.support import backends

STORES = ["memory", "redis", "redis-cluster"]


async def queue_store(kind: str, prefix: str | None = None) -> AsyncIterator[QueueStore]:
    """A fresh store of ``kind``; the Redis one under a unique prefix, cleaned afterwards."""
    if kind == "memory":
        store: QueueStore = MemoryQueueStore()
        yield store
        await store.close()
        return
    url = backends.redis_url_for(kind)
    prefix = prefix or f"bo-test-{uuid.uuid4().hex[:12]}"
    store = RedisQueueStore(url, prefix, retention_ms=3_600_000)
    try:
        yield store
    finally:
        await store.close()
        await backends.clean_redis(prefix, url)


def sale_info(
    show_id: str | None = None,
    *,
    now: datetime | None = None,
    opens_in: timedelta = timedelta(minutes=-1),
    admit_per_second: float = 10.0,
    max_active: int = 100,
    pre_queue_minutes: int = 0,
    enabled: bool = True,
) -> ShowSaleInfo:
    """What the catalog says about a show whose sale opens ``opens_in`` from ``now``."""
    now = now or datetime.now(UTC)
    return ShowSaleInfo(
        show_id=show_id or str(uuid.uuid4()),
        event_id=str(uuid.uuid4()),
        seller_id=str(uuid.uuid4()),
        title="Queue test concert",
        event_status="published",
        show_status="scheduled",
        starts_at=now + timedelta(days=30),
        sale_opens_at=now + opens_in,
        sale_closes_at=now + timedelta(days=29),
        max_tickets_per_user=4,
        hold_minutes=7,
        currency="KRW",
        queue=QueueSettings(
            enabled=enabled,
            admit_per_second=admit_per_second,
            max_active=max_active,
            pre_queue_minutes=pre_queue_minutes,
        ),
    )


class Shows:
    """A stand-in for the catalog's ``show_sale_info`` answers, keyed by show id."""

    def __init__(self, *infos: ShowSaleInfo) -> None:
        self.infos = {info.show_id: info for info in infos}

    def add(self, info: ShowSaleInfo) -> ShowSaleInfo:
        self.infos[info.show_id] = info
        return info

    async def __call__(self, show_id: str) -> ShowSaleInfo | None:
        return self.infos.get(show_id)
