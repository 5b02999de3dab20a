"""Refuse text no database can store, and JSON nested past any real document, up front.

PostgreSQL refuses a NUL character in text (a driver error, so a 500) and every backend
refuses or mangles a lone UTF-16 surrogate; SQLite silently stores what PostgreSQL
refuses, so the same request answered differently per backend. One pure-ASGI middleware,
in front of FastAPI's routes and the fast lane alike, answers such requests 422
``validation_error`` before any handler sees them: the path, the query string and JSON or
form bodies. JSON nested deeper than :data:`MAX_JSON_DEPTH` is 400 (Python's parser would
recurse until it fails). The common case costs two substring searches over the body.

The API takes JSON (API.md): a body of a type that is neither JSON nor a form
(``text/plain``, ``application/xml``) sent to a route under ``json_only_under`` (the app
passes ``/api/v1``) is 415 ``unsupported_media_type`` here, before any handler parses it,
on both lanes alike. A body without a type is read as JSON. Forms (urlencoded or
multipart) go on to the routes: the upload routes take them, and a JSON route refuses one
422 as FastAPI does (``FastRequest.model`` on the fast lane).
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from boxoffice.platform.errors import BadRequest, DomainError, problem, response_for

MAX_JSON_DEPTH = 32
_SUSPECT_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")
_MESSAGE = "Text must not contain NUL characters or unpaired surrogates."


class RequestTextGuard:
    """422 for unstorable text in the path, query or a JSON/form body; 400 for deep JSON;
    415 under the API for a body that is neither JSON nor a form."""

    def __init__(self, app: ASGIApp, *, json_only_under: str | None = None) -> None:
        self.app = app
        self.json_only_under = json_only_under  # paths whose bodies must be JSON (the API's)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        where = _bad_target(scope)
        if where is not None:
            await _unstorable(where)(scope, receive, send)
            return
        kind = _body_kind(scope)
        if kind is None:
            await self.app(scope, receive, send)
            return
        try:
            body, last = await _read_body(receive)
        except DomainError as exc:  # the size limit's 413, or a client gone away
            await response_for(exc, scope["path"])(scope, receive, send)
            return
        if (
            kind == "other"
            and body
            and self.json_only_under is not None
            and scope["path"].startswith(self.json_only_under)
        ):
            await _not_json(scope)(scope, receive, send)
            return
        refusal = _check_form(body) if kind == "form" else _check_json(body)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {**last, "body": body, "more_body": False}

        await self.app(scope, replay, send)


def _bad_target(scope: Scope) -> str | None:
    if "\x00" in scope["path"]:
        return "path"
    query: bytes = scope.get("query_string", b"")
    if b"%00" in query or b"\x00" in query:
        return "query"
    return None


def is_json_type(content_type: str | None) -> bool:
    """Whether a body of this type is read as JSON (none given: it is)."""
    if not content_type:
        return True
    main, _, sub = content_type.split(";", 1)[0].strip().lower().partition("/")
    return main == "application" and (sub == "json" or sub.endswith("+json"))


def _content_type(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"content-type":
            return str(value.decode("latin-1"))
    return ""


def _body_kind(scope: Scope) -> str | None:
    """``json``, ``form`` or ``other`` (a declared type that is neither); None: no body to
    read here (a GET, or a multipart upload: binary, its text fields checked by the route)."""
    if scope["method"] in ("GET", "HEAD", "OPTIONS"):
        return None
    content_type = _content_type(scope).lower()
    if is_json_type(content_type):
        return "json"
    if content_type.startswith("application/x-www-form-urlencoded"):
        return "form"
    if content_type.startswith("multipart/"):
        return None
    return "other"


def _not_json(scope: Scope) -> Response:
    return problem(
        415,
        "unsupported_media_type",
        "Unsupported media type",
        f"This API takes JSON: send the body as 'Content-Type: application/json', not "
        f"{_content_type(scope).split(';', 1)[0].strip()!r}.",
    )


async def _read_body(receive: Receive) -> tuple[bytes, Message]:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise BadRequest("The client went away before sending its body.")
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), message


def _check_json(body: bytes) -> Response | None:
    if body.count(b"[") + body.count(b"{") > MAX_JSON_DEPTH and _depth(body) > MAX_JSON_DEPTH:
        return problem(
            400,
            "bad_request",
            "JSON nested too deeply",
            f"The request body nests arrays and objects deeper than {MAX_JSON_DEPTH} levels.",
            max_depth=MAX_JSON_DEPTH,
        )
    if b"\x00" in body or _SUSPECT_ESCAPE.search(body):
        try:
            document = json.loads(body)
        except (ValueError, RecursionError):
            return None  # not JSON: the route answers 400 as it would anyway
        if _has_unstorable(document):
            return _unstorable("body")
    return None


def _check_form(body: bytes) -> Response | None:
    if b"%00" in body or b"\x00" in body:
        return _unstorable("body")
    return None


def _depth(body: bytes) -> int:
    """How deep arrays and objects nest, brackets inside strings not counted."""
    deepest = depth = 0
    for found in _BRACKET.finditer(_JSON_STRING.sub(b'""', body)):
        depth += 1 if found.group() in (b"[", b"{") else -1
        deepest = max(deepest, depth)
    return deepest


def _has_unstorable(value: Any) -> bool:
    if isinstance(value, str):
        return _UNSTORABLE.search(value) is not None
    if isinstance(value, dict):
        return any(_has_unstorable(k) or _has_unstorable(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_unstorable(item) for item in value)
    return False


def _unstorable(where: str) -> Response:
    return problem(
        422,
        "validation_error",
        "Validation failed",
        "The request did not pass validation.",
        errors=[{"loc": [where], "msg": _MESSAGE}],
    )
