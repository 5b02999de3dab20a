"""Pictures of an event: checked and re-encoded (platform.media), stored with a thumbnail,
attached to the event."""

from __future__ import annotations

from sqlalchemy import update

from boxoffice.catalog import domain
from boxoffice.catalog.adapters import adapters
from boxoffice.catalog.errors import EventStateConflict
from boxoffice.catalog.event_rules import invalidate_event, owned_event
from boxoffice.catalog.models import Event, EventImage
from boxoffice.catalog.schemas import ImageRead
from boxoffice.platform import media
from boxoffice.platform.db import record_of
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Principal
from boxoffice.platform.uow import UnitOfWork


async def add_image(
    uow: UnitOfWork,
    runtime: Runtime,
    principal: Principal,
    event_id: str,
    *,
    kind: str,
    data: bytes,
) -> EventImage:
    """Check the content (Pillow), store the image and a thumbnail, attach them to the event.

    Raises ``ImageTooLarge`` (413), ``UnsupportedImage`` (415), ``InvalidImage`` (422).
    """
    event = await owned_event(uow, principal, event_id, lock=False)
    if not domain.can_edit(event.status):
        raise EventStateConflict("A cancelled event cannot be edited.")
    media.refuse_oversized(data, runtime.settings.max_upload_bytes)
    state = adapters(runtime)
    stored = await media.store_image(
        runtime,
        state.storage,
        f"events/{event.id}",
        data,
        max_pixels=state.settings.max_image_pixels,
    )
    image = EventImage(
        id=stored.id, event_id=event.id, kind=kind, created_at=uow.clock.now(), **stored.columns()
    )
    uow.session.add(image)
    await uow.session.execute(
        update(Event).where(Event.id == event.id).values(updated_at=uow.clock.now())
    )
    await invalidate_event(uow, runtime, event.id)
    await uow.commit()
    return image


def image_read(runtime: Runtime, image: EventImage) -> ImageRead:
    """The image as an event's page and its upload answer show it: with its storage URLs."""
    storage = adapters(runtime).storage
    return record_of(
        ImageRead, image, url=storage.url(image.key), thumbnail_url=storage.url(image.thumbnail_key)
    )
