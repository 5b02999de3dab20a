"""What one process remembers briefly to refuse a contended hold cheaply: sale info and
admission tokens it has just read or verified.

A flash sale sends thousands of hold attempts a second for one show; most are refused by
the seat board. Reading the show's sale info (a Redis round trip and a JSON decode) and
verifying the admission token (a signature check) on every one of them was most of the
work of a refusal. Neither memo is ever the judge of a hold: an attempt the board lets
through re-reads the sale info (catalog's cache, invalidated on every change) before the
database claims the seats.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from boxoffice.catalog.contracts import ShowSaleInfo

SALE_INFO_SECONDS = 1.0  # how stale a refusal's sale info may be (see docs/seating.md)
ADMISSION_SECONDS = 60.0  # as long as platform.security.VerifiedTokens keeps access tokens

SaleInfoRead = Callable[[str], Awaitable[ShowSaleInfo | None]]
AdmissionCheck = Callable[[], float]  # verifies the token: its expiry (epoch s) or raises


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


class RecentAdmissions:
    """Admission tokens this process has verified: token -> (until, show, user).

    Like ``platform.security.VerifiedTokens`` for access tokens: an entry never outlives
    the token's own expiry, refused tokens are never kept, and the token is honoured only
    for the show and user it was verified for.
    """

    def __init__(self, limit: int = 200_000, seconds: float = ADMISSION_SECONDS) -> None:
        self._limit = limit
        self._seconds = seconds
        self._tokens: OrderedDict[str, tuple[float, str, str]] = OrderedDict()

    def check(self, token: str, show_id: str, user_id: str, verify: AdmissionCheck) -> None:
        """Returns when ``token`` admits ``user_id`` to ``show_id``; ``verify`` raises the
        refusal otherwise (and is called only when this token is not remembered for them)."""
        now = time.time()
        known = self._tokens.get(token)
        if known is not None and known[0] > now and known[1] == show_id and known[2] == user_id:
            return
        expires = verify()  # raises when not admitted
        self._tokens[token] = (min(now + self._seconds, expires), show_id, user_id)
        self._tokens.move_to_end(token)
        while len(self._tokens) > self._limit:
            self._tokens.popitem(last=False)
