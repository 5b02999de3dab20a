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
    verify_url: str = ""  # a password sign-up: the link that verifies the e-mail (welcome mail)

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


@dataclass(frozen=True, kw_only=True)
class EmailVerificationRequested(DomainEvent):
    """The account asked for a new verification link (``verify_url`` carries the secret)."""

    context, name = "identity", "EmailVerificationRequested"
    user_id: str
    email: str
    display_name: str
    locale: str
    verify_url: str
    expires_at: str

    @property
    def aggregate_id(self) -> str:
        return self.user_id


@dataclass(frozen=True, kw_only=True)
class AccountDeleted(DomainEvent):
    """The account's personal data was erased (its id stays, on orders and tickets)."""

    context, name = "identity", "AccountDeleted"
    user_id: str

    @property
    def aggregate_id(self) -> str:
        return self.user_id


@dataclass(frozen=True, kw_only=True)
class PasswordChanged(DomainEvent):
    """The account's password was changed by its owner: tell them (it may not have been)."""

    context, name = "identity", "PasswordChanged"
    user_id: str
    email: str
    display_name: str
    locale: str

    @property
    def aggregate_id(self) -> str:
        return self.user_id


@dataclass(frozen=True, kw_only=True)
class EmailChanged(DomainEvent):
    """The account's e-mail changed: the old address is told where it went."""

    context, name = "identity", "EmailChanged"
    user_id: str
    old_email: str
    new_email: str
    display_name: str
    locale: str

    @property
    def aggregate_id(self) -> str:
        return self.user_id
