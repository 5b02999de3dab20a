"""Who may hold seats of a show now, and at what price: the sale window (a presale code may
open it earlier), the admission token when the show has a waiting room, and the ticket
types the buyer chose, checked for the seats."""

from __future__ import annotations

from collections.abc import Mapping

from boxoffice.catalog import service as catalog
from boxoffice.catalog.contracts import SaleNotOpen, ShowNotFound, ShowSaleInfo, TicketTypeInfo
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Principal
from boxoffice.seating import holds, pricing, redeeming
from boxoffice.seating.code_rules import CodeInfo
from boxoffice.seating.errors import TicketTypeUnavailable
from boxoffice.waitroom import service as waitroom


async def typed_choice(
    runtime: Runtime,
    request: holds.HoldAttempt,
    chosen: Mapping[str, str],
    code: CodeInfo | None,
) -> dict[str, TicketTypeInfo]:
    """The types the buyer chose, checked for these seats now (pricing's rules)."""
    show_id = request.info.show_id
    found = await catalog.ticket_types_for_show(runtime, show_id, sorted(set(chosen.values())))
    grades = {seat_id: request.layout.index[seat_id].grade for seat_id in request.wanted}
    try:
        unlocked = () if code is None or code.ticket_type_id is None else (code.ticket_type_id,)
        return pricing.choose_types(grades, chosen, found, runtime.clock.now(), unlocked)
    except pricing.TypeRefused as refused:
        raise TicketTypeUnavailable(
            refused.reason, seat_ids=[refused.seat_id], ticket_type_id=refused.ticket_type_id
        ) from None


async def admitted(
    runtime: Runtime,
    info: ShowSaleInfo | None,
    show_id: str,
    user: Principal,
    admission_token: str | None,
    code: CodeInfo | None = None,
) -> ShowSaleInfo:
    """``info`` when ``user`` may hold seats of the show now (a presale code may open the
    sale earlier for them); else the refusal."""
    if info is None or info.event_status == "draft":
        raise ShowNotFound(f"Show {show_id} not found.")
    if info.queue.enabled:  # raises AdmissionRequired / AdmissionInvalid
        await waitroom.check_admission(runtime, admission_token, show_id=show_id, user_id=user.id)
    if not redeeming.sale_open_for(info, code, runtime.clock.now()):
        raise SaleNotOpen(
            "Tickets for this show are not on sale now.",
            sale_opens_at=info.sale_opens_at.isoformat(),
            sale_closes_at=info.sale_closes_at.isoformat(),
        )
    return info
