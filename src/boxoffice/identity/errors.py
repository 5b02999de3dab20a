"""identity's refusals."""

from __future__ import annotations

from boxoffice.platform.errors import Conflict, NotFound, Unauthorized, Unprocessable


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
