"""A fan's waitlist entry as a live stream (Server-Sent Events, ``docs/selling.md``).

The offer of a returned seat is made by whichever process runs the offer job, not by the
API process holding the fan's stream. Every change of an entry (offered, bought, missed,
left, joined again) bumps a version number of the entry in the key-value store after its
commit; an open stream reads that number every ``POLL_SECONDS`` (one small read, batched
with the process's other reads on Redis) and only on a change reads the entry from the
database and sends it. So a fan with the page open hears of the offer within a second, and
a thousand open streams cost a thousand key reads a second, not a thousand queries.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import asdict

from boxoffice.platform.jsonutil import dumps
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Principal
from boxoffice.seating import waitlist
from boxoffice.seating.waitlist_rules import EntryStatus

POLL_SECONDS = 1.0
HEARTBEAT_SECONDS = 15.0
MAX_STREAM_SECONDS = 30 * 60  # then the client reconnects (EventSource does by itself)
FINAL = (EntryStatus.BOUGHT.value, EntryStatus.LEFT.value)


def _event(view: waitlist.EntryView) -> bytes:
    return b"event: entry\ndata: " + dumps(asdict(view)) + b"\n\n"


async def entry_events(
    runtime: Runtime,
    user: Principal,
    first: waitlist.EntryView,
    *,
    poll_seconds: float = POLL_SECONDS,
) -> AsyncIterator[bytes]:
    """``entry`` events: the entry at once, then again each time it changes; a comment as a
    heartbeat when nothing does. Ends once the entry is final (bought, left)."""
    kv, version_key = runtime.kv, waitlist.version_key(runtime.kv, first.id)
    version = await kv.get(version_key)
    view = first
    yield _event(view)
    started = quiet_since = time.monotonic()
    while view.status not in FINAL and time.monotonic() - started < MAX_STREAM_SECONDS:
        await asyncio.sleep(poll_seconds)
        now_version = await kv.get(version_key)
        if now_version != version:
            version = now_version
            fresh = await waitlist.get(runtime, first.id, user)
            if fresh != view:
                view, quiet_since = fresh, time.monotonic()
                yield _event(view)
                continue
        if time.monotonic() - quiet_since >= HEARTBEAT_SECONDS:
            quiet_since = time.monotonic()
            yield b": keep-alive\n\n"
