"""Sale information per show, as the waiting room reads it: catalog's per-process memo of
recent sale info (``catalog.recent_sale_info``), a couple of seconds old at most."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from boxoffice.catalog import service as catalog
from boxoffice.catalog.contracts import ShowSaleInfo
from boxoffice.platform.runtime import Runtime

SaleInfoLoader = Callable[[str], Awaitable[ShowSaleInfo | None]]


def catalog_loader(runtime: Runtime, max_age: float = 0.0) -> SaleInfoLoader:
    """The show's sale info from catalog, at most ``max_age`` seconds old."""

    async def load(show_id: str) -> ShowSaleInfo | None:
        return await catalog.recent_sale_info(runtime, show_id, max_age=max_age)

    return load
