"""identity's request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from email_validator import EmailNotValidError, validate_email
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
)

from boxoffice.identity.domain import normalise_email
from boxoffice.platform.schemas import Strict


def _normalised(value: object) -> object:
    return normalise_email(value) if isinstance(value, str) else value


def _deliverable_syntax(value: str) -> str:
    """The address as normalised, once its syntax is valid (no DNS look-up)."""
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(f"value is not a valid email address: {exc}") from None
    return value


# Normalised first (so a full-width address validates as the plain one it stands for) and
# stored in that form, the one login and every look-up use.
EmailAddress = Annotated[
    str,
    BeforeValidator(_normalised),
    StringConstraints(max_length=254),
    AfterValidator(_deliverable_syntax),
    WithJsonSchema({"type": "string", "format": "email", "maxLength": 254}),
]

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9 -]{7,20}$")]


class SignUp(Strict):
    email: EmailAddress
    password: str = Field(max_length=256)
    name: Name


class Login(Strict):
    email: str = Field(max_length=254)
    password: str = Field(max_length=256)


class PasswordResetRequest(Strict):
    email: str = Field(min_length=3, max_length=254)


class PasswordResetConfirm(Strict):
    token: str = Field(min_length=20, max_length=200)
    password: str = Field(max_length=256)


class Accepted(BaseModel):
    detail: str


class RefreshRequest(Strict):
    refresh_token: str = Field(min_length=1, max_length=200)


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    email: str
    name: str
    phone: str | None = None
    role: str
    locale: str = "ko"
    email_verified: bool = False
    created_at: datetime


class UserCreated(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    email: str
    name: str
    role: str


class ProfileUpdate(Strict):
    name: Name | None = None
    phone: Phone | None = None
    locale: Literal["ko", "en"] | None = None


class SellerApplication(Strict):
    business_name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
    ]
    business_number: Annotated[
        str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{3}-?[0-9]{2}-?[0-9]{5}$")
    ]


class SellerProfileRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    user_id: str
    business_name: str
    business_number: str
    status: str
    created_at: datetime
    decided_at: datetime | None = None


class AdminUserUpdate(Strict):
    role: Literal["customer", "seller", "staff", "admin"] | None = None
    seller_status: Literal["pending", "approved", "rejected"] | None = None


class AdminUserRead(UserRead):
    seller_status: str | None = None


class AdminUserPage(BaseModel):
    items: list[AdminUserRead]
    next_cursor: str | None = None


class UserSearch(BaseModel):
    """``GET /admin/users``: e-mail or name contains ``q``; role and seller filters."""

    q: str | None = Field(default=None, max_length=100)
    role: Literal["customer", "seller", "staff", "admin"] | None = None
    seller_status: Literal["pending", "approved", "rejected"] | None = None
    cursor: str | None = Field(default=None, max_length=64)
    limit: int = Field(default=20, ge=1, le=100)


class EmailVerify(Strict):
    token: str = Field(min_length=16, max_length=200)


class AccountDeletion(Strict):
    password: str | None = Field(
        default=None, max_length=200, description="the account's password, if it has one"
    )


class PasswordChange(Strict):
    current_password: str = Field(max_length=200)
    new_password: str = Field(max_length=200)


class EmailChange(Strict):
    email: EmailAddress
    password: str = Field(max_length=200)
