"""A hold that presents a presale code or voucher: the code read and checked at the
hold's entry (``docs/selling.md``); its use is counted and reserved in the claim
(``holds._claim_once`` → ``codes``)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from boxoffice.catalog.contracts import ShowSaleInfo
from boxoffice.platform.runtime import Runtime
from boxoffice.seating import code_rules, codes
from boxoffice.seating.code_rules import CodeInfo
from boxoffice.seating.errors import CodeInvalid


async def resolve(runtime: Runtime, info: ShowSaleInfo, text: str) -> CodeInfo:
    """The event's code by its text (any case), usable now; else ``CodeInvalid`` (422)."""
    async with runtime.uow(read_only=True) as uow:
        found = await codes.find(uow, info.event_id, code_rules.normalise(text))
    if found is None:
        raise CodeInvalid("No such code for this event.")
    try:
        code_rules.check_usable(found, runtime.clock.now())
    except code_rules.CodeRefused as refused:
        raise CodeInvalid(str(refused)) from None
    return found


def sale_open_for(info: ShowSaleInfo, code: CodeInfo | None, now: datetime) -> bool:
    """Whether the sale is open now for someone holding ``code`` (its presale start)."""
    if code is None or code.presale_opens_at is None:
        return info.sale_open_at(now)
    opens = code_rules.opens_sale_at(code, info.sale_opens_at)
    return replace(info, sale_opens_at=opens).sale_open_at(now)
