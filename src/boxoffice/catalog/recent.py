"""Sale info as this process read it lately: the one per-process memo every context uses.

A flash sale asks for one show's sale info thousands of times a second (each join, each
hold attempt, each dispatcher tick). Catalog's cache (Redis, invalidated on every change)
answers each read with a round trip and a JSON decode; this memo answers from memory for
as long as the caller accepts (``max_age``): a second for seating's refusals, two for
the waiting room's joins. It is never the judge of a sale: an attempt that reaches the
database re-reads the sale info (``max_age=0``) before it claims anything. Concurrent
misses share one read; unknown shows are not remembered; a change this process makes to
a show forgets it at once (other processes' memos age out within their ``max_age``).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from boxoffice.catalog.contracts import ShowSaleInfo
from boxoffice.platform.singleflight import SingleFlight

SaleInfoRead = Callable[[str], Awaitable[ShowSaleInfo | None]]


class RecentSaleInfo:
    """Sale info per show with the (monotonic) time it was read."""

    def __init__(self, read: SaleInfoRead, limit: int = 10_000) -> None:
        self._read = read
        self._limit = limit
        self._infos: dict[str, tuple[float, ShowSaleInfo]] = {}
        self._reads: SingleFlight[str, ShowSaleInfo | None] = SingleFlight()

    async def get(self, show_id: str, *, max_age: float) -> ShowSaleInfo | None:
        """The show's sale info read at most ``max_age`` seconds ago (0: read it now)."""
        known = self._infos.get(show_id)
        if known is not None and time.monotonic() - known[0] <= max_age:
            return known[1]
        info = await self._reads.do(show_id, lambda: self._read(show_id))
        self.remember(info)
        return info

    def remember(self, info: ShowSaleInfo | None) -> None:
        if info is None:
            return
        if len(self._infos) >= self._limit:
            self._infos.clear()  # hundreds of shows on sale at once at most; a refill is cheap
        self._infos[info.show_id] = (time.monotonic(), info)

    def forget(self, show_id: str) -> None:
        self._infos.pop(show_id, None)
