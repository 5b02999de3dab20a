"""identity's use cases: the only module other contexts may call.

Accounts, profiles and sellers live here; logins (``sessions``) and social sign-in
(``social``) have modules of their own and are re-exported, so callers need only this one.
Each public function that changes state commits once, through the unit of work it is given.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from boxoffice.identity import (
    account_security,
    accounts,
    deletion,
    domain,
    email_verification,
    passwords,
    sessions,
)
from boxoffice.identity.directory import Person, people, search_users, user_id_by_email
from boxoffice.identity.domain import SellerStatus, normalise_email
from boxoffice.identity.errors import EmailTaken, SellerProfileMissing, UserNotFound
from boxoffice.identity.events import SellerApproved
from boxoffice.identity.models import SellerProfile, User
from boxoffice.identity.password_reset import request_reset, reset_password
from boxoffice.identity.schemas import AdminUserUpdate, ProfileUpdate, SellerApplication, SignUp
from boxoffice.identity.sessions import issue_access_token, log_in, log_out, refresh
from boxoffice.identity.social import social_login, social_login_callback
from boxoffice.platform.errors import Forbidden
from boxoffice.platform.ratelimit import Rule
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Principal, Role
from boxoffice.platform.uow import UnitOfWork

__all__ = [
    "Person",
    "UserSummary",
    "admin_update_user",
    "apply_as_seller",
    "change_password",
    "delete_account",
    "email_verified",
    "ensure_user",
    "get_user",
    "is_approved_seller",
    "issue_access_token",
    "log_in",
    "log_out",
    "normalise_email",
    "people",
    "refresh",
    "request_email_change",
    "request_email_verification",
    "request_reset",
    "reset_password",
    "search_users",
    "seller_profile",
    "sign_up",
    "social_login",
    "social_login_callback",
    "update_profile",
    "user_id_by_email",
    "user_summary",
    "verify_email",
]


@dataclass(frozen=True)
class UserSummary:
    """What other contexts may know of a user."""

    id: str
    email: str
    name: str
    role: str
    locale: str


async def sign_up(uow: UnitOfWork, runtime: Runtime, request: SignUp, client: str) -> User:
    """Register a customer with a password.

    Raises ``EmailTaken``, ``WeakPassword``, ``RateLimited``.
    """
    settings = runtime.settings
    await runtime.limiter.hit(
        Rule("signup-address", settings.identity.signup_per_address_per_hour, 3600),
        client,
        detail="Too many sign-ups from this address; try again later.",
    )
    email = request.email  # normalised by the schema, as login normalises
    passwords.check_policy(settings, request.password, email)
    if await sessions.user_by_email(uow, email) is not None:
        raise EmailTaken("An account with this e-mail already exists.")
    user = accounts.add_user(
        uow,
        email=email,
        name=request.name,
        role=Role.CUSTOMER,
        password_hash=await passwords.hash_password(settings, request.password),
    )
    try:
        await uow.session.flush()  # the account first: its verification link refers to it
    except IntegrityError as exc:  # a concurrent sign-up with the same e-mail won the race
        raise EmailTaken("An account with this e-mail already exists.") from exc
    verify_url, _ = email_verification.new_link(uow, runtime, user)
    uow.record(accounts.registered(user, "password", verify_url))
    try:
        await uow.commit()
    except IntegrityError as exc:  # a concurrent sign-up with the same e-mail won the race
        raise EmailTaken("An account with this e-mail already exists.") from exc
    return user


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
    auto = runtime.settings.identity.seller_auto_approve
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
    if auto:  # the seller role works at once, without signing in again
        await runtime.authorisations.role_changed(user.id, Role(user.role))
    return profile


async def admin_update_user(
    uow: UnitOfWork,
    runtime: Runtime,
    admin: Principal,
    user_id: str,
    changes: AdminUserUpdate,
) -> tuple[User, SellerProfile | None]:
    """Change a user's role or decide a seller application. Admins cannot demote themselves.

    The role the user ends with takes effect on their next request, whatever their access
    token says (recorded after the commit, on every call, so a retry repairs a lost write).
    """
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
    await runtime.authorisations.role_changed(user.id, Role(user.role))
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
    existing = await sessions.user_by_email(uow, email)
    if existing is not None:
        return existing, False
    user = accounts.add_user(
        uow,
        email=email,
        name=name,
        role=role,
        password_hash=await passwords.hash_password(runtime.settings, password),
        email_verified=True,
    )
    await uow.session.flush()
    if seller_business:
        uow.session.add(
            SellerProfile(
                user_id=user.id,
                business_name=seller_business,
                business_number="1208147521",
                status=SellerStatus.APPROVED.value,
                created_at=user.created_at,  # approved as it joins
                decided_at=user.created_at,
            )
        )
    uow.record(accounts.registered(user, "seed"))
    await uow.commit()
    return user, True


def _apply_seller_decision(
    uow: UnitOfWork, user: User, profile: SellerProfile, status: SellerStatus
) -> None:
    user.role = domain.role_after_seller_decision(Role(user.role), status).value
    if status is SellerStatus.APPROVED:
        uow.record(SellerApproved(user_id=user.id, business_name=profile.business_name))


email_verified = email_verification.is_verified
request_email_verification = email_verification.request_link
verify_email = email_verification.verify
delete_account = deletion.delete_account
change_password = account_security.change_password
request_email_change = account_security.request_email_change
