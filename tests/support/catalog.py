"""Catalog helpers for tests: a venue, an event and a show on sale, made over HTTP.

``open_show`` is what the seating, waitroom, orders and merch tests start from; its
signature stays stable.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import event

from boxoffice.catalog import service as catalog
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Role
from tests.support.api import API, Caller, user_with_role


@dataclass
class ShowSetup:
    seller: Caller
    venue_id: str
    event_id: str
    show_id: str
    seat_ids: list[str]
    grade_prices: dict[str, int]


async def ensure_categories(runtime: Runtime) -> None:
    """The seeded categories (server databases are emptied between tests, seeds included)."""
    async with runtime.uow() as uow:
        if await catalog.ensure_default_categories(uow):
            await uow.commit()


def row_labels() -> Iterator[str]:
    """A, B, ..., Z, AA, AB, ...: as many row labels as a venue needs."""
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    yield from letters
    for first in letters:
        for second in letters:
            yield first + second


def venue_body(
    rows: int = 2,
    seats_per_row: int = 10,
    grades: Sequence[str] = ("VIP", "R"),
    name: str = "Olympic Hall",
) -> dict[str, Any]:
    """One section per grade, ``rows`` rows of ``seats_per_row`` seats in each (compact form);
    with several grades the rows are split between them, first grade nearest the stage."""
    sections = []
    per_grade = max(1, rows // len(grades))
    remaining = rows
    labels = row_labels()
    for index, grade in enumerate(grades):
        count = remaining if index == len(grades) - 1 else min(per_grade, remaining)
        if count <= 0:
            break
        remaining -= count
        sections.append(
            {
                "name": f"{grade} floor",
                "grade": grade,
                "rows": [{"label": next(labels), "seats": seats_per_row} for _ in range(count)],
            }
        )
    return {"name": name, "address": "424 Olympic-ro, Songpa-gu, Seoul", "sections": sections}


def event_body(
    venue_id: str,
    runtime: Runtime,
    *,
    grades: Sequence[tuple[str, int]] = (("VIP", 165000), ("R", 132000)),
    sale_open: bool = True,
    queue: dict[str, Any] | None = None,
    max_tickets_per_user: int = 4,
    hold_minutes: int = 7,
    title: str = "IU HEREH World Tour",
    category: str = "concert",
    description: str = "The Golden Hour, live in Seoul.",
) -> dict[str, Any]:
    now = runtime.clock.now()
    opens = now - timedelta(hours=1) if sale_open else now + timedelta(days=1)
    body: dict[str, Any] = {
        "title": title,
        "description": description,
        "category": category,
        "venue_id": venue_id,
        "grades": [{"code": code, "name": f"{code} seat", "price": p} for code, p in grades],
        "sale_opens_at": opens.isoformat(),
        "sale_closes_at": (now + timedelta(days=30)).isoformat(),
        "max_tickets_per_user": max_tickets_per_user,
        "hold_minutes": hold_minutes,
    }
    if queue is not None:
        body["queue"] = queue
    return body


def _seat_ids(venue: dict[str, Any]) -> list[str]:
    return [
        seat["id"]
        for section in venue["sections"]
        for row in section["rows"]
        for seat in row["seats"]
    ]


async def open_show(
    client: httpx.AsyncClient,
    runtime: Runtime,
    *,
    rows: int = 2,
    seats_per_row: int = 10,
    grades: Sequence[tuple[str, int]] = (("VIP", 165000), ("R", 132000)),
    queue: dict[str, Any] | None = None,
    max_tickets_per_user: int = 4,
    hold_minutes: int = 7,
    sale_open: bool = True,
    seller: Caller | None = None,
) -> ShowSetup:
    """A published event with one show, made over HTTP as a seller would.

    The venue has ``rows`` rows of ``seats_per_row`` seats, split into one section per
    grade. The sale opened an hour before ``runtime.clock.now()`` (``sale_open``) or opens
    tomorrow; it closes in 30 days; the show starts in 40 days.
    """
    await ensure_categories(runtime)
    seller = seller or await user_with_role(client, runtime, Role.SELLER)
    codes = [code for code, _ in grades]
    venue = await client.post(
        f"{API}/venues", json=venue_body(rows, seats_per_row, codes), headers=seller.headers
    )
    assert venue.status_code == 201, venue.text
    venue_json = venue.json()
    used = set(venue_json["grades"])
    priced = [(code, price) for code, price in grades if code in used]
    event = await client.post(
        f"{API}/events",
        json=event_body(
            venue_json["id"],
            runtime,
            grades=priced,
            sale_open=sale_open,
            queue=queue,
            max_tickets_per_user=max_tickets_per_user,
            hold_minutes=hold_minutes,
        ),
        headers=seller.headers,
    )
    assert event.status_code == 201, event.text
    event_id = event.json()["id"]
    starts_at = runtime.clock.now() + timedelta(days=40)
    show = await client.post(
        f"{API}/events/{event_id}/shows",
        json={"starts_at": starts_at.isoformat()},
        headers=seller.headers,
    )
    assert show.status_code == 201, show.text
    published = await client.post(f"{API}/events/{event_id}/publish", headers=seller.headers)
    assert published.status_code == 200, published.text
    return ShowSetup(
        seller=seller,
        venue_id=venue_json["id"],
        event_id=event_id,
        show_id=show.json()["id"],
        seat_ids=_seat_ids(venue_json),
        grade_prices=dict(priced),
    )


def image_bytes(kind: str = "PNG", size: tuple[int, int] = (640, 900)) -> bytes:
    """A real image of ``kind`` (PNG, JPEG, WEBP, GIF, ...) made with Pillow."""
    from PIL import Image

    image = Image.new("RGB", size, (200, 40, 90))
    out = io.BytesIO()
    image.save(out, format=kind)
    return out.getvalue()


async def create_venue(client: httpx.AsyncClient, seller: Caller, **kwargs: Any) -> dict[str, Any]:
    response = await client.post(f"{API}/venues", json=venue_body(**kwargs), headers=seller.headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def published_event(
    client: httpx.AsyncClient,
    runtime: Runtime,
    seller: Caller,
    venue_id: str,
    *,
    days: Sequence[int] = (40,),
    **kwargs: Any,
) -> str:
    """A published event at ``venue_id`` with a show ``days`` from now each; returns its id."""
    body = event_body(venue_id, runtime, **kwargs)
    event = await client.post(f"{API}/events", json=body, headers=seller.headers)
    assert event.status_code == 201, event.text
    event_id: str = event.json()["id"]
    for day in days:
        starts_at = runtime.clock.now().replace(microsecond=0) + timedelta(days=day)
        show = await client.post(
            f"{API}/events/{event_id}/shows",
            json={"starts_at": starts_at.isoformat()},
            headers=seller.headers,
        )
        assert show.status_code == 201, show.text
    published = await client.post(f"{API}/events/{event_id}/publish", headers=seller.headers)
    assert published.status_code == 200, published.text
    return event_id


@contextmanager
def counting(runtime: Runtime) -> Iterator[list[str]]:
    """The SQL statements the runtime's engine sends while the block runs."""
    statements: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    engine = runtime.engine.sync_engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)
