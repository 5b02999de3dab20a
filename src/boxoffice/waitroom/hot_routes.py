"""waitroom's hot routes on the platform's fast lane (``platform/fastlane.py``).

The same use cases as ``routes.py`` (their FastAPI twins, which document them in OpenAPI):
joining the queue, polling one's place and following it over Server-Sent Events are what
a crowd does the minute a sale opens, so they skip FastAPI's routing and dependencies.
"""

from __future__ import annotations

from boxoffice.platform.fastlane import FastRequest, FastResponse, FastRoute, FastStream
from boxoffice.waitroom import service

_SSE_HEADERS = (
    # no-transform and X-Accel-Buffering keep gateways (nginx) from buffering the stream.
    (b"cache-control", b"no-cache, no-transform"),
    (b"x-accel-buffering", b"no"),
)


async def join_queue(request: FastRequest) -> FastResponse:
    user = request.user()
    entry, created = await service.join(
        request.runtime, user, request.params["show_id"], request.client_address
    )
    return FastResponse(201 if created else 200, entry.model_dump_json().encode())


async def get_queue_entry(request: FastRequest) -> FastResponse:
    user = request.user()
    entry = await service.get_entry(request.runtime, user, request.params["entry_id"])
    return FastResponse(200, entry.model_dump_json().encode())


async def stream_queue_entry(request: FastRequest) -> FastStream:
    user = request.user()
    events = await service.open_stream(
        request.runtime, user, request.params["entry_id"], request.header(b"last-event-id")
    )
    return FastStream(events, b"text/event-stream; charset=utf-8", _SSE_HEADERS)


def routes(prefix: str) -> list[FastRoute]:
    return [
        FastRoute("POST", f"{prefix}/shows/{{show_id}}/queue", join_queue),
        FastRoute("GET", f"{prefix}/queue/{{entry_id}}", get_queue_entry),
        FastRoute("GET", f"{prefix}/queue/{{entry_id}}/stream", stream_queue_entry),
    ]
