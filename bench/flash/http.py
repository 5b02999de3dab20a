"""The buyers' HTTP: requests retried while the system says to come back, and the SSE wait.

Only the chaos runs (``Plan.retry_unavailable``) retry requests; the plain flash sale counts
a failed answer as a buyer left without an outcome. The wait is the exception in both: a
stream answered 502/503/504 or dropped is opened again after a pause, as the queue page
does (``web/static/js/waitroom.js``: poll, wait, follow again), and every such answer is
recorded in the buyer's ``problems`` (the report counts them: ``streams_opened_again``).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import orjson

from bench.flash.client import Client

if TYPE_CHECKING:
    from bench.flash.buyer import BuyerResult, Plan

API = "/api/v1"


RETRYABLE = (502, 503, 504)


class PlaceLost(Exception):
    """The waiting room no longer knows the entry (its Redis state was lost): join again."""


async def call(
    client: Client,
    plan: Plan,
    result: BuyerResult,
    step: str,
    method: str,
    path: str,
    **kwargs: Any,
) -> tuple[int, dict[str, Any], Mapping[str, str]]:
    """One request; under ``retry_unavailable``, again while the answer says to come back."""
    deadline = time.monotonic() + plan.retry_for_seconds
    while True:
        retry_after: str | None = None
        try:
            answer = await client.request(method, path, **kwargs)
            if answer.status >= 500:
                retry_after = answer.headers.get("retry-after")
                result.saw(plan, step, answer.status, retry_after)
            if not (plan.retry_unavailable and answer.status in RETRYABLE):
                return answer.status, answer.json(), answer.headers
        except (OSError, TimeoutError):
            if not plan.retry_unavailable:
                raise
            result.saw(plan, step)
        if time.monotonic() > deadline:
            raise RuntimeError(f"{step} kept failing for {plan.retry_for_seconds:.0f}s")
        await asyncio.sleep(float(retry_after or 1) + random.uniform(0, 0.5))


async def wait_for_admission(
    client: Client,
    plan: Plan,
    entry_id: str,
    headers: dict[str, str],
    result: BuyerResult,
) -> tuple[str | None, str]:
    """Follow the SSE stream until `admitted` (token) or `expired`; reconnect with Last-Event-ID.

    Under ``retry_unavailable`` a 502/503/504 or a dropped stream is reconnected after its
    Retry-After, and a 404 (the waiting room lost the place) raises :class:`PlaceLost`."""
    last_event_id: str | None = None
    failures, allowed = 0, (200 if plan.retry_unavailable else 20)
    while failures < allowed:
        stream_headers = dict(headers, Accept="text/event-stream")
        if last_event_id:
            stream_headers["Last-Event-ID"] = last_event_id
        pause = 0.5
        try:
            r, connection = await client.stream(
                f"{API}/queue/{entry_id}/stream", headers=stream_headers
            )
            try:
                if r.status >= 500:
                    retry_after = r.headers.get("retry-after")
                    result.saw(plan, "wait", r.status, retry_after)
                    if r.status in RETRYABLE:  # the page opens it again too
                        failures += 1
                        await asyncio.sleep(float(retry_after or 1) + random.uniform(0, 0.5))
                        continue
                if r.status == 404 and plan.retry_unavailable:
                    raise PlaceLost(entry_id)
                if r.status != 200:
                    raise RuntimeError(f"stream answered {r.status}")
                pending = b""
                async for chunk in connection.chunks(read_seconds=60):  # one pass a read
                    pending += chunk
                    *events, pending = pending.split(b"\n\n")
                    for raw in events:
                        event, data, event_id = _sse_event(raw)
                        result.stream_events += event != "message"
                        last_event_id = event_id or last_event_id
                        if event == "admitted":
                            return orjson.loads(data)["admission_token"], "admitted"
                        if event == "expired":
                            told = orjson.loads(data or "{}").get("reason")
                            if told == "queue_reset" and plan.retry_unavailable:
                                raise PlaceLost(entry_id)  # the line lost its state: rejoin
                            return None, "sold_out" if told == "sold_out" else "expired"
                raise ConnectionError("the stream ended before admitted or expired")
            finally:
                connection.close()
        except (TimeoutError, OSError):  # a drop, a stall or a stream that just ended
            result.saw(plan, "wait")
            if plan.retry_unavailable:
                pause = 1.0
        failures += 1
        await asyncio.sleep(pause)
    raise RuntimeError("stream kept failing")


def _sse_event(raw: bytes) -> tuple[str, str, str | None]:
    """One SSE event's (name, data, id), its lines ended by LF as the server writes them:
    ``message`` and no id where it gives none (the heartbeat comment, the retry line)."""
    event, data, event_id = "message", "", None
    for line in raw.decode().split("\n"):
        if line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data += line[5:].strip()
        elif line.startswith("id:"):
            event_id = line[3:].strip()
    return event, data, event_id
