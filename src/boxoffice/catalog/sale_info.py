"""``show_sale_info``'s reads: one show joined to its event, plus its prices; cached as
JSON under the show's tag, which every change to the event or its shows invalidates."""

from __future__ import annotations

from datetime import datetime

import structlog
from redis.exceptions import RedisError
from sqlalchemy import select

from boxoffice.catalog import domain
from boxoffice.catalog.adapters import adapters, show_tag
from boxoffice.catalog.contracts import QueueSettings, ShowSaleInfo
from boxoffice.catalog.models import Event, EventGrade, Show
from boxoffice.catalog.recent import RecentSaleInfo
from boxoffice.platform.cache import cached
from boxoffice.platform.db import record_of
from boxoffice.platform.jsonutil import dumps, loads
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
        queue=QueueSettings(
            enabled=event.queue_enabled,
            admit_per_second=event.queue_admit_per_second,
            max_active=event.queue_max_active,
            pre_queue_minutes=event.queue_pre_queue_minutes,
            paused=event.queue_paused,
        ),
        cancellation=domain.policy_from_json(event.cancellation_policy),
        limit_scope=event.purchase_limit_scope,
    )


def to_json(info: ShowSaleInfo) -> str:
    data = {
        "show_id": info.show_id,
        "event_id": info.event_id,
        "seller_id": info.seller_id,
        "title": info.title,
        "event_status": info.event_status,
        "show_status": info.show_status,
        "starts_at": info.starts_at.isoformat(),
        "sale_opens_at": info.sale_opens_at.isoformat(),
        "sale_closes_at": info.sale_closes_at.isoformat(),
        "max_tickets_per_user": info.max_tickets_per_user,
        "hold_minutes": info.hold_minutes,
        "currency": info.currency,
        "grade_prices": info.grade_prices,
        "queue": [
            info.queue.enabled,
            info.queue.admit_per_second,
            info.queue.max_active,
            info.queue.pre_queue_minutes,
            info.queue.paused,
        ],
        "cancellation": domain.policy_to_json(info.cancellation),
        "limit_scope": info.limit_scope,
        "transfers": [info.transfers_allowed, info.transfer_cutoff_hours],
        "verified_buyers": info.requires_verified_email,
        "free_refund_until": info.free_refund_until.isoformat() if info.free_refund_until else None,
    }
    return dumps(data).decode()


def _moment(raw: str | None) -> datetime | None:
    return datetime.fromisoformat(raw) if raw else None


def from_json(raw: str) -> ShowSaleInfo:
    data = loads(raw)
    enabled, rate, max_active, pre_queue, *rest = data["queue"]  # entries cached before pause
    return ShowSaleInfo(
        show_id=data["show_id"],
        event_id=data["event_id"],
        seller_id=data["seller_id"],
        title=data["title"],
        event_status=data["event_status"],
        show_status=data["show_status"],
        starts_at=datetime.fromisoformat(data["starts_at"]),
        sale_opens_at=datetime.fromisoformat(data["sale_opens_at"]),
        sale_closes_at=datetime.fromisoformat(data["sale_closes_at"]),
        max_tickets_per_user=data["max_tickets_per_user"],
        hold_minutes=data["hold_minutes"],
        currency=data["currency"],
        grade_prices={k: int(v) for k, v in data["grade_prices"].items()},
        queue=QueueSettings(
            bool(enabled), float(rate), int(max_active), int(pre_queue), bool(rest and rest[0])
        ),
        cancellation=domain.policy_from_json(data["cancellation"]),
        limit_scope=data.get("limit_scope", "show"),
        transfers_allowed=bool(data.get("transfers", [True, 0])[0]),
        transfer_cutoff_hours=int(data.get("transfers", [True, 0])[1]),
        requires_verified_email=bool(data.get("verified_buyers", False)),
        free_refund_until=_moment(data.get("free_refund_until")),
    )


async def cached_load(uow: UnitOfWork, runtime: Runtime, show_id: str) -> ShowSaleInfo | None:
    async def compute() -> str | None:
        info = await load(uow, show_id)
        return None if info is None else to_json(info)

    state = adapters(runtime)
    raw = await cached(
        state.cache,
        f"catalog:sale:{show_id}",
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
