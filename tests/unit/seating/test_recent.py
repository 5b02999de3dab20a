"""What a process remembers to refuse contended holds cheaply: sale info, briefly."""

from __future__ import annotations

import asyncio

from boxoffice.catalog.contracts import ShowSaleInfo
from boxoffice.seating.recent import RecentSaleInfo
from tests.support.seating import sale_info


async def test_sale_info_is_read_again_once_it_is_older_than_allowed() -> None:
    reads: list[str] = []

    async def read(show_id: str) -> ShowSaleInfo | None:
        reads.append(show_id)
        return None if show_id == "unknown" else sale_info(show_id, "event")

    recent = RecentSaleInfo(seconds=0.05)
    assert await recent.get("show", read) == await recent.get("show", read)
    assert reads == ["show"]
    await asyncio.sleep(0.06)
    await recent.get("show", read)
    assert reads == ["show", "show"]
    assert await recent.get("unknown", read) is None
    assert await recent.get("unknown", read) is None
    assert reads.count("unknown") == 2  # an unknown show is not remembered
