"""waitroom's hot operations, each declared once (``platform/hotroutes.py``): joining the
queue, polling one's place and following it over Server-Sent Events are what a crowd does
the minute a sale opens, so they skip FastAPI's routing and dependencies."""

from __future__ import annotations

from boxoffice.platform.fastlane import FastRequest, FastResponse, FastStream
from boxoffice.platform.hotroutes import Header, HotRoute
from boxoffice.platform.openapi import problems
from boxoffice.waitroom import service
from boxoffice.waitroom.schemas import QueueEntryRead

_SSE_HEADERS = (
    # no-transform and X-Accel-Buffering keep gateways (nginx) from buffering the stream.
    (b"cache-control", b"no-cache, no-transform"),
    (b"x-accel-buffering", b"no"),
)
_TAGS = ("waitroom",)
# What a route of one queue entry of the caller's may answer (the FastAPI route's too).
ENTRY_PROBLEMS = problems(401, {404: "no such entry (or not yours)"})


async def join_queue(request: FastRequest) -> FastResponse:
    """Take a place in the show's line (or the place you have: 200, the same number)."""
    user = await request.user()
    entry, created = await service.join(
        request.runtime, user, request.params["show_id"], request.client_address
    )
    return FastResponse(201 if created else 200, entry.model_dump_json().encode())


async def get_queue_entry(request: FastRequest) -> FastResponse:
    """Your place in the line now (the poll a stream falls back to)."""
    user = await request.user()
    entry = await service.get_entry(request.runtime, user, request.params["entry_id"])
    return FastResponse(200, entry.model_dump_json().encode())


async def stream_queue_entry(request: FastRequest) -> FastStream:
    """Your place as it changes, as Server-Sent Events."""
    user = await request.user()
    events = await service.open_stream(
        request.runtime, user, request.params["entry_id"], request.header(b"last-event-id")
    )
    return FastStream(events, b"text/event-stream; charset=utf-8", _SSE_HEADERS)


HOT_ROUTES = [
    HotRoute(
        "POST",
        "/shows/{show_id}/queue",
        join_queue,
        "join_queue",
        _TAGS,
        status_code=201,
        response_model=QueueEntryRead,
        responses={
            200: {
                "description": "already queued: the same entry and number",
                "model": QueueEntryRead,
            },
            **ENTRY_PROBLEMS,
            **problems(
                {409: "the show sells without a queue", 422: "sale_not_open", 429: "too many joins"}
            ),
        },
    ),
    HotRoute(
        "GET",
        "/queue/{entry_id}",
        get_queue_entry,
        "get_queue_entry",
        _TAGS,
        response_model=QueueEntryRead,
        responses=ENTRY_PROBLEMS,
    ),
    HotRoute(
        "GET",
        "/queue/{entry_id}/stream",
        stream_queue_entry,
        "stream_queue_entry",
        _TAGS,
        headers=[Header("Last-Event-ID", "the last event's id, when reconnecting")],
        responses={
            200: {"description": "Server-Sent Events", "content": {"text/event-stream": {}}},
            **ENTRY_PROBLEMS,
        },
    ),
]
