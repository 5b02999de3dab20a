"""The fast lane: exact matching, the same problem+json, request ids and metrics as FastAPI,
and streams that stop (and clean up) when the client goes away."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import orjson
import pytest
from pydantic import BaseModel, Field

from boxoffice.platform.errors import Conflict
from boxoffice.platform.fastlane import FastLane, FastRequest, FastResponse, FastRoute, FastStream
from boxoffice.platform.observability import Metrics


class SeatRequest(BaseModel):
    seat_ids: list[str] = Field(min_length=1)


def lane(*routes: FastRoute) -> FastLane:
    runtime: Any = SimpleNamespace(
        metrics=Metrics(), settings=SimpleNamespace(max_json_body_bytes=100)
    )
    return FastLane(runtime, routes, {"max_json": 100, "max_upload": 1000})


def scope(method: str, path: str, headers: list[tuple[bytes, bytes]] | None = None) -> dict:  # type: ignore[type-arg]
    return {"type": "http", "method": method, "path": path, "headers": headers or []}


async def call(fast: FastLane, request_scope: dict, receive: Any = None) -> list[dict]:  # type: ignore[type-arg]
    sent: list[dict] = []  # type: ignore[type-arg]

    async def send(message: dict) -> None:  # type: ignore[type-arg]
        sent.append(message)

    async def no_body() -> dict:  # type: ignore[type-arg]
        return {"type": "http.request", "body": b""}

    matched = fast.match(request_scope)
    assert matched is not None
    await fast(matched, request_scope, receive or no_body, send)
    return sent


async def echo(request: FastRequest) -> FastResponse:
    return FastResponse.json(200, {"params": request.params})


def test_only_the_exact_method_and_path_take_the_lane() -> None:
    fast = lane(
        FastRoute("GET", "/api/v1/queue/{entry_id}", echo),
        FastRoute("POST", "/api/v1/shows/{show_id}/queue", echo),
    )
    assert fast.match(scope("GET", "/api/v1/queue/s1.abc")) is not None
    assert fast.match(scope("GET", "/api/v1/queue/s1.abc/stream")) is None
    assert fast.match(scope("GET", "/api/v1/queue/")) is None
    assert fast.match(scope("DELETE", "/api/v1/queue/s1.abc")) is None
    assert fast.match(scope("POST", "/api/v1/showsX1/queue")) is None
    route, params = fast.match(scope("POST", "/api/v1/shows/s-9/queue")) or (None, {})
    assert route is not None
    assert params == {"show_id": "s-9"}


async def test_answers_carry_a_request_id_and_are_counted_by_route_template() -> None:
    fast = lane(FastRoute("GET", "/api/v1/queue/{entry_id}", echo))
    sent = await call(fast, scope("GET", "/api/v1/queue/a.1", [(b"x-request-id", b"req-1")]))
    start, body = sent
    assert start["status"] == 200
    assert (b"x-request-id", b"req-1") in start["headers"]
    assert body["body"] == b'{"params":{"entry_id":"a.1"}}'
    counted = fast.runtime.metrics.requests.labels("GET", "/api/v1/queue/{entry_id}", "200")
    assert counted._value.get() == 1


async def test_domain_errors_and_surprises_become_problem_json_without_a_trace() -> None:
    async def taken(request: FastRequest) -> FastResponse:
        raise Conflict("Someone was faster.", seat_ids=["a"])

    async def broken(request: FastRequest) -> FastResponse:
        raise RuntimeError("secret internals")

    fast = lane(FastRoute("POST", "/x/{id}", taken), FastRoute("GET", "/x/{id}", broken))
    start, body = await call(fast, scope("POST", "/x/1"))
    assert start["status"] == 409
    assert (b"content-type", b"application/problem+json") in start["headers"]
    assert b'"code":"conflict"' in body["body"]
    assert b'"seat_ids":["a"]' in body["body"]
    start, body = await call(fast, scope("GET", "/x/1"))
    assert start["status"] == 500
    assert b"internal_error" in body["body"]
    assert b"secret" not in body["body"]


@pytest.mark.parametrize(
    "authorization",
    [None, b"Basic abc", b"Bearer", b"bearer "],
    ids=["none", "basic", "bare", "empty"],
)
async def test_a_route_asking_for_the_user_refuses_without_a_bearer_token(
    authorization: bytes | None,
) -> None:
    async def me(request: FastRequest) -> FastResponse:
        return FastResponse.json(200, {"id": (await request.user()).id})

    fast = lane(FastRoute("GET", "/me", me))
    headers = [(b"authorization", authorization)] if authorization is not None else []
    start, body = await call(fast, scope("GET", "/me", headers))
    assert start["status"] == 401
    assert (b"www-authenticate", b"Bearer") in [(k.lower(), v) for k, v in start["headers"]]
    assert b'"code":"unauthorized"' in body["body"]


async def test_a_stream_ends_and_cleans_up_when_the_client_disconnects() -> None:
    cleaned = asyncio.Event()

    async def ticks() -> AsyncIterator[str]:
        try:
            yield "retry: 1000\n\n"
            while True:
                await asyncio.sleep(0.01)
                yield ": heartbeat\n\n"
        finally:
            cleaned.set()

    async def follow(request: FastRequest) -> FastStream:
        return FastStream(ticks(), b"text/event-stream")

    gone = asyncio.Event()

    async def receive() -> dict:  # type: ignore[type-arg]
        await gone.wait()
        return {"type": "http.disconnect"}

    fast = lane(FastRoute("GET", "/s", follow))
    serving = asyncio.create_task(call(fast, scope("GET", "/s"), receive))
    await asyncio.sleep(0.05)
    gone.set()
    sent = await asyncio.wait_for(serving, 2)  # returns normally: a disconnect is no error
    assert cleaned.is_set()
    assert sent[0]["status"] == 200
    assert sent[1]["body"] == b"retry: 1000\n\n"
    assert all(message.get("more_body") for message in sent[1:])


def body_of(*chunks: bytes) -> Any:
    pending = list(chunks)

    async def receive() -> dict:  # type: ignore[type-arg]
        chunk = pending.pop(0) if pending else b""
        return {"type": "http.request", "body": chunk, "more_body": bool(pending)}

    return receive


async def test_a_body_is_read_validated_and_refused_as_fastapi_refuses_it() -> None:
    async def hold(request: FastRequest) -> FastResponse:
        wanted = await request.model(SeatRequest)
        return FastResponse.json(201, {"seats": wanted.seat_ids})

    fast = lane(FastRoute("POST", "/holds", hold))
    start, body = await call(fast, scope("POST", "/holds"), body_of(b'{"seat_ids":', b'["a"]}'))
    assert start["status"] == 201
    assert orjson.loads(body["body"]) == {"seats": ["a"]}

    start, body = await call(fast, scope("POST", "/holds"), body_of(b'{"seat_ids": ['))
    assert start["status"] == 400
    assert orjson.loads(body["body"])["code"] == "bad_request"

    start, body = await call(fast, scope("POST", "/holds"), body_of(b'{"seat_ids": 7}'))
    problem = orjson.loads(body["body"])
    assert start["status"] == 422
    assert problem["code"] == "validation_error"
    assert problem["errors"][0]["loc"] == ["body", "seat_ids"]

    start, _ = await call(fast, scope("POST", "/holds"), body_of(b""))
    assert start["status"] == 422

    declared = scope("POST", "/holds", [(b"content-length", b"1000")])
    start, body = await call(fast, declared, body_of(b"{}"))
    assert start["status"] == 413
    assert orjson.loads(body["body"])["code"] == "payload_too_large"
    start, _ = await call(fast, scope("POST", "/holds"), body_of(b"[" * 60, b"[" * 60))
    assert start["status"] == 413  # streamed past the limit without declaring a length
