"""catalog's hot reads, each declared once (``platform/hotroutes.py``): the event page and
the listing are what every fan opens before a sale, thousands of times a minute. Both
answer from catalog's cache with the text it keeps: no JSON is parsed or made on a hit, and
a client that accepts gzip gets the compressed bytes each process keeps of that text."""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints, TypeAdapter

from boxoffice.catalog import reads
from boxoffice.catalog.schemas import EventPage, EventRead, ListingQuery
from boxoffice.platform.compression import ENCODED, VARY, accepts_gzip
from boxoffice.platform.fastlane import FastRequest, FastResponse
from boxoffice.platform.hotroutes import HotRoute
from boxoffice.platform.openapi import problems

_ID = TypeAdapter(Annotated[str, StringConstraints(min_length=1, max_length=64)])
_TAGS = ("catalog",)


async def list_events(request: FastRequest) -> FastResponse:
    """Published events with a show to come (or in the range asked), soonest first,
    keyset-paginated (``cursor``, ``limit``; ``next_cursor`` in the answer)."""
    query = request.query(ListingQuery)
    gzip = accepts_gzip(request.header(b"accept-encoding"))
    return _answer(await reads.list_events(request.runtime, query, gzip=gzip), gzip)


async def get_event(request: FastRequest) -> FastResponse:
    """The event, its shows, grades and images; counts a view. A draft only for its seller
    and admins."""
    user = await request.optional_user()
    event_id = request.param("event_id", _ID)
    gzip = accepts_gzip(request.header(b"accept-encoding"))
    return _answer(await reads.event_detail(request.runtime, user, event_id, gzip=gzip), gzip)


def _answer(body: bytes, gzip: bool) -> FastResponse:
    """200 with ``body``, gzip if the client accepts it (kept per process, not compressed
    per request: ``platform/compression.py``); caches in between told that it varies."""
    return FastResponse(200, body, headers=(VARY, ENCODED) if gzip else (VARY,))


HOT_ROUTES = [
    HotRoute(
        "GET",
        "/events",
        list_events,
        "list_events",
        _TAGS,
        response_model=EventPage,
        query=ListingQuery,
        signed_in=False,
    ),
    HotRoute(
        "GET",
        "/events/{event_id}",
        get_event,
        "get_event",
        _TAGS,
        response_model=EventRead,
        responses=problems({404: "no such event (or a draft of someone else)"}),
        signed_in=False,
    ),
]
