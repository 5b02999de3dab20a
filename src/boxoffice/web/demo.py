"""Demo data that makes the shop look alive on ``make run``, made through the contexts'
service functions as a seller and fans would (no table is touched here).

Beside the demo arena's event (on sale, with a queue): a musical on sale in a curved
theatre drawn from its own seat coordinates, a festival whose sale opens a few minutes
after seeding (its pre-queue is open), and a chamber concert sold out to a demo crowd
through the real sale path (holds, orders, internal payments). Idempotent: an event whose
title is listed already is left alone.
"""

from __future__ import annotations

import io
import secrets
import textwrap
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from boxoffice.catalog import service as catalog
from boxoffice.catalog.schemas import EventCreate, ListingQuery, VenueCreate
from boxoffice.identity import service as identity
from boxoffice.orders import service as orders
from boxoffice.orders.schemas import OrderCreate
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Principal, Role
from boxoffice.seating import service as seating


@dataclass(frozen=True)
class DemoEvent:
    title: str
    category: str
    description: str
    colours: tuple[str, str]
    grades: dict[str, int]
    opens_in: timedelta  # from seeding; negative: already open
    queue: dict[str, Any]
    sold_out: bool = False


MUSICAL = DemoEvent(
    "Musical: Song of the Stars",
    "musical",
    "A night-sky love story in two acts. The theatre's seat map is drawn from its own "
    "coordinates: rows curve around the stage.",
    ("#0b132b", "#5bc0be"),
    {"OP": 150_000, "R": 120_000, "S": 90_000},
    timedelta(hours=-2),
    {"enabled": False},
)
FESTIVAL = DemoEvent(
    "K-Wave Festival 2027",
    "festival",
    "Twelve acts on one stage. The sale opens a few minutes after the demo data is made: "
    "wait in the line from the event page and watch the countdown.",
    ("#ff6b6b", "#ffd93d"),
    {"OP": 180_000, "R": 130_000, "S": 99_000},
    timedelta(minutes=5),
    {"enabled": True, "admit_per_second": 5, "max_active": 100, "pre_queue_minutes": 30},
)
CHAMBER = DemoEvent(
    "Chamber Orchestra Evening",
    "classical",
    "Mozart and Schubert in a small hall. Sold out: a returned ticket goes back on sale here.",
    ("#3a1c71", "#ffaf7b"),
    {"R": 88_000},
    timedelta(hours=-3),
    {"enabled": False},
    sold_out=True,
)
CROWD = 10  # demo fans who bought the chamber concert's 40 seats, 4 each


def poster(title: str, colours: tuple[str, str], size: tuple[int, int] = (800, 1130)) -> bytes:
    """A gradient poster with the title and a few rings of light (Pillow, in memory)."""
    from PIL import Image, ImageColor, ImageDraw

    width, height = size
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    start, end = ImageColor.getrgb(colours[0]), ImageColor.getrgb(colours[1])
    for y in range(height):
        t = y / (height - 1)
        colour = tuple(int(a + (b - a) * t) for a, b in zip(start, end, strict=True))
        draw.line([(0, y), (width, y)], fill=colour)
    for i in range(7):
        r = 40 + 25 * i
        cx, cy = width * (0.2 + 0.11 * i), height * (0.25 + 0.06 * (i % 3))
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], outline="white", width=3)
    for n, line in enumerate(textwrap.wrap(title, 16)):
        draw.text((60, height * 0.62 + n * 80), line, fill="white", font_size=64)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()


def theatre() -> VenueCreate:
    """A 405-seat theatre whose 18 rows bow around the stage, each seat with coordinates."""
    sections = []
    for name, grade, first, rows in (
        ("Orchestra", "OP", 0, 4),
        ("Stalls", "R", 4, 8),
        ("Circle", "S", 12, 6),
    ):
        section_rows = []
        for r in range(first, first + rows):
            count, aisle = 14 + r, 1.5 * (first > 0) + 1.5 * (first > 4)  # a gap between sections
            seats = []
            for i in range(count):
                x = (i - (count - 1) / 2) * 1.1
                y = r * 1.3 + aisle - 0.012 * x * x  # the ends of a row come closer to the stage
                seats.append({"number": i + 1, "x": round(x, 2), "y": round(y, 2)})
            section_rows.append({"label": chr(ord("A") + r), "seats": seats})
        sections.append({"name": name, "grade": grade, "rows": section_rows})
    return VenueCreate.model_validate(
        {
            "name": "Boxoffice Star Theatre",
            "address": "66 Daehak-ro, Jongno-gu, Seoul",
            "sections": sections,
        }
    )


