"""Logins: password sign-in with throttling, refresh-token rotation with reuse detection, logout.

A login is a refresh-token family; every token issued by refreshing it joins the family,
so revoking the family ends the login everywhere.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from boxoffice.identity import domain, passwords, throttle
from boxoffice.identity.errors import InvalidCredentials, RefreshTokenInvalid, RefreshTokenReused
from boxoffice.identity.models import RefreshToken, User
from boxoffice.identity.schemas import TokenPair
from boxoffice.platform.ids import new_id
from boxoffice.platform.ratelimit import Rule
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Principal, TokenUse
from boxoffice.platform.uow import UnitOfWork


def address_rule(runtime: Runtime) -> Rule:
    """Failed sign-ins from one address across accounts (a looser limit than per account)."""
    s = runtime.settings.identity
    return Rule("login-fail-address", s.login_failures_per_address, s.login_failure_window_seconds)


async def log_in(
    uow: UnitOfWork, runtime: Runtime, email: str, password: str, client: str
) -> TokenPair:
    """Check the password and start a login (a new refresh-token family).

    Failures slow down the next attempts on that account *from that address* (growing
    delays, ``throttle``) and, more loosely, all attempts from the address; either raises
    ``RateLimited``. A stranger's failures never make the owner's right password fail.
    """
    email = domain.normalise_email(email)
    rule = address_rule(runtime)
    await runtime.limiter.check(rule, client, detail=throttle.MESSAGE)
    attempt = await throttle.admit(runtime, email, client)
    user = await user_by_email(uow, email)
    if not await passwords.verify_password(
        runtime.settings, user.password_hash if user else None, password
    ):
        await throttle.failed(runtime, attempt)
        await runtime.limiter.record(rule, client)
        raise InvalidCredentials("The e-mail or the password is wrong.")
    assert user is not None
    await throttle.succeeded(runtime, attempt)
    if user.password_hash and passwords.needs_rehash(runtime.settings, user.password_hash):
        user.password_hash = await passwords.hash_password(runtime.settings, password)
    pair = issue_pair(uow, runtime, user, family_id=new_id())
    await uow.commit()
    return pair


async def refresh(uow: UnitOfWork, runtime: Runtime, refresh_token: str) -> TokenPair:
    """Spend a refresh token for a new pair.

    A token can be spent once. Presenting a spent token means it was stolen or replayed:
    the whole login (every token of its family) is revoked and ``RefreshTokenReused`` raised.
    """
    now = uow.clock.now()
    token_hash = domain.hash_refresh_secret(refresh_token)
    spend = (
        update(RefreshToken)
        .where(
            RefreshToken.token_hash == token_hash,
            RefreshToken.spent_at.is_(None),
            RefreshToken.revoked_at.is_(None),
            RefreshToken.expires_at > now,
        )
        .values(spent_at=now)
    )
    # The conditional UPDATE decides between two concurrent refreshes: one row, one winner.
    spent = (await uow.session.execute(spend)).rowcount  # type: ignore[attr-defined]
    token = (
        await uow.session.execute(select(RefreshToken).where(RefreshToken.token_hash == token_hash))
    ).scalar_one_or_none()
    if token is None:
        raise RefreshTokenInvalid("The refresh token is not known.")
    if spent != 1:
        if token.spent_at is not None:
            await revoke_family(uow, token.family_id)
            await uow.commit()
            await runtime.authorisations.login_ended(token.user_id, token.family_id)
            raise RefreshTokenReused(
                "This refresh token was already used; every token of this login is revoked."
            )
        if token.revoked_at is not None:
            raise RefreshTokenInvalid("The refresh token was revoked.")
        raise RefreshTokenInvalid("The refresh token has expired.")
    user = await uow.session.get(User, token.user_id)
    if user is None:
        raise RefreshTokenInvalid("The refresh token's user no longer exists.")
    pair = issue_pair(uow, runtime, user, family_id=token.family_id)
    await uow.commit()
    return pair


async def log_out(
    uow: UnitOfWork, runtime: Runtime, principal: Principal, refresh_token: str
) -> None:
    """End the login the refresh token belongs to: its refresh tokens are revoked and its
    access tokens stop working at once, in every process. Unknown or foreign tokens change
    nothing."""
    token = (
        await uow.session.execute(
            select(RefreshToken).where(
                RefreshToken.token_hash == domain.hash_refresh_secret(refresh_token)
            )
        )
    ).scalar_one_or_none()
    if token is None or token.user_id != principal.id:
        return
    await revoke_family(uow, token.family_id)
    await uow.commit()
    await runtime.authorisations.login_ended(token.user_id, token.family_id)


def issue_access_token(runtime: Runtime, user: User, sid: str) -> str:
    """An access token of login ``sid`` (the refresh-token family it was issued with)."""
    return runtime.keys.sign(
        {"sub": user.id, "email": user.email, "role": user.role, "sid": sid},
        use=TokenUse.ACCESS,
        now=runtime.clock.now(),
        ttl=timedelta(minutes=runtime.settings.access_token_ttl_minutes),
    )


def issue_pair(uow: UnitOfWork, runtime: Runtime, user: User, *, family_id: str) -> TokenPair:
    secret = domain.new_refresh_secret()
    now = uow.clock.now()
    uow.session.add(
        RefreshToken(
            id=new_id(),
            user_id=user.id,
            family_id=family_id,
            token_hash=domain.hash_refresh_secret(secret),
            issued_at=now,
            expires_at=now + timedelta(days=runtime.settings.refresh_token_ttl_days),
        )
    )
    return TokenPair(
        access_token=issue_access_token(runtime, user, family_id),
        refresh_token=secret,
        expires_in=runtime.settings.access_token_ttl_minutes * 60,
    )


async def revoke_family(uow: UnitOfWork, family_id: str) -> None:
    await uow.session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=uow.clock.now())
    )


async def revoke_all(
    uow: UnitOfWork, user_id: str, now: datetime, *, keep: str | None = None
) -> list[str]:
    """Revoke every live refresh-token family of the account but ``keep`` (no commit); their
    ids, for :func:`tell_logins_ended` once committed."""
    live = [RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None)]
    if keep is not None:
        live.append(RefreshToken.family_id != keep)
    families = set(await uow.session.scalars(select(RefreshToken.family_id).where(*live)))
    await uow.session.execute(update(RefreshToken).where(*live).values(revoked_at=now))
    return sorted(families)


async def tell_logins_ended(runtime: Runtime, user_id: str, families: list[str]) -> None:
    """After the commit: the logins' access tokens are refused from the next request, in
    every process."""
    for family_id in families:
        await runtime.authorisations.login_ended(user_id, family_id)


async def user_by_email(uow: UnitOfWork, email: str) -> User | None:
    result = await uow.session.execute(select(User).where(User.email == email))
    return result.scalar_one_or_none()
