"""The fast lane: a sale's hottest routes answered without FastAPI's routing and dependencies.

Joining a queue and polling one's place carry a sale's peak (tens of thousands of requests
a second). Through FastAPI each request pays the router's walk over every route, the
dependency solver and five middleware layers: measured on this project's 2-core machine,
that framework path alone was ~60 % of a join's CPU. A *fast route* is a plain async
function given a :class:`FastRequest`; it calls the same service function as its FastAPI
twin and answers through the same error mapping (``errors.response_for``), with the same
request id header, logs and metrics (``RequestContextMiddleware`` wraps the lane too).

Every fast route stays declared as an ordinary FastAPI route as well: that twin documents
it in OpenAPI and answers when the lane is switched off (``BOXOFFICE_FAST_LANE=false``),
so the two are tested against the same expectations. Only requests that match a fast
route's method and path exactly take the lane; everything else goes through FastAPI as
before. A fast route that takes a body reads it through :meth:`FastRequest.model`: the
same size limit (413), malformed JSON (400) and validation errors (422) as FastAPI's.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import parse_qs

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, TypeAdapter, ValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from boxoffice.platform.errors import BadRequest, Unauthorized, response_for
from boxoffice.platform.jsonutil import dumps
from boxoffice.platform.limits_mw import BodySizeLimitMiddleware
from boxoffice.platform.observability import RequestContextMiddleware
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Principal
from boxoffice.platform.text_guard import RequestTextGuard, is_json_type

_PARAM = re.compile(r"\{([a-z_]+)\}")
M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")
_JSON = b"application/json"
_SIGN_IN = "Sign in and send the access token as 'Authorization: Bearer ...'."


@dataclass(frozen=True, slots=True)
class FastRequest:
    """What a fast route gets: the runtime, the path parameters and the raw ASGI scope."""

    runtime: Runtime
    params: dict[str, str]
    scope: Scope
    receive: Receive

    async def body(self) -> bytes:
        """The request body (its size is limited by ``BodySizeLimitMiddleware``, which the
        lane and the FastAPI side both pass through: 413 past the limit)."""
        chunks: list[bytes] = []
        while True:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                raise BadRequest("The client went away before sending its body.")
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def model(self, schema: type[M]) -> M:
        """The JSON body as ``schema``; malformed JSON is 400, and a missing body, a form
        body or one that does not fit the schema 422 ``validation_error``, exactly as
        FastAPI answers them (a body of any other type was refused 415 by
        ``RequestTextGuard``)."""
        raw = await self.body()
        if not raw:
            raise RequestValidationError([_MISSING_BODY])
        try:
            if not is_json_type(self.header(b"content-type")):
                # FastAPI validates such a body as bytes: not an object, 422 (never parsed)
                return schema.model_validate(raw, from_attributes=True)
            return schema.model_validate_json(raw)
        except ValidationError as exc:
            raise _invalid(exc, "body") from None

    def param(self, name: str, adapter: TypeAdapter[T]) -> T:
        """A path parameter validated by ``adapter``: 422 ``validation_error`` as FastAPI's."""
        try:
            return adapter.validate_python(self.params[name])
        except ValidationError as exc:
            raise _invalid(exc, "path", name) from None

    def header(self, name: bytes) -> str | None:
        """A request header by lower-case name (the first one sent), or None."""
        for key, value in self.scope["headers"]:
            if key == name:
                return str(value.decode("latin-1"))
        return None

    @property
    def client_address(self) -> str:
        client = self.scope.get("client")
        return str(client[0]) if client else "unknown"

    async def user(self) -> Principal:
        """The signed-in user, exactly as the platform's ``CurrentUser`` dependency decides."""
        user = await self.optional_user()
        if user is None:
            raise Unauthorized(_SIGN_IN)
        return user

    async def optional_user(self) -> Principal | None:
        """The signed-in user or None, as ``OptionalUser`` decides: no bearer credentials
        is anonymous, bearer credentials that do not verify are refused (401)."""
        authorization = self.header(b"authorization") or ""
        scheme, _, credentials = authorization.partition(" ")  # as FastAPI's HTTPBearer reads it
        if not (scheme and credentials) or scheme.lower() != "bearer":
            return None
        return await self.runtime.principal(credentials)

    def query(self, schema: type[M]) -> M:
        """The query string as ``schema`` (each name's first value); 422 as FastAPI's."""
        raw = self.scope.get("query_string", b"").decode("latin-1")
        values = {name: found[0] for name, found in parse_qs(raw).items()}
        try:
            return schema.model_validate(values)
        except ValidationError as exc:
            raise _invalid(exc, "query") from None


