"""A purchase limit across every show of an event (``docs/selling.md``).

The seller chooses per event whether ``max_tickets_per_user`` counts per show (the
default, ``holds._check_limit``) or across the event's shows. Across the event, the
buyer's lock row is keyed by the event (``seating_buyer_locks`` with the event id in
``show_id``: ids never collide), so one buyer's claims on any show of the event run one at
a time, and the count reads the buyer's seats taken now on all of them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select

from boxoffice.platform.db import table_of
from boxoffice.platform.uow import UnitOfWork
from boxoffice.seating import claims
from boxoffice.seating.models import Seat, ShowInventory

SEATS, SHOWS = table_of(Seat), table_of(ShowInventory)

_OWNED_IN_EVENT = claims.taken_count(
    SEATS.c.show_id.in_(select(SHOWS.c.show_id).where(SHOWS.c.event_id == bindparam("event"))),
    SEATS.c.holder_id == bindparam("buyer"),
)


async def owned_in_event(uow: UnitOfWork, event_id: str, user_id: str, now: datetime) -> int:
    """Lock the (event, buyer) row, then count the buyer's seats of the event's shows that
    are sold or held now. Always counted: a limit switched from per show to per event
    mid-sale has claims that never took the event's row."""
    await claims.lock_buyer(uow, event_id, user_id)
    conn = await uow.connection()
    params = {"event": event_id, "buyer": user_id, "now": now}
    return int(await conn.scalar(_OWNED_IN_EVENT, params) or 0)
