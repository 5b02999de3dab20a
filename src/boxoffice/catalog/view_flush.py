"""Flushing view counts: counted views move from the counter (Redis or memory) into
``catalog_events.view_count``, each batch applied once (see ``views``)."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, bindparam, update
from sqlalchemy.exc import IntegrityError

from boxoffice.catalog.adapters import adapters, event_tag
from boxoffice.catalog.models import Event, ViewFlush
from boxoffice.platform.runtime import Runtime


async def flush(runtime: Runtime) -> int:
    """Move counted views from Redis (or memory) into ``catalog_events.view_count``.

    Returns how many views were written. Safe against views arriving meanwhile (atomic
    swap) and against a crash or a second flusher (each batch is applied once, by id).
    """
    state = adapters(runtime)
    total = 0
    for _ in range(3):  # a batch left over by a failed flush, then the live one
        batch = await state.views.take_batch()
        if batch is None:
            break
        counts = {e: n for e, n in batch.counts.items() if n}
        async with runtime.uow() as uow:
            applied = await uow.session.get(ViewFlush, batch.batch_id)
            if applied is None and counts:
                table = cast(Table, Event.__table__)
                events = table.c
                await uow.session.execute(
                    update(table)
                    .where(events.id == bindparam("event_id"))
                    .values(view_count=events.view_count + bindparam("views")),
                    [{"event_id": e, "views": n} for e, n in sorted(counts.items())],
                )
            if applied is None:
                uow.session.add(
                    ViewFlush(
                        batch_id=batch.batch_id,
                        events=len(counts),
                        views=sum(counts.values()),
                        flushed_at=uow.clock.now(),
                    )
                )
                try:
                    await uow.commit()
                    total += sum(counts.values())
                except IntegrityError:
                    await uow.rollback()  # another flusher applied this batch first
        await state.views.finish_batch(batch.batch_id)
        if counts:
            await state.cache.invalidate_tags(*(event_tag(e) for e in counts))
    return total