def small_hall() -> VenueCreate:
    return VenueCreate.model_validate(
        {
            "name": "Boxoffice Chamber Hall",
            "address": "2406 Nambusunhwan-ro, Seocho-gu, Seoul",
            "sections": [
                {
                    "name": "Hall",
                    "grade": "R",
                    "rows": [{"label": label, "seats": 10} for label in "ABCD"],
                }
            ],
        }
    )


async def _listed(runtime: Runtime, title: str) -> bool:
    page = await catalog.event_listing(runtime, ListingQuery(q=title, limit=5))
    return any(card.title == title for card in page.items)


async def _create(
    runtime: Runtime, seller: Principal, demo: DemoEvent, venue: VenueCreate
) -> tuple[str, list[str]]:
    """Venue, event, one show in five weeks, poster, published; returns the show's id and
    its seat ids."""
    now = runtime.clock.now()
    async with runtime.uow() as uow:
        created = await catalog.create_venue(uow, seller, venue)
    venue_id = created["id"]
    seat_ids = [
        seat["id"]
        for section in created["sections"]
        for row in section["rows"]
        for seat in row["seats"]
    ]
    body = EventCreate.model_validate(
        {
            "title": demo.title,
            "description": demo.description,
            "category": demo.category,
            "venue_id": venue_id,
            "grades": [{"code": g, "name": f"{g}석", "price": p} for g, p in demo.grades.items()],
            "sale_opens_at": now + demo.opens_in,
            "sale_closes_at": now + timedelta(days=30),
            "max_tickets_per_user": 4,
            "queue": demo.queue,
        }
    )
    async with runtime.uow() as uow:
        event = await catalog.create_event(uow, runtime, seller, body)
        event_id = event.id
    async with runtime.uow() as uow:
        show = await catalog.create_show(
            uow, runtime, seller, event_id, _evening(now + timedelta(days=35))
        )
        show_id = show.id
    async with runtime.uow() as uow:
        await catalog.add_image(
            uow, runtime, seller, event_id, kind="poster", data=poster(demo.title, demo.colours)
        )
    async with runtime.uow() as uow:
        await catalog.publish_event(uow, runtime, seller, event_id)
    return show_id, seat_ids


def _evening(day: datetime) -> datetime:
    return day.replace(hour=10, minute=0, second=0, microsecond=0)  # 19:00 in Seoul


async def _sell_out(runtime: Runtime, show_id: str, seat_ids: list[str]) -> None:
    """Every seat sold through holds, orders and the internal provider, four per fan."""
    for n in range(CROWD):
        seats = seat_ids[n * 4 : n * 4 + 4]
        if not seats:
            return
        async with runtime.uow() as uow:
            user, _ = await identity.ensure_user(
                uow,
                runtime,
                email=f"crowd{n + 1}@boxoffice.local",
                password=secrets.token_urlsafe(16),
                name=f"Demo Fan {n + 1}",
                role=Role.CUSTOMER,
            )
            fan = Principal(id=user.id, email=user.email, role=Role.CUSTOMER)
        held = await seating.hold_seats(
            runtime, show_id=show_id, user=fan, seat_ids=seats, admission_token=None
        )
        order, _ = await orders.create_order(
            runtime,
            fan,
            OrderCreate(hold_id=held.hold_id, payment_provider="internal"),
            f"demo-{held.hold_id}",
        )
        await orders.pay_internal(runtime, fan, order.id)


async def ensure_storefront(runtime: Runtime, seller_id: str) -> int:
    """The three demo events above, created where missing; returns how many were created."""
    seller = Principal(id=seller_id, email="seller@boxoffice.local", role=Role.SELLER)
    created = 0
    for demo, venue in ((MUSICAL, theatre()), (FESTIVAL, theatre()), (CHAMBER, small_hall())):
        if await _listed(runtime, demo.title):
            continue
        show_id, seat_ids = await _create(runtime, seller, demo, venue)
        if demo.sold_out:
            await _sell_out(runtime, show_id, seat_ids)
        created += 1
    return created
