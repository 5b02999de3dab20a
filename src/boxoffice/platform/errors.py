"""Domain errors and the one place that maps them to problem+json (RFC 9457).

Services raise subclasses of :class:`DomainError`; they never know about HTTP. The
status of each error comes from its base class here, its ``code`` from the class.
"""

from __future__ import annotations

from typing import Any, ClassVar

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from redis import exceptions as redis_exc
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from boxoffice.platform.db import database_unavailable as database_unavailable
from boxoffice.platform.jsonutil import dumps

PROBLEM_JSON = "application/problem+json"
log = structlog.get_logger("boxoffice.errors")


class DomainError(Exception):
    """An expected refusal with a user-facing message and a stable code."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    title: ClassVar[str] = "Bad request"

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        self.detail = detail or self.title
        self.extra = extra
        super().__init__(self.detail)

    def headers(self) -> dict[str, str]:
        return {}


class BadRequest(DomainError):
    status, code, title = 400, "bad_request", "Bad request"


class Unauthorized(DomainError):
    status, code, title = 401, "unauthorized", "Authentication required"

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": "Bearer"}


class TokenExpired(Unauthorized):
    code, title = "token_expired", "Token expired"


class InvalidToken(Unauthorized):
    code, title = "invalid_token", "Invalid token"


class Forbidden(DomainError):
    status, code, title = 403, "forbidden", "Forbidden"


class NotFound(DomainError):
    status, code, title = 404, "not_found", "Not found"


class Conflict(DomainError):
    status, code, title = 409, "conflict", "Conflict"


class IdempotencyConflict(Conflict):
    code, title = "idempotency_conflict", "Idempotency key reused with a different request"


class PayloadTooLarge(DomainError):
    status, code, title = 413, "payload_too_large", "Payload too large"


class UnsupportedMediaType(DomainError):
    status, code, title = 415, "unsupported_media_type", "Unsupported media type"


class Unprocessable(DomainError):
    status, code, title = 422, "validation_error", "Validation failed"


class RateLimited(DomainError):
    status, code, title = 429, "rate_limited", "Too many requests"

    def __init__(self, detail: str | None = None, *, retry_after: int = 1, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.retry_after = max(1, int(retry_after))

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class BadGateway(DomainError):
    status, code, title = 502, "payment_provider_error", "Upstream provider error"


class ServiceUnavailable(DomainError):
    status, code, title = 503, "service_unavailable", "Service unavailable"

    def __init__(self, detail: str | None = None, *, retry_after: int = 1, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.retry_after = max(1, int(retry_after))

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


_STATUS_TITLES = {
    400: ("bad_request", "Bad request"),
    401: ("unauthorized", "Authentication required"),
    403: ("forbidden", "Forbidden"),
    404: ("not_found", "Not found"),
    405: ("method_not_allowed", "Method not allowed"),
    406: ("not_acceptable", "Not acceptable"),
    409: ("conflict", "Conflict"),
    413: ("payload_too_large", "Payload too large"),
    415: ("unsupported_media_type", "Unsupported media type"),
    429: ("rate_limited", "Too many requests"),
    503: ("service_unavailable", "Service unavailable"),
}


RESERVED_MEMBERS = frozenset({"type", "title", "status", "detail", "code"})


def problem(
    status: int,
    code: str,
    title: str,
    detail: str | None = None,
    /,
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    """A problem+json response. Extra members add context; they never replace the five
    members every client relies on (an extra named ``status`` would lie about the answer)."""
    body: dict[str, Any] = {k: v for k, v in extra.items() if k not in RESERVED_MEMBERS}
    body |= {
        "type": f"https://boxoffice.dev/problems/{code.replace('_', '-')}",
        "title": title,
        "status": status,
        "detail": detail or title,
        "code": code,
    }
    return Response(dumps(body), status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    errors = []
    for err in exc.errors():
        errors.append({"loc": [str(p) for p in err.get("loc", ())], "msg": err.get("msg", "")})
    return errors


def _backend_unavailable(path: str, exc: BaseException) -> Response:
    # Database or Redis busy, refusing or unreachable: retryable, never a 500.
    log.warning("backend_unavailable", path=path, error=type(exc).__name__)
    return problem(
        503,
        "service_unavailable",
        "Service unavailable",
        "A backend service is busy or unreachable; try again shortly.",
        headers={"Retry-After": "2"},
    )


def _unexpected(path: str) -> Response:
    log.exception("unhandled_error", path=path)
    return problem(500, "internal_error", "Internal error", "Something went wrong on our side.")


def response_for(exc: BaseException, path: str) -> Response:
    """The problem+json answer to an exception raised while serving ``path``.

    The one mapping: FastAPI's exception handlers and the fast lane
    (``platform/fastlane.py``) both answer through it.
    """
    if isinstance(exc, DomainError):
        return problem(
            exc.status, exc.code, exc.title, exc.detail, headers=exc.headers(), **exc.extra
        )
    if isinstance(exc, RequestValidationError):
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return problem(
                400, "bad_request", "Malformed JSON", "The request body is not valid JSON."
            )
        return problem(
            422,
            "validation_error",
            "Validation failed",
            "The request did not pass validation.",
            errors=_validation_errors(exc),
        )
    if isinstance(exc, StarletteHTTPException):
        code, title = _STATUS_TITLES.get(exc.status_code, ("error", "Error"))
        detail = exc.detail if isinstance(exc.detail, str) else title
        return problem(exc.status_code, code, title, detail, headers=dict(exc.headers or {}))
    if isinstance(exc, sa_exc.DBAPIError | sa_exc.TimeoutError) and database_unavailable(exc):
        return _backend_unavailable(path, exc)
    if isinstance(exc, redis_exc.ConnectionError | redis_exc.TimeoutError):
        return _backend_unavailable(path, exc)
    if isinstance(exc, ConnectionError):
        # The OS's own refusal or reset, raised bare by a driver while connecting (asyncpg
        # to a PostgreSQL that is restarting: SQLAlchemy wraps only the driver's errors).
        return _backend_unavailable(path, exc)
    return _unexpected(path)


def install(app: FastAPI) -> None:
    """Register the handlers that turn every failure into problem+json."""

    async def on_error(request: Request, exc: Exception) -> Response:
        return response_for(exc, request.url.path)

    for handled in (
        DomainError,
        RequestValidationError,
        StarletteHTTPException,
        sa_exc.DBAPIError,
        sa_exc.TimeoutError,
        redis_exc.ConnectionError,
        redis_exc.TimeoutError,
        ConnectionError,
        Exception,
    ):
        app.add_exception_handler(handled, on_error)
