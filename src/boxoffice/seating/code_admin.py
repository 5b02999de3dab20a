"""The seller's side of presale codes and vouchers: create one or a batch, list them (and
as CSV), stop one, read a code's redemptions (``docs/selling.md``)."""

from __future__ import annotations

import csv
import io

from sqlalchemy.exc import IntegrityError

from boxoffice.catalog import service as catalog
from boxoffice.platform import csvsafe
from boxoffice.platform.errors import Conflict, Forbidden, NotFound, Unprocessable
from boxoffice.platform.ids import new_id
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Principal
from boxoffice.platform.uow import UnitOfWork
from boxoffice.seating import code_rules, codes
from boxoffice.seating.code_schemas import CodeBatch, CodeCreate, CodeRead, RedemptionRead
from boxoffice.seating.models import Code

_EFFECTS = ("presale_opens_at", "ticket_type_id", "amount_off", "percent_off")


async def _owned(uow: UnitOfWork, principal: Principal, event_id: str) -> None:
    event = await catalog.event_summary(uow, event_id)
    if event is None:
        raise NotFound(f"Event {event_id} not found.")
    if not principal.acts_for(event.seller_id):
        raise Forbidden("Only the event's seller or an admin manages its codes.")


def _invalid(message: str, field: str) -> Unprocessable:
    return Unprocessable(message, errors=[{"loc": ["body", field], "msg": message}])


async def _check(uow: UnitOfWork, principal: Principal, event_id: str, body: CodeCreate) -> None:
    if (body.code is None) == (body.count is None):
        raise _invalid("Give either a code or a count (a batch).", "code")
    if all(getattr(body, name) is None for name in _EFFECTS):
        raise _invalid("A code must open a presale, unlock a type or take money off.", "code")
    if body.amount_off is not None and body.percent_off is not None:
        raise _invalid("A code takes an amount or a percentage off, not both.", "amount_off")
    if body.valid_from and body.valid_until and body.valid_from >= body.valid_until:
        raise _invalid("valid_from must be before valid_until.", "valid_until")
    if body.ticket_type_id is not None:
        types = await catalog.event_ticket_types(uow, event_id, principal)
        if body.ticket_type_id not in {t.id for t in types}:
            raise _invalid("The event has no such ticket type.", "ticket_type_id")


def read(row: Code, uses: int = 0) -> CodeRead:
    return CodeRead.model_validate(row, from_attributes=True).model_copy(update={"uses": uses})


async def create(
    uow: UnitOfWork, principal: Principal, event_id: str, body: CodeCreate
) -> CodeBatch:
    """One code or a batch of unique ones. Commits. A code the event already has → 409."""
    await _owned(uow, principal, event_id)
    await _check(uow, principal, event_id, body)
    template = body.model_dump(exclude={"code", "count", "prefix"}) | {"event_id": event_id}
    if body.code is not None:
        texts, batch_id = [code_rules.normalise(body.code)], None
    else:
        texts, batch_id = code_rules.generate(body.count or 1, prefix=body.prefix), new_id()
    try:
        rows = await codes.create(uow, template, texts, batch_id)
        await uow.commit()
    except IntegrityError:
        raise Conflict("The event already has this code.") from None
    return CodeBatch(batch_id=batch_id, codes=[read(row) for row in rows])


async def listing(
    uow: UnitOfWork, principal: Principal, event_id: str, batch_id: str | None
) -> list[CodeRead]:
    await _owned(uow, principal, event_id)
    return [read(row, uses) for row, uses in await codes.of_event(uow, event_id, batch_id)]


async def as_csv(uow: UnitOfWork, principal: Principal, event_id: str, batch_id: str | None) -> str:
    """The codes as CSV (to mail merge or print): code, effects, limits, window, uses."""
    out = io.StringIO()
    fields = ["code", "batch_id", *_EFFECTS, "max_uses", "max_uses_per_user"]
    fields += ["valid_from", "valid_until", "active", "uses"]
    writer = csv.DictWriter(out, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for code in await listing(uow, principal, event_id, batch_id):
        writer.writerow({k: csvsafe.safe_cell(v) for k, v in code.model_dump(mode="json").items()})
    return out.getvalue()


async def _code(uow: UnitOfWork, principal: Principal, code_id: str) -> Code:
    row = await codes.get(uow, code_id)
    if row is None:
        raise NotFound(f"Code {code_id} not found.")
    await _owned(uow, principal, row.event_id)
    return row


async def update(uow: UnitOfWork, principal: Principal, code_id: str, active: bool) -> CodeRead:
    """Stop a code (``active: false``) or start it again. Commits. Uses already made stay."""
    row = await _code(uow, principal, code_id)
    row.active = active
    await uow.commit()
    return read(row)


async def redemptions(
    runtime: Runtime, uow: UnitOfWork, principal: Principal, code_id: str
) -> list[RedemptionRead]:
    """The code's audit: each use, by whom, with which hold and order, and its fate."""
    await _code(uow, principal, code_id)
    rows = await codes.redemptions(uow, code_id, runtime.clock.now())
    return [RedemptionRead(**row) for row in rows]
