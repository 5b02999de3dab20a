"""identity's tables (prefix ``identity_``)."""

from __future__ import annotations

from typing import Annotated

from sqlalchemy import Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from boxoffice.platform.db import Base, IdColumn, IdKey, UTCTime, owned_by

# A row that belongs to one user and is deleted with the account's row.
OwnedByUser = Annotated[str, owned_by("identity_users.id")]


class User(Base):
    __tablename__ = "identity_users"

    id: Mapped[IdKey]
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(16), default="customer")
    locale: Mapped[str] = mapped_column(String(8), default="ko")
    email_verified: Mapped[bool] = mapped_column(default=False)
    deleted_at: Mapped[UTCTime | None]  # erased, kept for orders
    created_at: Mapped[UTCTime]
    updated_at: Mapped[UTCTime]


class RefreshToken(Base):
    """One refresh token; every token of one login shares ``family_id``."""

    __tablename__ = "identity_refresh_tokens"
    __table_args__ = (Index("ix_identity_refresh_tokens_family", "family_id"),)

    id: Mapped[IdKey]
    user_id: Mapped[OwnedByUser]
    family_id: Mapped[IdColumn]
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[UTCTime]
    expires_at: Mapped[UTCTime]
    spent_at: Mapped[UTCTime | None]
    revoked_at: Mapped[UTCTime | None]


class SocialAccount(Base):
    __tablename__ = "identity_social_accounts"
    __table_args__ = (UniqueConstraint("provider", "subject"),)

    id: Mapped[IdKey]
    user_id: Mapped[OwnedByUser]
    provider: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[UTCTime]


class SellerProfile(Base):
    __tablename__ = "identity_seller_profiles"

    user_id: Mapped[OwnedByUser] = mapped_column(primary_key=True)
    business_name: Mapped[str] = mapped_column(String(200))
    business_number: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[UTCTime]
    decided_at: Mapped[UTCTime | None]


class PasswordReset(Base):
    """One e-mailed password-reset link: only a hash of its secret is kept."""

    __tablename__ = "identity_password_resets"
    __table_args__ = (Index("ix_identity_password_resets_user_id", "user_id"),)

    id: Mapped[IdKey]
    user_id: Mapped[OwnedByUser]
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[UTCTime]
    expires_at: Mapped[UTCTime]
    used_at: Mapped[UTCTime | None]


class EmailVerification(Base):
    """One e-mailed link proving the account's owner reads ``email``: only a hash of its
    secret is kept. Used once; the e-mail it proves is the one it was sent to."""

    __tablename__ = "identity_email_verifications"
    __table_args__ = (Index("ix_identity_email_verifications_user_id", "user_id"),)

    id: Mapped[IdKey]
    user_id: Mapped[OwnedByUser]
    email: Mapped[str] = mapped_column(String(254))
    changes_email: Mapped[bool] = mapped_column(default=False)  # a change of e-mail to confirm
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[UTCTime]
    expires_at: Mapped[UTCTime]
    used_at: Mapped[UTCTime | None]
