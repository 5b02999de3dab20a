"""Password reset by an e-mailed link (``docs/accounts.md``).

Asking never says whether the address has an account (the same 202 either way, and the
same work); a link (``links.py``) is a random secret of which only a SHA-256 is stored,
valid for ``RESET_MINUTES`` and once: using it is one conditional UPDATE (``used_at IS
NULL``), so two uses at once set the password once. A reset ends every login of the
account (its refresh-token families revoked, their access tokens refused from the next
request in every process) and voids the account's other links.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from boxoffice.identity import domain, links, passwords, sessions
from boxoffice.identity.errors import ResetTokenInvalid
from boxoffice.identity.events import PasswordResetRequested
from boxoffice.identity.models import PasswordReset, User
from boxoffice.platform.errors import RateLimited
from boxoffice.platform.ratelimit import Rule
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.uow import UnitOfWork

RESET_MINUTES = 30
PER_ADDRESS_PER_HOUR = 10  # asks from one client address (429 beyond: says nothing of accounts)
PER_ACCOUNT_PER_HOUR = 3  # e-mails to one account (beyond: the same 202, no e-mail)


async def request_reset(uow: UnitOfWork, runtime: Runtime, email: str, client: str) -> None:
    """E-mail a reset link to the account of ``email`` if there is one. Commits. Raises
    ``RateLimited`` for an address asking too often; otherwise says nothing either way."""
    limiter = runtime.limiter
    detail = "Too many password reset requests from this address; try again later."
    await limiter.hit(Rule("reset-address", PER_ADDRESS_PER_HOUR, 3600), client, detail=detail)
    user = await sessions.user_by_email(uow, domain.normalise_email(email))
    if user is None:
        return
    try:
        await limiter.hit(Rule("reset-account", PER_ACCOUNT_PER_HOUR, 3600), user.id)
    except RateLimited:  # enough links are on their way: the same answer, no e-mail
        return
    secret, expires_at = links.issue(uow, PasswordReset, user.id, timedelta(minutes=RESET_MINUTES))
    base = runtime.settings.public_url.rstrip("/")
    uow.record(
        PasswordResetRequested.to(
            user,
            reset_url=f"{base}/reset-password?{urlencode({'token': secret})}",
            expires_at=expires_at.isoformat(),
        )
    )
    await uow.commit()


async def reset_password(uow: UnitOfWork, runtime: Runtime, token: str, password: str) -> None:
    """Set the password of the link's account and end its logins. Commits. Raises
    ``ResetTokenInvalid`` (unknown, expired or used link) and ``WeakPassword``."""
    now = uow.clock.now()
    link = await links.usable(uow, PasswordReset, token, now)
    if link is None:
        raise ResetTokenInvalid("This password reset link is not valid any more; ask again.")
    user = await uow.session.get(User, link.user_id)
    assert user is not None  # the link goes with its account (ON DELETE CASCADE)
    settings = runtime.settings
    passwords.check_policy(settings, password, user.email)
    if not await links.spend(uow, link, now):  # another use spent it first
        raise ResetTokenInvalid("This password reset link is not valid any more; ask again.")
    user.password_hash = await passwords.hash_password(settings, password)
    user.updated_at = now
    # The account's other links die with this use.
    await links.void_unspent(uow, PasswordReset, user.id, now)
    families = await sessions.revoke_all(uow, user.id, now)
    await uow.commit()
    await sessions.tell_logins_ended(runtime, user.id, families)
