"""identity's use cases: the only module other contexts may call.

Each public function that changes state commits once, through the unit of work it is given.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from boxoffice.identity import domain, oauth, passwords
from boxoffice.identity.domain import SellerStatus
from boxoffice.identity.errors import (
    EmailTaken,
    InvalidCredentials,
    RefreshTokenInvalid,
    RefreshTokenReused,
    SellerProfileMissing,
    UserNotFound,
    WeakPassword,
)
from boxoffice.identity.events import SellerApproved, UserRegistered
from boxoffice.identity.models import RefreshToken, SellerProfile, SocialAccount, User
from boxoffice.identity.schemas import (
    AdminUserUpdate,
    ProfileUpdate,
    SellerApplication,
    SignUp,
    TokenPair,
)
from boxoffice.platform.errors import Forbidden
from boxoffice.platform.ids import new_id
from boxoffice.platform.ratelimit import Rule
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Principal, Role, TokenUse
from boxoffice.platform.uow import UnitOfWork


@dataclass(frozen=True)
class UserSummary:
    """What other contexts may know of a user."""

    id: str
    email: str
    name: str
    role: str
    locale: str


def _login_rules(runtime: Runtime) -> tuple[Rule, Rule]:
    s = runtime.settings
    window = s.login_failure_window_seconds
    return (
        Rule("login-fail-account", s.login_failures_per_account, window),
        Rule("login-fail-address", s.login_failures_per_address, window),
    )


async def sign_up(uow: UnitOfWork, runtime: Runtime, request: SignUp, client: str) -> User:
    """Register a customer with a password.

    Raises ``EmailTaken``, ``WeakPassword``, ``RateLimited``.
    """
    settings = runtime.settings
    await runtime.limiter.hit(
        Rule("signup-address", settings.signup_per_address_per_hour, 3600),
        client,
        detail="Too many sign-ups from this address; try again later.",
    )
    email = domain.normalise_email(str(request.email))
    problems = domain.password_problems(
        request.password, min_length=settings.password_min_length, email=email
    )
    if problems:
        raise WeakPassword(
            "The password " + "; ".join(problems) + ".",
            errors=[{"loc": ["body", "password"], "msg": p} for p in problems],
        )
    if await _user_by_email(uow, email) is not None:
        raise EmailTaken("An account with this e-mail already exists.")
    now = uow.clock.now()
    user = User(
        id=new_id(),
        email=email,
        password_hash=await passwords.hash_password(settings, request.password),
        name=request.name,
        role=Role.CUSTOMER.value,
        locale="ko",
        created_at=now,
        updated_at=now,
    )
    uow.session.add(user)
    uow.record(
        UserRegistered(
            user_id=user.id, email=email, display_name=user.name, locale=user.locale, via="password"
        )
    )
    try:
        await uow.commit()
    except IntegrityError as exc:  # a concurrent sign-up with the same e-mail won the race
        raise EmailTaken("An account with this e-mail already exists.") from exc
    return user


async def log_in(
    uow: UnitOfWork, runtime: Runtime, email: str, password: str, client: str
) -> TokenPair:
    """Check the password and start a login (a new refresh-token family).

    Repeated failures for one account or one client address raise ``RateLimited``.
    """
    email = domain.normalise_email(email)
    account_rule, address_rule = _login_rules(runtime)
    limiter = runtime.limiter
    message = "Too many failed sign-in attempts; wait before trying again."
    await limiter.check(account_rule, email, detail=message)
    await limiter.check(address_rule, client, detail=message)
    user = await _user_by_email(uow, email)
    if not await passwords.verify_password(
        runtime.settings, user.password_hash if user else None, password
    ):
        await limiter.record(account_rule, email)
        await limiter.record(address_rule, client)
        raise InvalidCredentials("The e-mail or the password is wrong.")
    assert user is not None
    await limiter.clear(account_rule, email)
    if user.password_hash and passwords.needs_rehash(runtime.settings, user.password_hash):
        user.password_hash = await passwords.hash_password(runtime.settings, password)
    pair = _issue_pair(uow, runtime, user, family_id=new_id())
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
            await _revoke_family(uow, token.family_id)
            await uow.commit()
            raise RefreshTokenReused(
                "This refresh token was already used; every token of this login is revoked."
            )
        if token.revoked_at is not None:
            raise RefreshTokenInvalid("The refresh token was revoked.")
        raise RefreshTokenInvalid("The refresh token has expired.")
    user = await uow.session.get(User, token.user_id)
    if user is None:
        raise RefreshTokenInvalid("The refresh token's user no longer exists.")
    pair = _issue_pair(uow, runtime, user, family_id=token.family_id)
    await uow.commit()
    return pair


async def log_out(uow: UnitOfWork, principal: Principal, refresh_token: str) -> None:
    """Revoke the login the refresh token belongs to; unknown or foreign tokens change nothing."""
    token = (
        await uow.session.execute(
            select(RefreshToken).where(
                RefreshToken.token_hash == domain.hash_refresh_secret(refresh_token)
            )
        )
    ).scalar_one_or_none()
    if token is None or token.user_id != principal.id:
        return
    await _revoke_family(uow, token.family_id)
    await uow.commit()


async def get_user(uow: UnitOfWork, user_id: str) -> User:
    user = await uow.session.get(User, user_id)
    if user is None:
        raise UserNotFound()
    return user


async def user_summary(uow: UnitOfWork, user_id: str) -> UserSummary | None:
    """Read-only view for other contexts (notifications' locale and address, ...)."""
    user = await uow.session.get(User, user_id)
    if user is None:
        return None
    return UserSummary(user.id, user.email, user.name, user.role, user.locale)


async def update_profile(uow: UnitOfWork, principal: Principal, changes: ProfileUpdate) -> User:
    user = await get_user(uow, principal.id)
    for field, value in changes.model_dump(exclude_unset=True).items():
        if value is not None or field == "phone":
            setattr(user, field, value)
    user.updated_at = uow.clock.now()
    await uow.commit()
    return user


async def apply_as_seller(
    uow: UnitOfWork, runtime: Runtime, principal: Principal, application: SellerApplication
) -> SellerProfile:
    """Create (or resubmit) the seller profile: pending, or approved at once when configured."""
    user = await get_user(uow, principal.id)
    now = uow.clock.now()
    auto = runtime.settings.seller_auto_approve
    status = SellerStatus.APPROVED if auto else SellerStatus.PENDING
    profile = await uow.session.get(SellerProfile, user.id)
    if profile is None:
        profile = SellerProfile(user_id=user.id, created_at=now)
        uow.session.add(profile)
    elif profile.status == SellerStatus.APPROVED:
        return profile
    profile.business_name = application.business_name
    profile.business_number = application.business_number.replace("-", "")
    profile.status = status.value
    profile.decided_at = now if auto else None
    if auto:
        _apply_seller_decision(uow, user, profile, status)
    await uow.commit()
    return profile


async def admin_update_user(
    uow: UnitOfWork, admin: Principal, user_id: str, changes: AdminUserUpdate
) -> tuple[User, SellerProfile | None]:
    """Change a user's role or decide a seller application. Admins cannot demote themselves."""
    user = await get_user(uow, user_id)
    profile = await uow.session.get(SellerProfile, user_id)
    if changes.role is not None:
        if user.id == admin.id and changes.role != Role.ADMIN.value:
            raise Forbidden("Admins cannot remove their own admin role.")
        user.role = changes.role
    if changes.seller_status is not None:
        if profile is None:
            raise SellerProfileMissing("This user has not applied as a seller.")
        status = SellerStatus(changes.seller_status)
        if profile.status != status.value:
            profile.status = status.value
            profile.decided_at = uow.clock.now()
            _apply_seller_decision(uow, user, profile, status)
    user.updated_at = uow.clock.now()
    await uow.commit()
    return user, profile


async def seller_profile(uow: UnitOfWork, user_id: str) -> SellerProfile | None:
    return await uow.session.get(SellerProfile, user_id)


async def is_approved_seller(uow: UnitOfWork, user_id: str) -> bool:
    profile = await uow.session.get(SellerProfile, user_id)
    return profile is not None and profile.status == SellerStatus.APPROVED


async def ensure_user(
    uow: UnitOfWork,
    runtime: Runtime,
    *,
    email: str,
    password: str,
    name: str,
    role: Role,
    seller_business: str | None = None,
) -> tuple[User, bool]:
    """Create the user unless it exists (demo seeding); returns (user, created)."""
    email = domain.normalise_email(email)
    existing = await _user_by_email(uow, email)
    if existing is not None:
        return existing, False
    now = uow.clock.now()
    user = User(
        id=new_id(),
        email=email,
        password_hash=await passwords.hash_password(runtime.settings, password),
        name=name,
        role=role.value,
        locale="ko",
        email_verified=True,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(user)
    await uow.session.flush()
    if seller_business:
        uow.session.add(
            SellerProfile(
                user_id=user.id,
                business_name=seller_business,
                business_number="1208147521",
                status=SellerStatus.APPROVED.value,
                created_at=now,
                decided_at=now,
            )
        )
    uow.record(
        UserRegistered(user_id=user.id, email=email, display_name=name, locale="ko", via="seed")
    )
    await uow.commit()
    return user, True


async def social_login(
    uow: UnitOfWork,
    runtime: Runtime,
    *,
    provider: str,
    subject: str,
    email: str | None,
    email_verified: bool,
    name: str | None,
) -> TokenPair:
    """Sign in with a provider's identity.

    The account is found by (provider, subject). Otherwise it is linked to an existing user
    only when the provider vouches for the e-mail (verified); an unverified e-mail that
    belongs to an existing user is refused rather than taken over. Else a user is created.
    """
    # Two first sign-ins of one person race on the unique keys: the loser rolls back and
    # looks again, now finding the winner's account, so both tabs end up signed in.
    for attempt in range(2):
        try:
            pair = await _social_login_once(
                uow,
                runtime,
                provider=provider,
                subject=subject,
                email=email,
                email_verified=email_verified,
                name=name,
            )
            await uow.commit()
            return pair
        except IntegrityError as exc:
            await uow.rollback()
            if attempt == 1:
                raise EmailTaken(
                    "This account is being created by another request; try again."
                ) from exc
    raise AssertionError("unreachable")


def issue_access_token(runtime: Runtime, user: User) -> str:
    return runtime.keys.sign(
        {"sub": user.id, "email": user.email, "role": user.role},
        use=TokenUse.ACCESS,
        now=runtime.clock.now(),
        ttl=timedelta(minutes=runtime.settings.access_token_ttl_minutes),
    )


def _issue_pair(uow: UnitOfWork, runtime: Runtime, user: User, *, family_id: str) -> TokenPair:
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
        access_token=issue_access_token(runtime, user),
        refresh_token=secret,
        expires_in=runtime.settings.access_token_ttl_minutes * 60,
    )


async def _revoke_family(uow: UnitOfWork, family_id: str) -> None:
    await uow.session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=uow.clock.now())
    )


