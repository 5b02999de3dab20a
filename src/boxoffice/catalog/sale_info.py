"""``show_sale_info``'s reads: one show joined to its event, plus its prices; cached as
JSON under the show's tag, which every change to the event or its shows invalidates."""

from __future__ import annotations

import structlog
from pydantic import TypeAdapter
from redis.exceptions import RedisError
from sqlalchemy import select

from boxoffice.catalog import domain
from boxoffice.catalog.adapters import adapters, show_tag
from boxoffice.catalog.contracts import ShowSaleInfo
from boxoffice.catalog.models import Event, EventGrade, Show
from boxoffice.catalog.recent import RecentSaleInfo
from boxoffice.platform.cache import cached
from boxoffice.platform.db import record_of
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.uow import UnitOfWork

log = structlog.get_logger("boxoffice.catalog")


async def load(uow: UnitOfWork, show_id: str) -> ShowSaleInfo | None:
    row = (
        await uow.session.execute(
            select(Show, Event).join(Event, Event.id == Show.event_id).where(Show.id == show_id)
        )
    ).first()
    if row is None:
        return None
    show, event = row
    prices = await uow.session.execute(
        select(EventGrade.code, EventGrade.price).where(EventGrade.event_id == event.id)
    )
    # The event's sale terms by their names; the show's and the composed ones given.
    return record_of(
        ShowSaleInfo,
        event,
        show_id=show.id,
        event_id=event.id,
        event_status=event.status,
        show_status=show.status,
        starts_at=show.starts_at,
        free_refund_until=show.free_refund_until,
        grade_prices={code: int(price) for code, price in prices},
        queue=domain.queue_of(event),
        cancellation=domain.policy_from_json(event.cancellation_policy),
        limit_scope=event.purchase_limit_scope,
    )


# The cached form: the dataclass as pydantic writes and reads it (2.5x faster than the
# hand-written mapping it replaced, measured per hold); the key's version changes with it.
_CODEC = TypeAdapter(ShowSaleInfo)


def to_json(info: ShowSaleInfo) -> str:
    return _CODEC.dump_json(info).decode()


def from_json(raw: str) -> ShowSaleInfo:
    return _CODEC.validate_json(raw)


async def cached_load(uow: UnitOfWork, runtime: Runtime, show_id: str) -> ShowSaleInfo | None:
    async def compute() -> str | None:
        info = await load(uow, show_id)
        return None if info is None else to_json(info)

    state = adapters(runtime)
    raw = await cached(
        state.cache,
        f"catalog:sale:v2:{show_id}",
        [show_tag(show_id)],
        compute,
        ttl=state.settings.sale_info_cache_seconds,
    )
    return None if raw is None else from_json(raw)


async def recent_sale_info(
    runtime: Runtime, show_id: str, *, max_age: float
) -> ShowSaleInfo | None:
    """The show's sale info as this process read it at most ``max_age`` seconds ago (0:
    now), read through catalog's cache in a short transaction of its own. The one
    per-process memo of sale info (``catalog/recent.py``): for the hottest reads (joins,
    refused holds, dispatcher ticks), never for a decision the database makes."""
    return await recent_memo(runtime).get(show_id, max_age=max_age)


def recent_memo(runtime: Runtime) -> RecentSaleInfo:
    async def read(show_id: str) -> ShowSaleInfo | None:
        async with runtime.uow(read_only=True) as uow:
            return await show_sale_info(uow, show_id, runtime=runtime)

    return runtime.adapters.ensure(RecentSaleInfo, lambda: RecentSaleInfo(read))


async def show_sale_info(
    uow: UnitOfWork, show_id: str, *, runtime: Runtime | None = None
) -> ShowSaleInfo | None:
    """What a sale needs of a show (status, window, limits, prices, queue, fees). Read-only.

    Pass ``runtime`` to read through catalog's cache (holds call this on every request);
    every change to the event or its shows invalidates it. Without it: two indexed queries.
    When the cache's Redis is unreachable it reads the database: a sale does not stop
    with Redis.
    """
    if runtime is None:
        return await load(uow, show_id)
    try:
        return await cached_load(uow, runtime, show_id)
    except (RedisError, OSError) as error:
        log.warning("sale_info_cache_unreachable", show_id=show_id, error=str(error))
        return await load(uow, show_id)
