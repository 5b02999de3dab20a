"""Lists that people page through: keyset pages by id, and the search a show's seller runs
over its orders and tickets (a status, and a buyer's e-mail or an order id), page by page
or as a whole in short reads (an export)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar, TypeVarTuple

from sqlalchemy import Select, select
from sqlalchemy.orm import InstrumentedAttribute

from boxoffice.platform import csvsafe
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Principal
from boxoffice.platform.uow import UnitOfWork

Row = TypeVar("Row")
Columns = TypeVarTuple("Columns")
EXPORT_PAGE = 500  # rows per read while exporting: the memory a stream holds at once


def where_given(query: Select[*Columns], *filters: tuple[Any, object | None]) -> Select[*Columns]:
    """``query`` narrowed, for each ``(column, value)`` whose value is given (not None), to
    rows whose column equals it: a list's optional filters."""
    for column, value in filters:
        if value is not None:
            query = query.where(column == value)
    return query


async def keyset_page(
    uow: UnitOfWork,
    query: Select[*tuple[Any, ...]],
    key: InstrumentedAttribute[str],
    cursor: str | None,
    limit: int,
    *,
    newest_first: bool,
    whole_rows: bool = False,
) -> tuple[list[Any], str | None]:
    """Up to ``limit`` rows after ``cursor`` (the last ``key`` seen) in ``key`` order, and
    the cursor of the next page (None on the last). One query: ``limit + 1`` rows tell
    whether there is more. Each row is the query's first entity, or with ``whole_rows``
    the whole row (an entity and columns beside it; ``key`` belongs to the entity)."""
    if cursor:
        query = query.where(key < cursor if newest_first else key > cursor)
    ordered = query.order_by(key.desc() if newest_first else key).limit(limit + 1)
    result = await uow.session.execute(ordered)
    rows = list(result.all() if whole_rows else result.scalars())
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = rows[-1][0] if whole_rows else rows[-1]
    return rows, getattr(last, key.key)


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


class SellersQuery(Protocol):
    """What a seller asks of a show's list (the routes' parsed query parameters)."""

    @property
    def status(self) -> str | None: ...
    @property
    def q(self) -> str | None: ...
    @property
    def cursor(self) -> str | None: ...
    @property
    def limit(self) -> int: ...


@dataclass(frozen=True)
class PageQuery:
    status: str | None = None
    q: str | None = None
    cursor: str | None = None
    limit: int = 50


class Directory(Protocol):
    """Who the people of a page are: identity's service, handed in by the context (the
    kernel imports no context)."""

    async def user_id_by_email(self, uow: UnitOfWork, email: str) -> str | None: ...
    async def people(self, uow: UnitOfWork, user_ids: Iterable[str]) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class ShowRows(Generic[Row]):
    """A show's orders or tickets as its seller pages through them: narrowed by
    :func:`sellers_search`, keyset-paged by id, each row answered by ``read`` with its
    person (the page's people named in one lookup). ``model`` has the columns ``id``,
    ``show_id``, ``status`` and ``user_id`` (the buyer or holder); ``order`` is the column
    an order id in ``q`` is matched against."""

    model: Any
    order: InstrumentedAttribute[str]
    newest_first: bool
    directory: Directory
    read: Callable[[Any, Any], Row]
    # raises unless the principal is the show's seller (or an admin): catalog's owned_show
    authorise: Callable[[UnitOfWork, Principal, str], Awaitable[object]]
    csv_columns: Sequence[str]
    csv_cells: Callable[[Row], Iterable[Any]]

    async def page(
        self, uow: UnitOfWork, principal: Principal, show_id: str, query: SellersQuery
    ) -> tuple[list[Row], str | None]:
        """Up to ``query.limit`` rows after ``query.cursor`` and the next page's cursor;
        nothing when ``query.q`` is an e-mail nobody has. Raises what ``authorise`` does."""
        await self.authorise(uow, principal, show_id)
        return await self._page(uow, show_id, query)

    async def export(
        self, runtime: Runtime, principal: Principal, show_id: str, status: str | None
    ) -> AsyncIterator[str]:
        """The show's rows as CSV, checked with ``authorise`` before the first byte."""
        async with runtime.uow(read_only=True) as uow:
            await self.authorise(uow, principal, show_id)
        pages = self._every_page(runtime, show_id, status)
        return csvsafe.stream(self.csv_columns, pages, self.csv_cells)

    async def _page(
        self, uow: UnitOfWork, show_id: str, query: SellersQuery
    ) -> tuple[list[Row], str | None]:
        model = self.model
        narrowed = await sellers_search(
            select(model).where(model.show_id == show_id),
            status=(model.status, query.status),
            person=model.user_id,
            order=self.order,
            q=query.q,
            person_by_email=lambda email: self.directory.user_id_by_email(uow, email),
        )
        if narrowed is None:
            return [], None
        rows, next_cursor = await keyset_page(
            uow, narrowed, model.id, query.cursor, query.limit, newest_first=self.newest_first
        )
        people = await self.directory.people(uow, (row.user_id for row in rows))
        return [self.read(row, people.get(row.user_id)) for row in rows], next_cursor

    async def _every_page(
        self, runtime: Runtime, show_id: str, status: str | None
    ) -> AsyncIterator[list[Row]]:
        """All the show's rows, ``EXPORT_PAGE`` at a time, each page read in a short
        read-only unit of work of its own: memory stays flat whatever the show's size (a
        70,000-seat show, tests/e2e/console/test_exports.py), and no transaction stays open
        for the length of a download."""
        cursor: str | None = None
        while True:
            async with runtime.uow(read_only=True) as uow:
                query = PageQuery(status=status, cursor=cursor, limit=EXPORT_PAGE)
                page, cursor = await self._page(uow, show_id, query)
            yield page
            if cursor is None:
                return