@dataclass(frozen=True, slots=True)
class FastResponse:
    """A complete answer: status, body and content type (JSON unless said otherwise)."""

    status: int
    body: bytes = b""
    media_type: bytes = _JSON
    headers: Sequence[tuple[bytes, bytes]] = ()

    @classmethod
    def json(cls, status: int, content: Any) -> FastResponse:
        return cls(status, dumps(content))


@dataclass(frozen=True, slots=True)
class FastStream:
    """A streamed answer (Server-Sent Events): headers first, then each chunk as it comes."""

    chunks: AsyncIterator[str]
    media_type: bytes
    headers: Sequence[tuple[bytes, bytes]] = ()


Handler = Callable[[FastRequest], Awaitable[FastResponse | FastStream]]


@dataclass(frozen=True)
class FastRoute:
    """``handler`` answers ``method path`` (a template such as ``/api/v1/queue/{entry_id}``)."""

    method: str
    path: str
    handler: Handler
    pattern: re.Pattern[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        parts = _PARAM.split(self.path)  # literal, name, literal, name, ..., literal
        regex = "".join(
            f"(?P<{part}>[^/]+)" if odd else re.escape(part)
            for odd, part in ((i % 2 == 1, part) for i, part in enumerate(parts))
        )
        object.__setattr__(self, "pattern", re.compile(f"^{regex}$"))


class FastLane:
    """The fast routes of one app, matched by method and exact path."""

    def __init__(
        self, runtime: Runtime, routes: Sequence[FastRoute], limits: Mapping[str, int]
    ) -> None:
        self.runtime = runtime
        self._by_method: dict[str, list[FastRoute]] = {}
        for route in routes:
            self._by_method.setdefault(route.method, []).append(route)
        templates = {id(route): route.path for route in routes}
        # Every fast route is the API's: its bodies are JSON.
        limited = BodySizeLimitMiddleware(
            RequestTextGuard(self._answer, json_only_under="/"), **limits
        )
        self._serve: ASGIApp = RequestContextMiddleware(limited, runtime.metrics, templates)

    def match(self, scope: Scope) -> tuple[FastRoute, dict[str, str]] | None:
        routes = self._by_method.get(scope["method"])
        if not routes:
            return None
        path = scope["path"]
        for route in routes:
            found = route.pattern.match(path)
            if found is not None:
                return route, found.groupdict()
        return None

    async def __call__(
        self, matched: tuple[FastRoute, dict[str, str]], scope: Scope, receive: Receive, send: Send
    ) -> None:
        scope["route"], scope["path_params"] = matched
        await self._serve(scope, receive, send)

    async def _answer(self, scope: Scope, receive: Receive, send: Send) -> None:
        route: FastRoute = scope["route"]
        try:
            request = FastRequest(self.runtime, scope["path_params"], scope, receive)
            answer = await route.handler(request)
        except Exception as exc:  # every failure becomes problem+json, as through FastAPI
            await response_for(exc, scope["path"])(scope, receive, send)
            return
        if isinstance(answer, FastStream):
            await _stream(answer, receive, send)
            return
        headers = [
            (b"content-type", answer.media_type),
            (b"content-length", str(len(answer.body)).encode()),
            *answer.headers,
        ]
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        await send({"type": "http.response.body", "body": answer.body})


async def _stream(answer: FastStream, receive: Receive, send: Send) -> None:
    """Send the chunks until they end or the client goes away (then the iterator is closed,
    so its ``finally`` runs at once: a stream that nobody reads is forgotten)."""
    headers = [(b"content-type", answer.media_type), *answer.headers]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    writer = asyncio.current_task()
    assert writer is not None

    async def until_disconnect() -> None:
        while True:
            message: Message = await receive()
            if message["type"] == "http.disconnect":
                writer.cancel()
                return

    watcher = asyncio.create_task(until_disconnect())
    chunks = answer.chunks
    try:
        async for chunk in chunks:
            await send({"type": "http.response.body", "body": chunk.encode(), "more_body": True})
        await send({"type": "http.response.body", "body": b""})
    except asyncio.CancelledError:
        if not watcher.done():
            raise  # cancelled from outside (server shutdown), not by a disconnect
        writer.uncancel()
    except OSError:
        pass  # the connection broke while writing: the client is gone
    finally:
        watcher.cancel()
        await _close(chunks)


async def _close(chunks: AsyncIterator[str]) -> None:
    closer = getattr(chunks, "aclose", None)
    if closer is not None:
        await closer()


_MISSING_BODY = {"type": "missing", "loc": ("body",), "msg": "Field required", "input": None}


def _invalid(exc: ValidationError, *where: str) -> RequestValidationError:
    """Pydantic's errors located as FastAPI locates them (``body``, ``path``, ...)."""
    return RequestValidationError([{**e, "loc": (*where, *e["loc"])} for e in exc.errors()])
