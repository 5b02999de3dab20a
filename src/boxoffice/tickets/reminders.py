"""The day-before reminder (``docs/tickets.md``): a scheduled job e-mails every holder of a
valid ticket whose show starts within ``REMIND_HOURS``, once per holder per show.

"Once" is the database's: each reminder is a row keyed by (show, holder), written in the
same transaction as the ``ShowReminderDue`` event that notifications turns into the e-mail
(in the holder's language). A second run, or a second scheduler racing the first, finds
the row or loses on its key, and sends nothing.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

import structlog
from sqlalchemy import and_, exists, select
from sqlalchemy.exc import IntegrityError

from boxoffice.platform.runtime import Runtime
from boxoffice.tickets.events import ShowReminderDue
from boxoffice.tickets.models import ShowReminder, Ticket

REMIND_HOURS = 24
BATCH = 2000  # tickets read per run; the job runs again soon after
log = structlog.get_logger("boxoffice.tickets")


async def send_reminders(runtime: Runtime) -> int:
    """Job: remind the holders of shows starting within a day who were not reminded yet.
    Returns how many holders it reminded now. Safe to run in several processes at once."""
    async with runtime.uow(read_only=True) as uow:
        now = uow.clock.now()
        reminded = exists().where(
            and_(ShowReminder.show_id == Ticket.show_id, ShowReminder.user_id == Ticket.user_id)
        )
        rows = await uow.session.execute(
            select(Ticket)
            .where(
                Ticket.status == "valid",
                Ticket.starts_at > now,
                Ticket.starts_at <= now + timedelta(hours=REMIND_HOURS),
                ~reminded,
            )
            .order_by(Ticket.show_id, Ticket.user_id, Ticket.section, Ticket.row, Ticket.number)
            .limit(BATCH)
        )
        holders: dict[tuple[str, str], list[Ticket]] = defaultdict(list)
        for ticket in rows.scalars():
            holders[(ticket.show_id, ticket.user_id)].append(ticket)
    sent = 0
    for (show_id, user_id), tickets in holders.items():
        sent += await _remind(runtime, show_id, user_id, tickets)
    if sent:
        log.info("show_reminders_sent", count=sent)
    return sent


async def _remind(runtime: Runtime, show_id: str, user_id: str, tickets: list[Ticket]) -> int:
    first = tickets[0]
    async with runtime.uow() as uow:
        uow.session.add(ShowReminder(show_id=show_id, user_id=user_id, reminded_at=uow.clock.now()))
        uow.record(
            ShowReminderDue(
                user_id=user_id,
                show_id=show_id,
                title=first.title,
                starts_at=first.starts_at.isoformat() if first.starts_at else "",
                places=[f"{t.section} {t.row} {t.number}" for t in tickets],
            )
        )
        try:
            await uow.commit()
        except IntegrityError:  # another run reminded this holder first
            return 0
    return 1
