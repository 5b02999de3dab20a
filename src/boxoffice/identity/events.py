"""Events identity publishes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self

from boxoffice.platform.events import DomainEvent

if TYPE_CHECKING:
    from boxoffice.identity.models import User


@dataclass(frozen=True, kw_only=True)
class MailedToUser(DomainEvent):
    """An event that e-mails the user: whom to write to, by which name, in which language;
    the user is the aggregate."""

    user_id: str
    email: str
    display_name: str
    locale: str

    @property
    def aggregate_id(self) -> str:
        return self.user_id

    @classmethod
    def to(cls, user: User, **fields: Any) -> Self:
        """The event addressed to ``user``; ``fields`` are the event's own (an ``email`` among
        them writes to that address instead of the account's)."""
        addressee = {
            "user_id": user.id,
            "email": user.email,
            "display_name": user.name,
            "locale": user.locale,
        }
        return cls(**(addressee | fields))


@dataclass(frozen=True, kw_only=True)
class UserRegistered(MailedToUser):
    context, name = "identity", "UserRegistered"
    via: str  # "password" or the social provider
    verify_url: str = ""  # a password sign-up: the link that verifies the e-mail (welcome mail)


@dataclass(frozen=True, kw_only=True)
class SellerApproved(DomainEvent):
    context, name = "identity", "SellerApproved"
    user_id: str
    business_name: str

    @property
    def aggregate_id(self) -> str:
        return self.user_id


@dataclass(frozen=True, kw_only=True)
class PasswordResetRequested(MailedToUser):
    """Someone asked to reset the account's password: e-mail it the link (``reset_url``
    carries the single-use secret; see docs/accounts.md for why it rides the outbox)."""

    context, name = "identity", "PasswordResetRequested"
    reset_url: str
    expires_at: str


@dataclass(frozen=True, kw_only=True)
class EmailVerificationRequested(MailedToUser):
    """The account asked for a new verification link (``verify_url`` carries the secret)."""

    context, name = "identity", "EmailVerificationRequested"
    verify_url: str
    expires_at: str


@dataclass(frozen=True, kw_only=True)
class AccountDeleted(DomainEvent):
    """The account's personal data was erased (its id stays, on orders and tickets)."""

    context, name = "identity", "AccountDeleted"
    user_id: str

    @property
    def aggregate_id(self) -> str:
        return self.user_id


@dataclass(frozen=True, kw_only=True)
class PasswordChanged(MailedToUser):
    """The account's password was changed by its owner: tell them (it may not have been)."""

    context, name = "identity", "PasswordChanged"


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
