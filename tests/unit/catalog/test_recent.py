"""What a process remembers to refuse contended holds cheaply: sale info, briefly."""

from __future__ import annotations

import asyncio

from boxoffice.catalog.contracts import ShowSaleInfo
from boxoffice.catalog.recent import RecentSaleInfo
from tests.support.seating import sale_info


async def test_sale_info_is_read_again_once_it_is_older_than_allowed() -> None:
    reads: list[str] = []

    async def read(show_id: str) -> ShowSaleInfo | None:
        reads.append(show_id)
        return None if show_id == "unknown" else sale_info(show_id, "event")

    recent = RecentSaleInfo(read)
    assert await recent.get("show", max_age=0.05) == await recent.get("show", max_age=0.05)
    assert reads == ["show"]
    await asyncio.sleep(0.06)
    await recent.get("show", max_age=0.05)
    assert reads == ["show", "show"]
    assert await recent.get("unknown", max_age=0.05) is None
    assert await recent.get("unknown", max_age=0.05) is None
    assert reads.count("unknown") == 2  # an unknown show is not remembered


async def test_concurrent_misses_share_one_read_and_a_forgotten_show_is_read_again() -> None:
    reads: list[str] = []

    async def read(show_id: str) -> ShowSaleInfo | None:
        reads.append(show_id)
        await asyncio.sleep(0.01)
        return sale_info(show_id, "event")

    recent = RecentSaleInfo(read)
    answers = await asyncio.gather(*(recent.get("show", max_age=60) for _ in range(50)))
    assert reads == ["show"]
    assert {a.show_id for a in answers if a is not None} == {"show"}
    recent.forget("show")  # this process changed the show
    await recent.get("show", max_age=60)
    assert reads == ["show", "show"]
