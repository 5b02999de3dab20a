"""Deleting one's account (``docs/accounts.md``).

The person is erased, the row stays: orders and tickets keep their ``user_id`` (the law
keeps payment records for five years — 전자상거래법 — and a seller's attendee list must not
change under them), but the account's e-mail, name, phone, password, social links, seller
application and pending links are gone, every login ends, and nobody can sign in to it
again. Only a customer account with no valid ticket for a show to come can go: a seller,
staff or admin account changes role first (an admin does it), and tickets are used,
transferred or cancelled first (tickets' guard).
"""

from __future__ import annotations

from sqlalchemy import delete, select

from boxoffice.identity import passwords, sessions
from boxoffice.identity.contracts import DeletionGuards
from boxoffice.identity.errors import AccountNotDeletable, WrongPassword
from boxoffice.identity.events import AccountDeleted
from boxoffice.identity.models import (
    EmailVerification,
    PasswordReset,
    SellerProfile,
    SocialAccount,
    User,
)
from boxoffice.platform.errors import NotFound
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Principal, Role
from boxoffice.platform.uow import UnitOfWork

ERASED_NAME = "Deleted account"


def erased_email(user_id: str) -> str:
    """The address a deleted account keeps: unique, and never deliverable (RFC 2606)."""
    return f"deleted-{user_id}@deleted.invalid"


async def delete_account(
    uow: UnitOfWork, runtime: Runtime, principal: Principal, password: str | None
) -> None:
    """Erase the caller's account; commits. Raises ``WrongPassword`` (an account with a
    password must give it) and ``AccountNotDeletable`` (``reason``)."""
    user = await uow.session.scalar(
        select(User).where(User.id == principal.id, User.deleted_at.is_(None)).with_for_update()
    )
    if user is None:
        raise NotFound("No such account.")
    settings = runtime.settings
    if user.password_hash is not None and not await passwords.verify_password(
        settings, user.password_hash, password or ""
    ):
        raise WrongPassword()
    if user.role != Role.CUSTOMER.value:
        raise AccountNotDeletable(
            "A seller, staff or admin account is changed to a customer first.", reason="has_duties"
        )
    registered = runtime.adapters.find(DeletionGuards)
    for guard in registered.guards if registered is not None else []:
        reason = await guard(uow, user.id)
        if reason is not None:
            raise AccountNotDeletable(reason=reason)
    now = uow.clock.now()
    for table in (SocialAccount, PasswordReset, EmailVerification, SellerProfile):
        await uow.session.execute(delete(table).where(table.user_id == user.id))
    user.email, user.name, user.phone = erased_email(user.id), ERASED_NAME, None
    user.password_hash, user.email_verified = None, False
    user.deleted_at = user.updated_at = now
    families = await sessions.revoke_all(uow, user.id, now)
    uow.record(AccountDeleted(user_id=user.id))
    await uow.commit()
    await sessions.tell_logins_ended(runtime, user.id, families)
