"""Lists that people page through: keyset pages by id, and the search a show's seller runs
over its orders and tickets (a status, and a buyer's e-mail or an order id)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute

from boxoffice.platform.uow import UnitOfWork


async def keyset_page(
    uow: UnitOfWork,
    query: Select[Any],
    key: InstrumentedAttribute[str],
    cursor: str | None,
    limit: int,
    *,
    newest_first: bool,
) -> tuple[list[Any], str | None]:
    """Up to ``limit`` rows after ``cursor`` (the last ``key`` seen) in ``key`` order, and
    the cursor of the next page (None on the last). One query: ``limit + 1`` rows tell
    whether there is more."""
    if cursor:
        query = query.where(key < cursor if newest_first else key > cursor)
    ordered = query.order_by(key.desc() if newest_first else key).limit(limit + 1)
    rows = list((await uow.session.execute(ordered)).scalars())
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, getattr(rows[-1], key.key) if more and rows else None


async def sellers_search(
    query: Select[Any],
    *,
    status: tuple[InstrumentedAttribute[str], str | None],
    person: InstrumentedAttribute[str],
    order: InstrumentedAttribute[str],
    q: str | None,
    person_by_email: Callable[[str], Awaitable[str | None]],
) -> Select[Any] | None:
    """``query`` narrowed to a status (when given) and to ``q``: an e-mail (exact, any case)
    names a person, anything else an order id. None when the e-mail names nobody."""
    column, wanted = status
    if wanted:
        query = query.where(column == wanted)
    term = (q or "").strip()
    if "@" in term:
        someone = await person_by_email(term)
        if someone is None:
            return None
        return query.where(person == someone)
    return query.where(order == term) if term else query
