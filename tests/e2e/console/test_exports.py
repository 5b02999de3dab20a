"""A 70,000-seat show's attendees and orders export in bounded memory: the CSV streams from
keyset-paged reads, so the export's peak memory (tracemalloc) does not grow with the number
of rows — exporting 70,000 rows peaks where exporting a tenth of them does, and below the
size of the file sent. Run with ``-s`` to see the figures."""

from __future__ import annotations

import asyncio
import tracemalloc
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import insert

from boxoffice.identity.models import User
from boxoffice.orders.models import Order
from boxoffice.platform.ids import new_id
from boxoffice.platform.runtime import Runtime
from boxoffice.tickets.models import Ticket
from tests.support.catalog import ShowSetup

pytestmark = pytest.mark.slow

SEATS = 70_000
BUYERS = 2_000
SEATS_PER_ORDER = 2


async def _big_show(runtime: Runtime, show: ShowSetup) -> None:
    """70,000 tickets in 35,000 paid orders of 2,000 buyers, written straight to the tables
    (making them through the API would take the test's whole budget)."""
    now = datetime.now(UTC)
    users = [
        {
            "id": new_id(),
            "email": f"buyer{i}@example.com",
            "password_hash": None,
            "name": f"Buyer {i}",
            "phone": None,
            "role": "customer",
            "locale": "ko",
            "email_verified": True,
            "created_at": now,
            "updated_at": now,
        }
        for i in range(BUYERS)
    ]
    orders: list[dict[str, Any]] = []
    tickets: list[dict[str, Any]] = []
    for index in range(SEATS // SEATS_PER_ORDER):
        order_id = new_id()
        buyer = users[index % BUYERS]["id"]
        tenth = index % 10 == 0  # a tenth of the orders refunded, their tickets used
        orders.append(
            {
                "id": order_id,
                "user_id": buyer,
                "status": "refunded" if tenth else "paid",
                "provider": "internal",
                "currency": "KRW",
                "amount": 2 * 132000,
                "ticket_amount": 2 * 132000,
                "ticket_count": SEATS_PER_ORDER,
                "refunded_amount": 0,
                "fee": 0,
                "name": "Big show",
                "show_id": show.show_id,
                "event_id": show.event_id,
                "seller_id": show.seller.id,
                "idempotency_key": order_id,
                "request_hash": "0" * 64,
                "created_at": now,
                "updated_at": now,
                "expires_at": now,
                "paid_at": now,
            }
        )
        for seat in range(SEATS_PER_ORDER):
            number = index * SEATS_PER_ORDER + seat
            seat_id = f"s-{number}"
            tickets.append(
                {
                    "id": new_id(),
                    "order_id": order_id,
                    "user_id": buyer,
                    "show_id": show.show_id,
                    "event_id": show.event_id,
                    "seller_id": show.seller.id,
                    "title": "Big show",
                    "starts_at": now,
                    "seat_id": seat_id,
                    "active_seat": seat_id,
                    "section": f"S{number // 5000}",
                    "row": str(number // 50 % 100),
                    "number": str(number % 50 + 1),
                    "grade": "R",
                    "price": 132000,
                    "currency": "KRW",
                    "status": "used" if tenth else "valid",
                    "code": f"code-{number}",
                    "issued_at": now,
                }
            )
    async with runtime.uow() as uow:
        connection = await uow.connection()
        await connection.execute(insert(User), users)
        for start in range(0, len(orders), 5000):
            await connection.execute(insert(Order), orders[start : start + 5000])
        for start in range(0, len(tickets), 5000):
            await connection.execute(insert(Ticket), tickets[start : start + 5000])
        await uow.commit()


async def _download(app: FastAPI, path: str, token: str, query: str = "") -> tuple[int, int, int]:
    """GET ``path`` straight through the ASGI app, counting and dropping each chunk as a
    server would send it; returns (status, bytes, lines). No client buffers the body."""
    status, size, lines = 0, 0, 0
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"testserver"), (b"authorization", f"Bearer {token}".encode())],
        "client": ("203.0.113.10", 50000),
        "server": ("testserver", 80),
    }

    requested = False
    never = asyncio.Event()

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await never.wait()  # the client stays connected until the response ends
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status, size, lines
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            body = message.get("body", b"")
            size += len(body)
            lines += body.count(b"\n")

    await app(scope, receive, send)
    return status, size, lines


async def _traced(app: FastAPI, path: str, token: str, query: str) -> tuple[int, int, int]:
    """(bytes, lines, peak Python memory above the baseline) of one download."""
    tracemalloc.start()
    try:
        baseline, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        status, size, lines = await _download(app, path, token, query)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert status == 200
    return size, lines, peak - baseline


@pytest.mark.parametrize("kind", ["attendees", "orders"])
async def test_a_70000_seat_show_exports_in_bounded_memory(
    app: FastAPI, client: httpx.AsyncClient, runtime: Runtime, show: ShowSetup, kind: str
) -> None:
    await _big_show(runtime, show)
    path = f"/api/v1/shows/{show.show_id}/{kind}/export"
    token = show.seller.access_token
    tenth = "status=used" if kind == "attendees" else "status=refunded"
    await _download(app, path, token, tenth)  # warm: imports, compiled statements, caches
    _, small_lines, small_peak = await _traced(app, path, token, tenth)
    size, lines, peak = await _traced(app, path, token, "")
    rows = SEATS if kind == "attendees" else SEATS // SEATS_PER_ORDER
    assert (small_lines, lines) == (1 + rows // 10, 1 + rows)
    print(  # the figures docs/console.md reports
        f"\n{kind} export: {rows} rows, {size / 1e6:.1f} MB of CSV, peak Python memory "
        f"above baseline {peak / 1e6:.2f} MB ({rows // 10} rows: {small_peak / 1e6:.2f} MB)"
    )
    # Ten times the rows, about the same peak: the stream holds a page, never the file.
    assert peak < 1.5 * small_peak + 1_000_000, (peak, small_peak)
