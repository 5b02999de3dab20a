"""A show moved to another time (catalog's ``ShowRescheduled``): its tickets follow, the
day-before reminder is due again for the new day, and each holder of a valid ticket is
told (one ``ShowMovedNotice`` per holder, so each e-mail is its own delivery). The
consumer writes only to the database, in the transaction that marks the event processed:
a redelivery changes and tells nothing twice."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update

from boxoffice.catalog.events import ShowRescheduled
from boxoffice.platform.db import record_of
from boxoffice.platform.messaging import Delivery
from boxoffice.tickets.events import ShowMovedNotice
from boxoffice.tickets.models import ShowReminder, Ticket


async def follow_show(event: ShowRescheduled, delivery: Delivery) -> None:
    new = datetime.fromisoformat(event.new_starts_at)
    async with delivery.uow() as uow:
        holders = sorted(
            set(
                await uow.session.scalars(
                    select(Ticket.user_id).where(
                        Ticket.show_id == event.show_id, Ticket.status == "valid"
                    )
                )
            )
        )
        await uow.session.execute(
            update(Ticket).where(Ticket.show_id == event.show_id).values(starts_at=new)
        )
        await uow.session.execute(delete(ShowReminder).where(ShowReminder.show_id == event.show_id))
        for user_id in holders:
            uow.record(record_of(ShowMovedNotice, event, user_id=user_id))
        await delivery.commit(uow)
