"""What one process remembers briefly to refuse a contended hold cheaply: sale info it
has just read (verified admission tokens are remembered by the platform's
``VerifiedTokens``, like access tokens).

A flash sale sends thousands of hold attempts a second for one show; most are refused by
the seat board. Reading the show's sale info (a Redis round trip and a JSON decode) on
every one of them was much of the work of a refusal. The memo is never the judge of a
hold: an attempt the board lets through re-reads the sale info (catalog's cache,
invalidated on every change) before the database claims the seats.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from boxoffice.catalog.contracts import ShowSaleInfo

SALE_INFO_SECONDS = 1.0  # how stale a refusal's sale info may be (see docs/seating.md)

SaleInfoRead = Callable[[str], Awaitable[ShowSaleInfo | None]]


class RecentSaleInfo:
    """Sale info per show, read at most ``seconds`` ago (monotonic clock). Unknown shows
    are not remembered."""

    def __init__(self, seconds: float = SALE_INFO_SECONDS, limit: int = 10_000) -> None:
        self._seconds = seconds
        self._limit = limit
        self._infos: dict[str, tuple[float, ShowSaleInfo]] = {}

    async def get(self, show_id: str, read: SaleInfoRead) -> ShowSaleInfo | None:
        known = self._infos.get(show_id)
        if known is not None and known[0] > time.monotonic():
            return known[1]
        info = await read(show_id)
        self.remember(info)
        return info

    def remember(self, info: ShowSaleInfo | None) -> None:
        """Keep a sale info just read fresh (for the next ``seconds``)."""
        if info is None:
            return
        if len(self._infos) >= self._limit:
            self._infos.clear()  # hundreds of shows on sale at once at most; a refill is cheap
        self._infos[info.show_id] = (time.monotonic() + self._seconds, info)
