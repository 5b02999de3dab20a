"""A 70,000-seat show: its seat map is answered from the board, compactly, without the database."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import event

from boxoffice.platform.runtime import Runtime
from tests.support.api import API, customer
from tests.support.catalog import open_show


@pytest.mark.slow
@pytest.mark.parametrize("use_redis", [True])
async def test_a_seventy_thousand_seat_map_is_compact_and_needs_no_database_once_warm(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    show = await open_show(client, runtime, rows=26, seats_per_row=2700)
    assert len(show.seat_ids) == 70_200
    fan = await customer(client)
    held = await client.post(
        f"{API}/shows/{show.show_id}/holds",
        json={"seat_ids": show.seat_ids[100:104]},
        headers=fan.headers,
    )
    assert held.status_code == 201, held.text
    url = f"{API}/shows/{show.show_id}/seats"
    first = await client.get(url, headers={"Accept-Encoding": "gzip"})
    assert first.status_code == 200
    statements: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    event.listen(runtime.engine.sync_engine, "before_cursor_execute", count)
    try:
        again = await client.get(url, headers={"Accept-Encoding": "gzip"})
        unchanged = await client.get(url, headers={"If-None-Match": first.headers["etag"]})
    finally:
        event.remove(runtime.engine.sync_engine, "before_cursor_execute", count)
    assert statements == []
    assert unchanged.status_code == 304
    assert again.headers["content-encoding"] == "gzip"
    wire = int(again.headers["content-length"])
    assert wire < 1_000_000, f"{wire} bytes on the wire for 70,200 seats"
    seats = again.json()["seats"]
    assert len(seats) == 70_200
    assert [s["status"] for s in seats[100:105]] == ["held"] * 4 + ["available"]
