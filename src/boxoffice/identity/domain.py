"""identity's rules in plain Python: e-mail normalisation, password policy, token secrets."""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from enum import StrEnum

from boxoffice.platform.security import Role


class SellerStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


def normalise_email(email: str) -> str:
    """The one form an e-mail address is stored, looked up and compared in.

    NFKC folds compatibility look-alikes (full-width ``Ｆａｎ＠ｅｘａｍｐｌｅ．ｃｏｍ``) into
    their plain letters, case folding makes every case one (``STRASSE`` and ``straße``
    too, which lower-casing does not), and NFKC again keeps the folded form normalised.
    Sign-up, password and social sign-in and every look-up go through this function.
    """
    folded = unicodedata.normalize("NFKC", email).casefold()
    return unicodedata.normalize("NFKC", folded).strip()


def password_problems(password: str, *, min_length: int, email: str = "") -> list[str]:
    problems = []
    if len(password) < min_length:
        problems.append(f"must be at least {min_length} characters")
    if len(password) > 256:
        problems.append("must be at most 256 characters")
    if password.strip() == "":
        problems.append("must not be blank")
    if email and password.lower() == normalise_email(email):
        problems.append("must not be the e-mail address")
    return problems


def new_refresh_secret() -> str:
    return secrets.token_urlsafe(32)


def hash_refresh_secret(secret: str) -> str:
    """Refresh tokens are stored as SHA-256: they are random, so no slow hash is needed."""
    return hashlib.sha256(secret.encode()).hexdigest()


def role_after_seller_decision(current: Role, status: SellerStatus) -> Role:
    """An approved seller becomes a seller; staff and admins keep their stronger role."""
    if status is SellerStatus.APPROVED and current is Role.CUSTOMER:
        return Role.SELLER
    if status is not SellerStatus.APPROVED and current is Role.SELLER:
        return Role.CUSTOMER
    return current
