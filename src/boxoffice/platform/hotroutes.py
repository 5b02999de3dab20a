"""A hot use case declared once, answered the same through the fast lane and FastAPI.

A sale's hottest operations (joining a queue, holding seats, placing and paying an
order, ...) skip FastAPI's routing and dependency solving on the fast lane
(``platform/fastlane.py``). Each is declared once as a :class:`HotRoute`: its method and
path, its handler (which parses, validates, calls the use case and shapes the answer),
and what OpenAPI should say of it. From that one declaration come the fast route and a
FastAPI route whose endpoint calls the same handler, so the two entries differ only in
how the request arrives: the FastAPI route documents the operation and answers it when
the lane is off (``BOXOFFICE_FAST_LANE=false``), the lane answers it otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from boxoffice.platform.fastlane import FastRequest, FastResponse, FastRoute, FastStream, Handler
from boxoffice.platform.pressure import checkout_gauge

_PATH_PARAMETER = {"type": "string", "minLength": 1, "maxLength": 64}


@dataclass(frozen=True)
class Header:
    """A request header the operation reads, for its OpenAPI description."""

    name: str
    description: str
    required: bool = False


@dataclass(frozen=True)
class HotRoute:
    """One hot operation: ``method path`` (under the API prefix) answered by ``handler``."""

    method: str
    path: str
    handler: Handler
    operation_id: str
    tags: Sequence[str]
    status_code: int = 200
    response_model: type[BaseModel] | None = None
    body: type[BaseModel] | None = None  # the JSON body the handler reads, if any
    query: type[BaseModel] | None = None  # the query parameters it reads, if any
    headers: Sequence[Header] = ()
    responses: Mapping[int | str, dict[str, Any]] = field(default_factory=dict)
    signed_in: bool = True
    summary: str | None = None
    # A step of the checkout: counted by the process's CheckoutGauge, which the waiting
    # room's dispatcher admits by (platform/pressure.py).
    checkout: bool = False

    def answering(self) -> Handler:
        """The handler, counted by the checkout's gauge when the route is a checkout step."""
        if not self.checkout:
            return self.handler
        handler = self.handler

        async def counted(request: FastRequest) -> FastResponse | FastStream:
            return await checkout_gauge(request.runtime).measure(handler(request))

        return counted

    def fast_route(self, prefix: str) -> FastRoute:
        return FastRoute(self.method, prefix + self.path, self.answering())

    def add_to(self, router: APIRouter) -> None:
        """Declare the operation on ``router``; its endpoint answers with the handler."""
        handler = self.answering()

        async def endpoint(request: Request) -> Response:
            return await answer_with(handler, request)

        endpoint.__name__ = self.operation_id
        router.add_api_route(
            self.path,
            endpoint,
            methods=[self.method],
            status_code=self.status_code,
            response_model=self.response_model,
            operation_id=self.operation_id,
            tags=list(self.tags),
            responses=dict(self.responses),
            summary=self.summary,
            description=(self.handler.__doc__ or "").strip() or None,
            openapi_extra=self._openapi(),
        )

    def _openapi(self) -> dict[str, Any]:
        names = [part[1:-1] for part in self.path.split("/") if part.startswith("{")]
        parameters: list[dict[str, Any]] = [
            {"name": name, "in": "path", "required": True, "schema": _PATH_PARAMETER}
            for name in names
        ]
        if self.query is not None:
            schema = self.query.model_json_schema()
            required = set(schema.get("required", []))
            parameters += [
                {"name": name, "in": "query", "required": name in required, "schema": field}
                for name, field in schema.get("properties", {}).items()
            ]
        parameters += [
            {
                "name": header.name,
                "in": "header",
                "required": header.required,
                "description": header.description,
                "schema": {"type": "string"},
            }
            for header in self.headers
        ]
        extra: dict[str, Any] = {"parameters": parameters}
        if self.body is not None:
            schema = self.body.model_json_schema()  # nested models under its own $defs
            extra["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": schema}},
            }
        if self.signed_in:
            extra["security"] = [{"HTTPBearer": []}]
        return extra


async def answer_with(handler: Handler, request: Request) -> Response:
    """A FastAPI request answered by a fast-lane handler (errors go to FastAPI's handlers,
    which answer through the same mapping as the lane)."""
    fast = FastRequest(
        request.app.state.runtime,
        {name: str(value) for name, value in request.path_params.items()},
        request.scope,
        request.receive,
    )
    answer = await handler(fast)
    headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in answer.headers}
    if isinstance(answer, FastStream):
        return StreamingResponse(
            answer.chunks, media_type=answer.media_type.decode(), headers=headers
        )
    return Response(
        answer.body,
        status_code=answer.status,
        media_type=answer.media_type.decode(),
        headers=headers,
    )
