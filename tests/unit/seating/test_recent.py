"""What a process remembers to refuse contended holds cheaply: sale info, briefly."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from boxoffice.catalog.contracts import QueueSettings, ShowSaleInfo
from boxoffice.seating.recent import RecentSaleInfo


def _info(show_id: str) -> ShowSaleInfo:
    now = datetime.now(UTC)
    return ShowSaleInfo(
        show_id=show_id,
        event_id="event",
        seller_id="seller",
        title="IU",
        event_status="published",
        show_status="scheduled",
        starts_at=now + timedelta(days=40),
        sale_opens_at=now - timedelta(hours=1),
        sale_closes_at=now + timedelta(days=30),
        max_tickets_per_user=4,
        hold_minutes=7,
        currency="KRW",
        grade_prices={"VIP": 165000},
        queue=QueueSettings(False, 10.0, 100, 0),
    )


async def test_sale_info_is_read_again_once_it_is_older_than_allowed() -> None:
    reads: list[str] = []

    async def read(show_id: str) -> ShowSaleInfo | None:
        reads.append(show_id)
        return None if show_id == "unknown" else _info(show_id)

    recent = RecentSaleInfo(seconds=0.05)
    assert await recent.get("show", read) == await recent.get("show", read)
    assert reads == ["show"]
    await asyncio.sleep(0.06)
    await recent.get("show", read)
    assert reads == ["show", "show"]
    assert await recent.get("unknown", read) is None
    assert await recent.get("unknown", read) is None
    assert reads.count("unknown") == 2  # an unknown show is not remembered
