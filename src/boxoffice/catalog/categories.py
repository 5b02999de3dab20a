"""Categories: a managed list (seeded by the first migration), edited by admins."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from boxoffice.catalog import domain
from boxoffice.catalog.errors import CategoryExists, CategoryNotFound
from boxoffice.catalog.models import Category
from boxoffice.catalog.schemas import CategoryCreate, CategoryUpdate
from boxoffice.platform.uow import UnitOfWork


async def list_categories(uow: UnitOfWork, *, include_inactive: bool = False) -> list[Category]:
    statement = select(Category).order_by(Category.position, Category.code)
    if not include_inactive:
        statement = statement.where(Category.active.is_(True))
    return list(await uow.session.scalars(statement))


async def create_category(uow: UnitOfWork, body: CategoryCreate) -> Category:
    if await uow.session.get(Category, body.code) is not None:
        raise CategoryExists(f"Category {body.code!r} exists.")
    category = Category(code=body.code, name=body.name, position=body.position, active=True)
    uow.session.add(category)
    try:
        await uow.commit()
    except IntegrityError as exc:
        raise CategoryExists(f"Category {body.code!r} exists.") from exc
    return category


async def update_category(uow: UnitOfWork, code: str, body: CategoryUpdate) -> Category:
    """Rename, reorder or retire a category (retired ones stay on existing events)."""
    category = await uow.session.get(Category, code)
    if category is None:
        raise CategoryNotFound()
    for field, value in body.model_dump(exclude_unset=True).items():
        if value is not None:
            setattr(category, field, value)
    await uow.commit()
    return category


async def ensure_default_categories(uow: UnitOfWork) -> int:
    """Add the standard categories that are missing (a database emptied by hand); no commit."""
    existing = set(await uow.session.scalars(select(Category.code)))
    missing = [
        {"code": code, "name": name, "position": position, "active": True}
        for code, name, position in domain.DEFAULT_CATEGORIES
        if code not in existing
    ]
    if missing:
        await uow.session.execute(insert(Category), missing)
    return len(missing)
