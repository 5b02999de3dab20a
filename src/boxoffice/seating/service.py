"""seating's use cases: the only module other contexts may call.

Functions that take a ``uow`` and say "no commit" work inside the caller's transaction,
so catalog (creating a show) and orders (selling a hold) commit once.
"""

from __future__ import annotations

from collections.abc import Sequence

from boxoffice.platform.runtime import Runtime
from boxoffice.platform.uow import UnitOfWork
from boxoffice.seating import inventory
from boxoffice.seating import models as models  # tables visible to Alembic
from boxoffice.seating.contracts import SeatSpec


async def create_show_inventory(
    uow: UnitOfWork,
    runtime: Runtime,
    *,
    show_id: str,
    event_id: str,
    seats: Sequence[SeatSpec],
) -> int:
    """Create every seat of a show as ``available`` (bulk insert, chunked). No commit.

    Returns the number of seats. Raises ``InventoryExists`` (409) if the show already has
    seats, ``UnknownSeats`` (422) for a duplicated or malformed seat id.
    """
    return await inventory.create(uow, show_id=show_id, event_id=event_id, seats=seats)
