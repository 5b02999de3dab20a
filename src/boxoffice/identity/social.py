"""Social sign-in: an identity vouched for by Google, Kakao or another OIDC provider."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from boxoffice.identity import accounts, domain, oauth, sessions
from boxoffice.identity.errors import EmailTaken, UserNotFound
from boxoffice.identity.models import SocialAccount, User
from boxoffice.identity.oidc import ProviderIdentity
from boxoffice.identity.schemas import TokenPair
from boxoffice.platform.errors import Forbidden
from boxoffice.platform.ids import new_id
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Role
from boxoffice.platform.uow import UnitOfWork


async def social_login(uow: UnitOfWork, runtime: Runtime, identity: ProviderIdentity) -> TokenPair:
    """Sign in with a provider's identity.

    The account is found by (provider, subject). Otherwise it is linked to an existing user
    only when the provider vouches for the e-mail (verified); an unverified e-mail that
    belongs to an existing user is refused rather than taken over. Else a user is created.
    """
    # Two first sign-ins of one person race on the unique keys: the loser rolls back and
    # looks again, now finding the winner's account, so both tabs end up signed in.
    for attempt in range(2):
        try:
            pair = await _social_login_once(uow, runtime, identity)
            await uow.commit()
            return pair
        except IntegrityError as exc:
            await uow.rollback()
            if attempt == 1:
                raise EmailTaken(
                    "This account is being created by another request; try again."
                ) from exc
    raise AssertionError("unreachable")


async def social_login_callback(
    uow: UnitOfWork,
    runtime: Runtime,
    provider: str,
    params: Mapping[str, str],
    binding: str | None,
) -> TokenPair:
    """Finish a social login from the provider's callback parameters.

    Checks the one-time state, exchanges the code and verifies the provider's answer
    (``oauth.complete``), then signs in as :func:`social_login` decides. Raises the
    ``oauth`` errors (400, 401, 404, 502) and ``Forbidden`` for an unverified e-mail that
    belongs to an existing account.
    """
    identity = await oauth.complete(runtime, provider, params, binding)
    return await social_login(uow, runtime, identity)


async def _new_user(uow: UnitOfWork, identity: ProviderIdentity, normalised: str | None) -> User:
    """The account a first social sign-in makes (a placeholder address without an e-mail)."""
    provider, subject, name = identity.provider, identity.subject, identity.name
    user = accounts.add_user(
        uow,
        email=normalised or f"{provider}-{subject}@users.invalid",
        name=(name or (normalised or "").split("@")[0] or f"{provider} user")[:100],
        role=Role.CUSTOMER,
        password_hash=None,
        email_verified=identity.email_verified,
    )
    await uow.session.flush()
    uow.record(accounts.registered(user, provider))
    return user


async def _social_login_once(
    uow: UnitOfWork, runtime: Runtime, identity: ProviderIdentity
) -> TokenPair:
    """One attempt of :func:`social_login`, up to (not including) the commit."""
    provider, subject, email = identity.provider, identity.subject, identity.email
    account = (
        await uow.session.execute(
            select(SocialAccount).where(
                SocialAccount.provider == provider, SocialAccount.subject == subject
            )
        )
    ).scalar_one_or_none()
    now = uow.clock.now()
    if account is not None:
        found = await uow.session.get(User, account.user_id)
        if found is None:
            raise UserNotFound()
        user = found
    else:
        normalised = domain.normalise_email(email) if email else None
        user_or_none = await sessions.user_by_email(uow, normalised) if normalised else None
        if user_or_none is not None and not identity.email_verified:
            raise Forbidden(
                "This e-mail belongs to an existing account; the provider did not verify it, "
                "so sign in with your password and link the provider from there."
            )
        if user_or_none is None:
            user = await _new_user(uow, identity, normalised)
        else:
            user = user_or_none
        uow.session.add(
            SocialAccount(
                id=new_id(),
                user_id=user.id,
                provider=provider,
                subject=subject,
                email=normalised,
                created_at=now,
            )
        )
    await uow.session.flush()  # the unique keys decide a race here, before tokens are made
    return sessions.issue_pair(uow, runtime, user, family_id=new_id())
