"""E-mail verification by an e-mailed link (``docs/accounts.md``).

A password sign-up's welcome e-mail carries a link; the account can ask for a new one
(``PER_ACCOUNT_PER_HOUR``). Like a password-reset link, the link (``links.py``) is a random
secret of which only a SHA-256 is kept, valid ``VERIFY_HOURS`` and once (one conditional
UPDATE), and it proves the address it was sent to: a link for an address the account no
longer has verifies nothing. Social sign-ins come verified when the provider says so.
Unverified accounts browse, queue and hold; an event's seller may require a verified e-mail
to buy (``requires_verified_email``, checked when the order is placed).
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from boxoffice.identity import links
from boxoffice.identity.errors import EmailTaken, VerificationTokenInvalid
from boxoffice.identity.events import EmailChanged, EmailVerificationRequested
from boxoffice.identity.models import EmailVerification, User
from boxoffice.platform.ratelimit import Rule
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Principal
from boxoffice.platform.uow import UnitOfWork

VERIFY_HOURS = 24
PER_ACCOUNT_PER_HOUR = 3


def new_link(
    uow: UnitOfWork, runtime: Runtime, user: User, *, to: str | None = None
) -> tuple[str, str]:
    """A link for the user's current e-mail, or confirming a change ``to`` another (no
    commit): ``(verify_url, expires_at)``."""
    secret, expires_at = links.issue(
        uow, EmailVerification, user.id, timedelta(hours=VERIFY_HOURS),
        email=to or user.email, changes_email=to is not None,
    )  # fmt: skip
    base = runtime.settings.public_url.rstrip("/")
    return f"{base}/verify-email?{urlencode({'token': secret})}", expires_at.isoformat()


async def request_link(uow: UnitOfWork, runtime: Runtime, principal: Principal) -> bool:
    """E-mail the account a new link; commits. ``False`` (and no e-mail) when the e-mail is
    verified already. Raises ``RateLimited`` past ``PER_ACCOUNT_PER_HOUR``."""
    user = await uow.session.get(User, principal.id)
    if user is None or user.email_verified:
        return False
    detail = "Verification e-mails are on their way; try again later."
    await runtime.limiter.hit(
        Rule("verify-account", PER_ACCOUNT_PER_HOUR, 3600), user.id, detail=detail
    )
    url, expires_at = new_link(uow, runtime, user)
    uow.record(EmailVerificationRequested.to(user, verify_url=url, expires_at=expires_at))
    await uow.commit()
    return True


async def verify(uow: UnitOfWork, token: str) -> User:
    """Mark the link's address verified; commits. Raises ``VerificationTokenInvalid``."""
    now = uow.clock.now()
    link = await links.usable(uow, EmailVerification, token, now)
    invalid = "This verification link is not valid any more; ask for a new one."
    if link is None:
        raise VerificationTokenInvalid(invalid)
    user = await uow.session.get(User, link.user_id)
    if user is None or (user.email != link.email and not link.changes_email):
        raise VerificationTokenInvalid(invalid)  # the account changed its e-mail since
    if not await links.spend(uow, link, now):  # another use spent it first
        raise VerificationTokenInvalid(invalid)
    if user.email != link.email:  # a change of e-mail, confirmed from the new address
        await change_email(uow, user, link.email)
    user.email_verified, user.updated_at = True, now
    try:
        await uow.commit()
    except IntegrityError as exc:  # another account took the address meanwhile
        raise EmailTaken("An account with this e-mail already exists.") from exc
    return user


async def change_email(uow: UnitOfWork, user: User, email: str) -> None:
    """Move the account to ``email`` (no commit): every other pending link dies, the old
    address is told (``EmailChanged``). Raises ``EmailTaken``."""
    if await uow.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise EmailTaken("An account with this e-mail already exists.")
    old, user.email = user.email, email
    await links.void_unspent(uow, EmailVerification, user.id, uow.clock.now())
    uow.record(
        EmailChanged(
            user_id=user.id, old_email=old, new_email=email, display_name=user.name,
            locale=user.locale,
        )
    )  # fmt: skip


async def is_verified(uow: UnitOfWork, user_id: str) -> bool:
    verified = await uow.session.scalar(select(User.email_verified).where(User.id == user_id))
    return bool(verified)
