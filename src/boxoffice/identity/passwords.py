"""argon2id password hashing, off the event loop (each hash costs milliseconds of CPU)."""

from __future__ import annotations

import asyncio
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from boxoffice.identity.domain import password_problems
from boxoffice.identity.errors import WeakPassword
from boxoffice.platform.config import Settings


@lru_cache(maxsize=4)
def _hasher(time_cost: int, memory_kib: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)


def hasher_for(settings: Settings) -> PasswordHasher:
    return _hasher(
        settings.identity.argon2_time_cost,
        settings.identity.argon2_memory_kib,
        settings.identity.argon2_parallelism,
    )


async def hash_password(settings: Settings, password: str) -> str:
    return await asyncio.to_thread(hasher_for(settings).hash, password)


async def verify_password(settings: Settings, stored_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; for a missing hash a dummy verify keeps timing equal."""
    hasher = hasher_for(settings)
    target = stored_hash or _dummy_hash(settings)
    try:
        ok = await asyncio.to_thread(hasher.verify, target, password)
    except (VerificationError, InvalidHashError):
        return False
    return bool(ok) and stored_hash is not None


def needs_rehash(settings: Settings, stored_hash: str) -> bool:
    return hasher_for(settings).check_needs_rehash(stored_hash)


@lru_cache(maxsize=4)
def _dummy_for(time_cost: int, memory_kib: int, parallelism: int) -> str:
    return _hasher(time_cost, memory_kib, parallelism).hash("not-a-real-password-for-timing")


def _dummy_hash(settings: Settings) -> str:
    return _dummy_for(
        settings.identity.argon2_time_cost,
        settings.identity.argon2_memory_kib,
        settings.identity.argon2_parallelism,
    )


def check_policy(settings: Settings, password: str, email: str) -> None:
    """Raise ``WeakPassword`` (422, each problem under ``errors``) for a password the
    policy refuses (sign-up and reset apply the same one)."""
    problems = password_problems(
        password, min_length=settings.identity.password_min_length, email=email
    )
    if problems:
        raise WeakPassword(
            "The password " + "; ".join(problems) + ".",
            errors=[{"loc": ["body", "password"], "msg": p} for p in problems],
        )
