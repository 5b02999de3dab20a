"""A 70,000-seat stadium: created in one request, a show made from it, the map read back."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text

from boxoffice.platform.runtime import Runtime
from tests.e2e.catalog.test_query_counts import counting
from tests.support.api import API, Caller
from tests.support.catalog import published_event

SECTIONS, ROWS, SEATS = 70, 20, 50  # 70,000 seats
GRADES = ("VIP", "R", "S", "A")


def stadium() -> dict:
    return {
        "name": "Seoul World Cup Stadium",
        "address": "240 World Cup-ro, Mapo-gu, Seoul",
        "sections": [
            {
                "name": f"S{section:02d}",
                "grade": GRADES[section * len(GRADES) // SECTIONS],
                "rows": [{"label": f"R{row}", "seats": SEATS} for row in range(ROWS)],
            }
            for section in range(SECTIONS)
        ],
    }


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "postgresql", "mariadb"])
async def test_stadium_venue_and_show(
    client: httpx.AsyncClient, runtime: Runtime, seller: Caller
) -> None:
    created = await client.post(
        f"{API}/venues", json=stadium(), headers=seller.headers, timeout=120
    )
    assert created.status_code == 201, created.text[:500]
    venue = created.json()
    assert venue["seat_count"] == 70_000
    ids = [s["id"] for sec in venue["sections"] for row in sec["rows"] for s in row["seats"]]
    assert len(set(ids)) == 70_000

    with counting(runtime) as statements:
        read = await client.get(f"{API}/venues/{venue['id']}", timeout=120)
    assert read.status_code == 200
    assert read.json() == venue
    assert len(statements) <= 5  # venue, sections, seats (+ transaction statements)

    event_id = await published_event(
        client,
        runtime,
        seller,
        venue["id"],
        grades=[(g, 10_000 * (4 - i)) for i, g in enumerate(GRADES)],
    )
    async with runtime.uow() as uow:
        show_id = await uow.session.scalar(
            text("SELECT id FROM catalog_shows WHERE event_id = :e"), {"e": event_id}
        )
        seats = await uow.session.scalar(
            text("SELECT count(*) FROM seating_seats WHERE show_id = :s AND status = 'available'"),
            {"s": show_id},
        )
    assert seats == 70_000
    show = await client.get(f"{API}/shows/{show_id}")
    assert show.json()["seat_count"] == 70_000
