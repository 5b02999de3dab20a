"""Sale information per show, from the catalog, cached briefly per process (joins are hot)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from boxoffice.catalog import service as catalog
from boxoffice.catalog.contracts import ShowSaleInfo
from boxoffice.platform.runtime import Runtime

SaleInfoLoader = Callable[[str], Awaitable[ShowSaleInfo | None]]


def catalog_loader(runtime: Runtime) -> SaleInfoLoader:
    """Read ``catalog.service.show_sale_info`` (through catalog's cache) in its own unit of work."""

    async def load(show_id: str) -> ShowSaleInfo | None:
        async with runtime.uow() as uow:
            return await catalog.show_sale_info(uow, show_id, runtime=runtime)

    return load


class SaleInfoCache:
    """At most one catalog read per show per ``ttl_seconds`` in this process."""

    def __init__(self, load: SaleInfoLoader, ttl_seconds: float) -> None:
        self._load = load
        self._ttl = ttl_seconds
        self._cached: dict[str, tuple[float, ShowSaleInfo | None]] = {}
        self._loading: dict[str, asyncio.Future[ShowSaleInfo | None]] = {}

    async def get(self, show_id: str) -> ShowSaleInfo | None:
        hit = self._cached.get(show_id)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        pending = self._loading.get(show_id)
        if pending is not None:  # one read per show at a time: the rest wait for it
            return await asyncio.shield(pending)
        future: asyncio.Future[ShowSaleInfo | None] = asyncio.get_running_loop().create_future()
        self._loading[show_id] = future
        try:
            info = await self._load(show_id)
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters re-raise it, nobody logs it as lost
            raise
        except BaseException:
            future.cancel()
            raise
        finally:
            self._loading.pop(show_id, None)
        self._cached[show_id] = (time.monotonic() + self._ttl, info)
        future.set_result(info)
        return info

    def forget(self, show_id: str) -> None:
        self._cached.pop(show_id, None)
