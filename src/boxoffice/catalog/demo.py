"""Demo catalog for the embedded run: a ~2,000-seat arena in four grades, one published
event with two shows and its images. Idempotent: a re-run finds what exists (by the
seller and the names below) and only adds what is missing."""

from __future__ import annotations

import io
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from boxoffice.catalog import service
from boxoffice.catalog.adapters import CatalogAdapters, adapters
from boxoffice.catalog.models import Event, EventImage, Show, Venue
from boxoffice.catalog.schemas import EventCreate, GradeIn, QueueIn, VenueCreate
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Principal, Role
from boxoffice.platform.storage import attach_storage

VENUE_NAME = "Boxoffice Demo Arena"
EVENT_TITLE = "Boxoffice Demo Live 2026"
# (section, grade, rows, seats per row): 200 + 480 + 640 + 680 = 2,000 seats.
SECTIONS = (
    ("Floor", "VIP", 8, 25),
    ("Lower", "R", 16, 30),
    ("Upper", "S", 20, 32),
    ("Gallery", "A", 20, 34),
)
PRICES = {"VIP": 165_000, "R": 143_000, "S": 121_000, "A": 99_000}


@dataclass(frozen=True)
class DemoCatalog:
    venue_id: str
    event_id: str
    show_ids: tuple[str, ...]
    created: bool


def _venue_body() -> VenueCreate:
    return VenueCreate.model_validate(
        {
            "name": VENUE_NAME,
            "address": "25 Olympic-ro, Songpa-gu, Seoul",
            "sections": [
                {
                    "name": name,
                    "grade": grade,
                    "rows": [{"label": f"{name[0]}{r + 1}", "seats": seats} for r in range(rows)],
                }
                for name, grade, rows, seats in SECTIONS
            ],
        }
    )


def _show_times(now: datetime) -> tuple[datetime, datetime]:
    day = (now + timedelta(days=30)).replace(hour=10, minute=0, second=0, microsecond=0)
    return day, day + timedelta(days=1)  # 19:00 KST on two evenings


def _picture(size: tuple[int, int], title: str, colours: tuple[str, str]) -> bytes:
    from PIL import Image, ImageColor, ImageDraw

    width, height = size
    image = Image.new("RGB", size, colours[0])
    draw = ImageDraw.Draw(image)
    start, end = ImageColor.getrgb(colours[0]), ImageColor.getrgb(colours[1])
    for y in range(height):
        t = y / max(1, height - 1)
        colour = tuple(int(a + (b - a) * t) for a, b in zip(start, end, strict=True))
        draw.line([(0, y), (width, y)], fill=colour)
    draw.text((width // 12, height // 3), title, fill="white", font_size=max(24, width // 14))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()


async def ensure_demo_catalog(runtime: Runtime, seller_id: str) -> DemoCatalog:
    """The demo venue, event, shows and images of ``seller_id``, created where missing."""
    async with AsyncExitStack() as stack:
        borrowed = runtime.storage is None
        adapters(runtime).storage = await attach_storage(runtime, stack)
        try:
            return await _ensure(runtime, seller_id)
        finally:
            if borrowed:  # the storage closes with this stack: do not leave it behind
                runtime.storage = None
                runtime.adapters.remove(CatalogAdapters)


async def _ensure(runtime: Runtime, seller_id: str) -> DemoCatalog:
    seller = Principal(id=seller_id, email="seller@boxoffice.local", role=Role.SELLER)
    created = False
    async with runtime.uow() as uow:
        await service.ensure_default_categories(uow)
        await uow.commit()
        venue_id = await uow.session.scalar(
            select(Venue.id).where(Venue.seller_id == seller_id, Venue.name == VENUE_NAME)
        )
    if venue_id is None:
        async with runtime.uow() as uow:
            venue_id = (await service.create_venue(uow, seller, _venue_body()))["id"]
        created = True
    async with runtime.uow() as uow:  # plain values: the rows expire when the unit closes
        found = (
            await uow.session.execute(
                select(Event.id, Event.status, Event.sale_closes_at).where(
                    Event.seller_id == seller_id,
                    Event.title == EVENT_TITLE,
                    Event.status != "cancelled",
                )
            )
        ).first()
    if found is not None:
        event_id, status, sale_closes_at = found
    else:
        event_id, status, sale_closes_at = await _create_event(runtime, seller, venue_id)
        created = True
    created = await _complete_event(runtime, seller, event_id, sale_closes_at) or created
    if status == "draft":
        async with runtime.uow() as uow:
            await service.publish_event(uow, runtime, seller, event_id)
        created = True
    async with runtime.uow() as uow:
        show_ids = tuple(
            await uow.session.scalars(
                select(Show.id).where(Show.event_id == event_id).order_by(Show.starts_at)
            )
        )
    return DemoCatalog(venue_id, event_id, show_ids, created)


async def _create_event(
    runtime: Runtime, seller: Principal, venue_id: str
) -> tuple[str, str, datetime]:
    now = runtime.clock.now()
    first, _ = _show_times(now)
    body = EventCreate(
        title=EVENT_TITLE,
        description="Four grades, two nights, one demo: try the queue, the seat map and "
        "the checkout with the internal payment provider.",
        category="concert",
        venue_id=venue_id,
        grades=[GradeIn(code=g, name=f"{g}석", price=p) for g, p in PRICES.items()],
        sale_opens_at=now - timedelta(hours=1),
        sale_closes_at=first - timedelta(hours=1),
        max_tickets_per_user=4,
        queue=QueueIn(enabled=True, admit_per_second=20, max_active=200),
    )
    async with runtime.uow() as uow:
        event = await service.create_event(uow, runtime, seller, body)
        return event.id, event.status, event.sale_closes_at


async def _complete_event(
    runtime: Runtime, seller: Principal, event_id: str, sale_closes_at: datetime
) -> bool:
    """Add the shows and pictures a demo event lacks; True when it added any."""
    async with runtime.uow() as uow:
        starts = list(
            await uow.session.scalars(select(Show.starts_at).where(Show.event_id == event_id))
        )
        images = await uow.session.scalar(
            select(func.count()).select_from(EventImage).where(EventImage.event_id == event_id)
        )
    added = False
    for moment in _show_times(sale_closes_at + timedelta(hours=1))[len(starts) :]:
        async with runtime.uow() as uow:
            await service.create_show(uow, runtime, seller, event_id, moment)
        added = True
    if not images:
        pictures = (
            ("poster", _picture((800, 1130), "Demo Live 2026", ("#1d2b64", "#f8cdda"))),
            ("detail", _picture((1200, 675), "Seat map & grades", ("#0f2027", "#2c5364"))),
        )
        for kind, data in pictures:
            async with runtime.uow() as uow:
                await service.add_image(uow, runtime, seller, event_id, kind=kind, data=data)
        added = True
    return added
