"""Events identity publishes."""

from __future__ import annotations

from dataclasses import dataclass

from boxoffice.platform.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class UserRegistered(DomainEvent):
    context, name = "identity", "UserRegistered"
    user_id: str
    email: str
    display_name: str
    locale: str
    via: str  # "password" or the social provider

    @property
    def aggregate_id(self) -> str:
        return self.user_id


@dataclass(frozen=True, kw_only=True)
class SellerApproved(DomainEvent):
    context, name = "identity", "SellerApproved"
    user_id: str
    business_name: str

    @property
    def aggregate_id(self) -> str:
        return self.user_id


@dataclass(frozen=True, kw_only=True)
class PasswordResetRequested(DomainEvent):
    """Someone asked to reset the account's password: e-mail it the link (``reset_url``
    carries the single-use secret; see docs/accounts.md for why it rides the outbox)."""

    context, name = "identity", "PasswordResetRequested"
    user_id: str
    email: str
    display_name: str
    locale: str
    reset_url: str
    expires_at: str

    @property
    def aggregate_id(self) -> str:
        return self.user_id
