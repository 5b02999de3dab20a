"""Changing one's password and e-mail (``docs/accounts.md``).

Both ask for the current password. A new password ends every other login of the account
(the one asking stays signed in) and the owner is e-mailed that it changed — the one sign
a hijacked account gives its owner. A new e-mail is not taken on trust: a link is sent to
the new address (``email_verification``), and only opening it moves the account, which
then tells the old address where it went.
"""

from __future__ import annotations

from sqlalchemy import select

from boxoffice.identity import domain, email_verification, passwords, sessions
from boxoffice.identity.errors import EmailTaken, WrongPassword
from boxoffice.identity.events import EmailVerificationRequested, PasswordChanged
from boxoffice.identity.models import User
from boxoffice.platform.errors import NotFound, Unprocessable
from boxoffice.platform.ratelimit import Rule
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Principal
from boxoffice.platform.uow import UnitOfWork


async def _owner(uow: UnitOfWork, runtime: Runtime, principal: Principal, password: str) -> User:
    user = await uow.session.scalar(
        select(User).where(User.id == principal.id, User.deleted_at.is_(None)).with_for_update()
    )
    if user is None:
        raise NotFound("No such account.")
    if not await passwords.verify_password(runtime.settings, user.password_hash, password):
        raise WrongPassword()
    return user


async def change_password(
    uow: UnitOfWork, runtime: Runtime, principal: Principal, current: str, new: str
) -> None:
    """Set a new password; commits. Raises ``WrongPassword``, ``WeakPassword``."""
    user = await _owner(uow, runtime, principal, current)
    passwords.check_policy(runtime.settings, new, user.email)
    now = uow.clock.now()
    user.password_hash = await passwords.hash_password(runtime.settings, new)
    user.updated_at = now
    families = await sessions.revoke_all(uow, user.id, now, keep=principal.sid)  # not ours
    uow.record(PasswordChanged.to(user))
    await uow.commit()
    await sessions.tell_logins_ended(runtime, user.id, families)


async def request_email_change(
    uow: UnitOfWork, runtime: Runtime, principal: Principal, email: str, password: str
) -> None:
    """E-mail a confirmation link to ``email``; commits. The account moves when it is
    opened. Raises ``WrongPassword``, ``EmailTaken``, ``RateLimited`` (three an hour, with
    verification links), ``Unprocessable`` (the current address)."""
    user = await _owner(uow, runtime, principal, password)
    new = domain.normalise_email(email)
    if new == user.email:
        raise Unprocessable("This is the account's e-mail already.")
    if await uow.session.scalar(select(User.id).where(User.email == new)) is not None:
        raise EmailTaken("An account with this e-mail already exists.")
    await runtime.limiter.hit(
        Rule("verify-account", email_verification.PER_ACCOUNT_PER_HOUR, 3600),
        user.id,
        detail="Confirmation e-mails are on their way; try again later.",
    )
    url, expires_at = email_verification.new_link(uow, runtime, user, to=new)
    uow.record(
        EmailVerificationRequested.to(user, email=new, verify_url=url, expires_at=expires_at)
    )
    await uow.commit()
