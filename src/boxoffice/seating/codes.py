"""Presale codes and vouchers in the database (``docs/selling.md``; rules in code_rules).

A redemption is reserved by the hold that uses the code, in the hold's transaction, after
the code's row is locked (``claims = claims + 1``) and its live uses counted: spent ones,
and reserved ones whose hold is active and not expired. So a lapsed hold gives its use
back by time, as it gives its seats back; a paid order spends it (``spend``, in the
settling transaction) and a cancelled order releases it (``release_for_order``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, or_, select, update

from boxoffice.platform.db import record_of
from boxoffice.platform.ids import new_id
from boxoffice.platform.uow import UnitOfWork
from boxoffice.seating.code_rules import CodeInfo, within_uses
from boxoffice.seating.errors import CodeExhausted
from boxoffice.seating.models import Code, CodeRedemption, Hold

RESERVED, SPENT, RELEASED = "reserved", "spent", "released"


def info_of(row: Code) -> CodeInfo:
    return record_of(CodeInfo, row)


async def create(
    uow: UnitOfWork, template: dict[str, Any], texts: Sequence[str], batch_id: str | None
) -> list[Code]:
    """Insert one code per text with the same effects and limits. No commit."""
    now = uow.clock.now()
    rows = [
        Code(
            id=new_id(),
            code=text,
            batch_id=batch_id,
            claims=0,
            created_at=now,
            active=True,
            **template,
        )
        for text in texts
    ]
    uow.session.add_all(rows)
    await uow.session.flush()
    return rows


async def find(uow: UnitOfWork, event_id: str, text: str) -> CodeInfo | None:
    row = await uow.session.scalar(select(Code).where(Code.event_id == event_id, Code.code == text))
    return None if row is None else info_of(row)


def _live(now: datetime) -> Any:
    """A redemption that counts: spent, or reserved by a hold still active and not expired."""
    return or_(
        CodeRedemption.status == SPENT,
        and_(CodeRedemption.status == RESERVED, Hold.status == "active", Hold.expires_at > now),
    )


async def check_available(uow: UnitOfWork, code: CodeInfo, user_id: str, now: datetime) -> None:
    """Lock the code's row, then count its live uses in all and by this buyer. Raises
    ``CodeExhausted`` when one more use would pass a limit. No commit."""
    await uow.session.execute(update(Code).where(Code.id == code.id).values(claims=Code.claims + 1))
    if code.max_uses is None and code.max_uses_per_user is None:
        return
    counts = (
        select(func.count(), func.count(case((CodeRedemption.user_id == user_id, 1))))
        .select_from(CodeRedemption)
        .join(Hold, Hold.id == CodeRedemption.hold_id)
        .where(CodeRedemption.code_id == code.id, _live(now))
    )
    used, mine = (await uow.session.execute(counts)).one()
    if not within_uses(int(used), code.max_uses):
        raise CodeExhausted("This code has been used up.", scope="code", limit=code.max_uses)
    if not within_uses(int(mine), code.max_uses_per_user):
        raise CodeExhausted(
            "You have used this code as often as allowed.",
            scope="user",
            limit=code.max_uses_per_user,
        )


async def reserve(
    uow: UnitOfWork, code: CodeInfo, *, user_id: str, hold_id: str, discount: int, now: datetime
) -> None:
    """Record the hold's use of the code (after ``check_available``). No commit."""
    uow.session.add(
        CodeRedemption(
            id=new_id(),
            code_id=code.id,
            user_id=user_id,
            hold_id=hold_id,
            status=RESERVED,
            discount=discount,
            created_at=now,
        )
    )
    await uow.session.flush()


async def spend(uow: UnitOfWork, hold_id: str, order_id: str, now: datetime) -> None:
    """The hold's order is paid: its reserved use is spent for good. No commit."""
    await uow.session.execute(
        update(CodeRedemption)
        .where(CodeRedemption.hold_id == hold_id, CodeRedemption.status == RESERVED)
        .values(status=SPENT, order_id=order_id, spent_at=now)
    )


async def release_for_order(uow: UnitOfWork, order_id: str, now: datetime) -> None:
    """The paid order is cancelled or refunded: its use of a code is given back. No commit."""
    await uow.session.execute(
        update(CodeRedemption)
        .where(CodeRedemption.order_id == order_id, CodeRedemption.status == SPENT)
        .values(status=RELEASED, released_at=now)
    )


async def of_event(uow: UnitOfWork, event_id: str, batch_id: str | None) -> list[tuple[Code, int]]:
    """The event's codes (one batch, or all) with their spent uses, in creation order."""
    spent = (
        select(CodeRedemption.code_id, func.count().label("n"))
        .where(CodeRedemption.status == SPENT)
        .group_by(CodeRedemption.code_id)
        .subquery()
    )
    query = (
        select(Code, func.coalesce(spent.c.n, 0))
        .outerjoin(spent, spent.c.code_id == Code.id)
        .where(Code.event_id == event_id)
        .order_by(Code.created_at, Code.code)
    )
    if batch_id is not None:
        query = query.where(Code.batch_id == batch_id)
    return [(row, int(n)) for row, n in (await uow.session.execute(query)).all()]


async def redemptions(uow: UnitOfWork, code_id: str, now: datetime) -> list[dict[str, Any]]:
    """The code's audit: every use, with what became of it (a reservation whose hold
    lapsed or was released shows as ``lapsed``)."""
    rows = await uow.session.execute(
        select(CodeRedemption, Hold.status, Hold.expires_at)
        .join(Hold, Hold.id == CodeRedemption.hold_id)
        .where(CodeRedemption.code_id == code_id)
        .order_by(CodeRedemption.created_at, CodeRedemption.id)
    )
    audit = []
    for used, hold_status, expires_at in rows.all():
        status = used.status
        if status == RESERVED and (hold_status != "active" or expires_at <= now):
            status = "lapsed"
        audit.append(
            {
                "id": used.id,
                "user_id": used.user_id,
                "hold_id": used.hold_id,
                "order_id": used.order_id,
                "status": status,
                "discount": used.discount,
                "created_at": used.created_at,
                "spent_at": used.spent_at,
                "released_at": used.released_at,
            }
        )
    return audit


async def get(uow: UnitOfWork, code_id: str) -> Code | None:
    return await uow.session.get(Code, code_id)
