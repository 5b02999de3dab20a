"""The OpenAPI document tells the truth about failures, decided in one place.

Every operation can fail in ways its route does not list one by one: the platform answers
them (authentication, validation, the text guard, size limits, rate limits, outages),
always as ``application/problem+json``. Which of them an operation can return follows
from what it takes, so they are added here from the operation itself rather than
declared route by route:

- any input (parameters or a body): 400 (malformed JSON, a refused request) and 422
  (validation, unstorable text);
- a body: 413 (size limit) and 415 (a body neither JSON nor a form; an upload that is not
  an image);
- a path id: 404;
- signed in (bearer security declared): 401, and 403 (roles, ownership, approval);
- signed in and changing something (not GET): 409 (state conflicts, idempotency);
- under ``/api``: 429 (per-address and per-user limits, the gateway's too);
- every operation: 503 (a backend busy or unreachable; ``Retry-After``).

Responses a route declares keep their descriptions; their bodies become problem+json
unless the route named a model of its own for them (a health report's 503).
Redirects (3xx) and 304 have no body.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

from boxoffice.platform.errors import PROBLEM_JSON


def operation_id(route: APIRoute) -> str:
    """An operation's id is its endpoint's name (``list_orders``): one spelling, in the
    code and in the document, and no ``operation_id=`` to repeat on every route."""
    return route.name


PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details; extra members carry context.",
    "type": "object",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string", "description": "stable, machine-readable"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "loc": {"type": "array", "items": {"type": "string"}},
                    "msg": {"type": "string"},
                },
            },
        },
    },
    "additionalProperties": True,
}
_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
_DESCRIPTIONS = {
    400: "bad_request: malformed JSON or a refused request",
    401: "unauthorized / token_expired / invalid_token",
    403: "forbidden: role, ownership or approval missing",
    404: "not_found",
    409: "conflict with the current state",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error (+errors) or a refused business rule",
    429: "rate_limited (Retry-After)",
    502: "payment_provider_error: the provider failed (settled later by reconciliation)",
    503: "service_unavailable (Retry-After)",
}
_METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}
_NOT_OWNER = "not the event's seller (or an admin), or the seller is not approved"

Responses = dict[int | str, dict[str, Any]]


def problems(*entries: int | Mapping[int, str]) -> Responses:
    """A route's documented failures, for ``responses=``: a bare status takes the standard
    description (the one the document gives every operation), a mapping says what this
    route means by a status (the error codes it answers with)."""
    responses: Responses = {}
    for entry in entries:
        described = {entry: _DESCRIPTIONS[entry]} if isinstance(entry, int) else entry
        responses |= {status: {"description": text} for status, text in described.items()}
    return responses


def owner_problems(*things: str) -> Responses:
    """What a route of an event's seller (or an admin) may answer besides its success:
    401, 403 (another seller's, or not approved), 404 for each of ``things`` it looks up."""
    return problems(401, {403: _NOT_OWNER, 404: "no such " + " or ".join(things)})


# What an admin-only route may answer besides its success.
ADMIN_RESPONSES = problems(401, {403: "admins only"})


def install(app: FastAPI) -> None:
    """Make ``app.openapi()`` return the document with every failure declared."""
    made: Callable[[], dict[str, Any]] = app.openapi

    def truthful() -> dict[str, Any]:
        if app.openapi_schema is None or "Problem" not in _schemas(app.openapi_schema):
            app.openapi_schema = declare_failures(made())
        return app.openapi_schema

    app.openapi = truthful  # type: ignore[method-assign]


def declare_failures(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with each operation's possible failures declared (in place)."""
    schemas = _schemas(document)
    schemas["Problem"] = PROBLEM_SCHEMA
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if method in _METHODS:
                _declare(path, method, operation)
    return document


def _schemas(document: dict[str, Any]) -> dict[str, Any]:
    schemas: dict[str, Any] = document.setdefault("components", {}).setdefault("schemas", {})
    return schemas


def _declare(path: str, method: str, operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    for failure in _failures(path, method, operation):
        responses.setdefault(str(failure), {"description": _DESCRIPTIONS[failure]})
    for status, response in responses.items():
        code = int(status) if status.isdigit() else 0
        if code >= 400 and not _own_model(response):
            response["content"] = {PROBLEM_JSON: {"schema": _PROBLEM_REF}}
        elif 300 <= code < 400:
            response.pop("content", None)
            if code != 304:
                response.setdefault("headers", {})["Location"] = {
                    "description": "where to go next",
                    "schema": {"type": "string"},
                }


def _own_model(response: dict[str, Any]) -> bool:
    """Whether the route declared this answer's body itself (a health report's 503)."""
    for media in response.get("content", {}).values():
        ref = media.get("schema", {}).get("$ref", "")
        if ref and not ref.endswith("ValidationError"):
            return True
    return False


def _failures(path: str, method: str, operation: dict[str, Any]) -> set[int]:
    parameters = operation.get("parameters", [])
    body = "requestBody" in operation
    signed_in = bool(operation.get("security"))
    failures = {503}
    if parameters or body:
        failures |= {400, 422}
    if body:
        failures |= {413, 415}
    if any(p.get("in") == "path" for p in parameters):
        failures.add(404)
    if signed_in:
        failures |= {401, 403}
        if method != "get":
            failures.add(409)
    if path.startswith("/api/"):
        failures.add(429)
    return failures
