"""identity's plain rules."""

from __future__ import annotations

import pytest

from boxoffice.identity import domain
from boxoffice.identity.domain import SellerStatus
from boxoffice.platform.security import Role


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(" Fan@Example.COM ", "fan@example.com"), ("a@b.co", "a@b.co")],
)
def test_emails_are_normalised(raw: str, expected: str) -> None:
    assert domain.normalise_email(raw) == expected


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short", "at least 8"),
        ("        ", "blank"),
        ("fan@example.com", "e-mail"),
        ("x" * 257, "at most 256"),
    ],
)
def test_password_policy(password: str, problem: str) -> None:
    problems = domain.password_problems(password, min_length=8, email="Fan@Example.com")
    assert any(problem in p for p in problems), problems


def test_good_password_passes() -> None:
    assert domain.password_problems("correct-horse-battery", min_length=8) == []


def test_refresh_secrets_are_random_and_hashed() -> None:
    first, second = domain.new_refresh_secret(), domain.new_refresh_secret()
    assert first != second
    assert len(first) >= 40
    digest = domain.hash_refresh_secret(first)
    assert len(digest) == 64
    assert first not in digest


@pytest.mark.parametrize(
    ("current", "status", "expected"),
    [
        (Role.CUSTOMER, SellerStatus.APPROVED, Role.SELLER),
        (Role.SELLER, SellerStatus.REJECTED, Role.CUSTOMER),
        (Role.ADMIN, SellerStatus.APPROVED, Role.ADMIN),
        (Role.STAFF, SellerStatus.REJECTED, Role.STAFF),
        (Role.CUSTOMER, SellerStatus.PENDING, Role.CUSTOMER),
    ],
)
def test_role_after_seller_decision(current: Role, status: SellerStatus, expected: Role) -> None:
    assert domain.role_after_seller_decision(current, status) is expected
