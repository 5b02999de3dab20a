"""An e-mailed one-time link: password resets and e-mail verification both use one.

The link carries a random secret of which only a SHA-256 is stored (a leaked table opens
no account), valid for a time and once: spending it is one conditional UPDATE
(``used_at IS NULL``), so two uses at once succeed once. The caller keeps its own checks,
errors and commit; nothing here commits.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import select, update

from boxoffice.identity.models import EmailVerification, PasswordReset
from boxoffice.platform.ids import new_id
from boxoffice.platform.uow import UnitOfWork

# The models share the columns (id, user_id, token_hash, created_at, expires_at, used_at)
# but no base class; the tables stay as their migrations made them.
LinkT = TypeVar("LinkT", PasswordReset, EmailVerification)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue(
    uow: UnitOfWork, model: type[LinkT], user_id: str, lifetime: timedelta, **columns: object
) -> tuple[str, datetime]:
    """Add a new link of ``model`` for the user (no commit), with the model's own
    ``columns``: ``(secret, expires_at)``; the secret goes in the e-mail, never the table."""
    secret, now = secrets.token_urlsafe(32), uow.clock.now()
    expires_at = now + lifetime
    uow.session.add(
        model(
            id=new_id(), user_id=user_id, token_hash=_hash(secret), created_at=now,
            expires_at=expires_at, **columns,
        )
    )  # fmt: skip
    return secret, expires_at


async def usable(uow: UnitOfWork, model: type[LinkT], token: str, now: datetime) -> LinkT | None:
    """The link of ``token`` if it can still be used: ``None`` when unknown, used or
    expired at ``now``. Using it is :func:`spend`'s (another may spend it meanwhile)."""
    link = await uow.session.scalar(select(model).where(model.token_hash == _hash(token)))
    if link is None or link.used_at is not None or link.expires_at <= now:
        return None
    return link


async def spend(uow: UnitOfWork, link: LinkT, now: datetime) -> bool:
    """Mark ``link`` used at ``now`` unless it is already (no commit): ``False`` when
    another use spent it first."""
    model = type(link)
    spent = await uow.session.execute(
        update(model).where(model.id == link.id, model.used_at.is_(None)).values(used_at=now)
    )
    return bool(spent.rowcount == 1)  # type: ignore[attr-defined]


async def void_unspent(uow: UnitOfWork, model: type[LinkT], user_id: str, now: datetime) -> None:
    """Mark every unspent link of ``model`` the user has used at ``now`` (no commit)."""
    await uow.session.execute(
        update(model).where(model.user_id == user_id, model.used_at.is_(None)).values(used_at=now)
    )
