"""A lapsed hold revived by its payment is judged again as a new hold would be.

A payment confirmed after its hold expired still sells the hold's seats when nobody took
them (``selling.sell``). In the meantime the buyer may have bought other seats, the hold's
ticket types may have sold out and its code may have been used up by others; so the
revival re-checks, under the same locks as a hold, the buyer's limit (per show or per
event), the cap of each capped type among its seats, and the code's uses. A refusal raises
the hold's own error (``PurchaseLimitExceeded``, ``TicketTypeSoldOut``, ``CodeExhausted``);
the payment's transaction rolls back and the payment is refunded (``docs/selling.md``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row

from boxoffice.catalog import service as catalog
from boxoffice.catalog.contracts import ShowSaleInfo, TicketTypeInfo
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.uow import UnitOfWork
from boxoffice.seating import codes, holds, lifecycle


async def check(
    uow: UnitOfWork, runtime: Runtime, row: Row[Any], info: ShowSaleInfo, now: datetime
) -> None:
    """Raise what a new hold of these seats by this buyer would raise now (no commit)."""
    seats = lifecycle.decode_seats(row.seats)
    await holds.check_limit(uow, info, row.user_id, len(seats), now)
    type_ids = sorted({seat.ticket_type_id for seat in seats if seat.ticket_type_id})
    if type_ids:
        found = await catalog.ticket_types_for_show(runtime, row.show_id, type_ids)
        typed: dict[str, TicketTypeInfo] = {
            seat.seat_id: found[seat.ticket_type_id]
            for seat in seats
            if seat.ticket_type_id and seat.ticket_type_id in found
        }
        await holds.check_caps(uow, row.show_id, typed, now)
    if row.code_id is not None and (code := await codes.get(uow, row.code_id)) is not None:
        await codes.check_available(uow, codes.info_of(code), row.user_id, now)
