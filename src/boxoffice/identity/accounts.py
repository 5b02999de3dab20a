"""A new account, however someone joins (a password sign-up, a social sign-in, demo
seeding): the user row, and the ``UserRegistered`` event it records."""

from __future__ import annotations

from boxoffice.identity.events import UserRegistered
from boxoffice.identity.models import User
from boxoffice.platform.ids import new_id
from boxoffice.platform.security import Role
from boxoffice.platform.uow import UnitOfWork


def add_user(
    uow: UnitOfWork,
    *,
    email: str,
    name: str,
    role: Role,
    password_hash: str | None,
    email_verified: bool = False,
) -> User:
    """The new user, added to ``uow`` (not flushed); Korean until its holder says otherwise."""
    now = uow.clock.now()
    user = User(
        id=new_id(),
        email=email,
        password_hash=password_hash,
        name=name,
        role=role.value,
        locale="ko",
        email_verified=email_verified,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(user)
    return user


def registered(user: User, via: str, verify_url: str = "") -> UserRegistered:
    """The event of ``user`` joining ``via`` "password", "seed" or a social provider."""
    return UserRegistered.to(user, via=via, verify_url=verify_url)