def _apply_seller_decision(
    uow: UnitOfWork, user: User, profile: SellerProfile, status: SellerStatus
) -> None:
    user.role = domain.role_after_seller_decision(Role(user.role), status).value
    if status is SellerStatus.APPROVED:
        uow.record(SellerApproved(user_id=user.id, business_name=profile.business_name))


async def _user_by_email(uow: UnitOfWork, email: str) -> User | None:
    result = await uow.session.execute(select(User).where(User.email == email))
    return result.scalar_one_or_none()


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
    return await social_login(
        uow,
        runtime,
        provider=identity.provider,
        subject=identity.subject,
        email=identity.email,
        email_verified=identity.email_verified,
        name=identity.name,
    )


async def _social_login_once(
    uow: UnitOfWork,
    runtime: Runtime,
    *,
    provider: str,
    subject: str,
    email: str | None,
    email_verified: bool,
    name: str | None,
) -> TokenPair:
    """One attempt of :func:`social_login`, up to (not including) the commit."""
    account = (
        await uow.session.execute(
            select(SocialAccount).where(
                SocialAccount.provider == provider, SocialAccount.subject == subject
            )
        )
    ).scalar_one_or_none()
    now = uow.clock.now()
    if account is not None:
        user = await get_user(uow, account.user_id)
    else:
        normalised = domain.normalise_email(email) if email else None
        user_or_none = await _user_by_email(uow, normalised) if normalised else None
        if user_or_none is not None and not email_verified:
            raise Forbidden(
                "This e-mail belongs to an existing account; the provider did not verify it, "
                "so sign in with your password and link the provider from there."
            )
        if user_or_none is None:
            user = User(
                id=new_id(),
                email=normalised or f"{provider}-{subject}@users.invalid",
                password_hash=None,
                name=(name or (normalised or "").split("@")[0] or f"{provider} user")[:100],
                role=Role.CUSTOMER.value,
                locale="ko",
                email_verified=email_verified,
                created_at=now,
                updated_at=now,
            )
            uow.session.add(user)
            await uow.session.flush()
            uow.record(
                UserRegistered(
                    user_id=user.id,
                    email=user.email,
                    display_name=user.name,
                    locale=user.locale,
                    via=provider,
                )
            )
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
    return _issue_pair(uow, runtime, user, family_id=new_id())
