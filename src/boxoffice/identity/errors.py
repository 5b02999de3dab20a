"""identity's refusals."""

from __future__ import annotations

from boxoffice.platform.errors import (
    BadGateway,
    BadRequest,
    Conflict,
    Forbidden,
    InvalidToken,
    NotFound,
    Unauthorized,
    Unprocessable,
)


class EmailTaken(Conflict):
    code, title = "conflict", "E-mail already registered"


class InvalidCredentials(Unauthorized):
    code, title = "unauthorized", "Wrong e-mail or password"


class RefreshTokenInvalid(Unauthorized):
    code, title = "invalid_token", "Refresh token is not valid"


class RefreshTokenReused(Unauthorized):
    code, title = "refresh_token_reused", "Refresh token was already used"


class WeakPassword(Unprocessable):
    code, title = "validation_error", "Password does not meet the policy"


class UserNotFound(NotFound):
    title = "User not found"


class SellerProfileMissing(Unprocessable):
    code, title = "validation_error", "The user has not applied as a seller"


class ResetTokenInvalid(Unprocessable):
    """The password-reset link is unknown, expired or already used."""

    code, title = "reset_token_invalid", "Password reset link is not valid"


class VerificationTokenInvalid(Unprocessable):
    """The e-mail verification link is unknown, expired, already used, or for an address
    the account no longer has."""

    code, title = "verification_token_invalid", "E-mail verification link is not valid"


class AccountNotDeletable(Conflict):
    """Something of the account stops its deletion (``reason``: ``has_duties`` — a seller,
    staff or admin account, whose role an admin changes first; ``upcoming_tickets`` — valid
    tickets for shows to come, to be used, transferred or cancelled first)."""

    code, title = "account_not_deletable", "This account cannot be deleted now"


class WrongPassword(Forbidden):
    """A sensitive change asked for the account's password, and this is not it."""

    code, title = "wrong_password", "The password is not this account's"


class OAuthProviderError(BadGateway):
    code, title = "oauth_provider_error", "Sign-in provider error"


class IdTokenInvalid(InvalidToken):
    title = "The provider's ID token failed verification"


class OAuthProviderUnknown(NotFound):
    title = "Unknown sign-in provider"


class OAuthStateInvalid(BadRequest):
    title = "Sign-in request not recognised"


class OAuthDenied(BadRequest):
    title = "Sign-in was cancelled at the provider"
