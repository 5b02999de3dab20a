"""Looking people up: the admin's user search, and the buyers other contexts name.

Read-only; nothing here commits. Pages are keyset-paged on the user id (UUIDv7, so newest
first), never by offset, so a deep page costs what the first one does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select

from boxoffice.identity import domain
from boxoffice.identity.models import SellerProfile, User
from boxoffice.identity.schemas import AdminUserRead, UserSearch
from boxoffice.platform import listing, search
from boxoffice.platform.uow import UnitOfWork


@dataclass(frozen=True)
class Person:
    """A user as a seller's order list or attendee list names them."""

    id: str
    email: str
    name: str


async def search_users(
    uow: UnitOfWork, wanted: UserSearch
) -> tuple[list[AdminUserRead], str | None]:
    """Users whose e-mail or name contains ``q`` (any case), newest first, with their seller
    application's status; ``cursor`` is the last id of the previous page."""
    query = select(User, SellerProfile.status).outerjoin(
        SellerProfile, SellerProfile.user_id == User.id
    )
    if wanted.q:
        query = query.where(search.contains(wanted.q, User.email, User.name))
    if wanted.role:
        query = query.where(User.role == wanted.role)
    if wanted.seller_status:
        query = query.where(SellerProfile.status == wanted.seller_status)
    rows, next_cursor = await listing.keyset_page(
        uow, query, User.id, wanted.cursor, wanted.limit, newest_first=True, whole_rows=True
    )
    page = []
    for user, status in rows:
        read = AdminUserRead.model_validate(user)
        read.seller_status = status
        page.append(read)
    return page, next_cursor


async def people(uow: UnitOfWork, user_ids: Iterable[str]) -> dict[str, Person]:
    """The named users (one query for a page of ids); unknown ids are left out."""
    wanted = sorted(set(user_ids))
    if not wanted:
        return {}
    rows = await uow.session.execute(
        select(User.id, User.email, User.name).where(User.id.in_(wanted))
    )
    return {row.id: Person(row.id, row.email, row.name) for row in rows}


async def user_id_by_email(uow: UnitOfWork, email: str) -> str | None:
    """The id of the account with this e-mail (e-mails are kept normalised), if any."""
    found: str | None = await uow.session.scalar(
        select(User.id).where(User.email == domain.normalise_email(email))
    )
    return found
