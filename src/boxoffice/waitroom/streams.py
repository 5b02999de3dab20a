"""One entry's Server-Sent Events, driven by this process's serving board (no Redis per tick).

Events: ``position`` ``{position, eta_seconds}`` when it changes, ``admitted``
``{admission_token, expires_at}``, ``expired`` (admission ran out, or the place was
given up; ``reason``: ``sold_out`` when nothing is left to sell, ``queue_reset`` when the
queue's state was lost — Redis restarted empty — and the fan must join again) and a comment
heartbeat. Event ids (``p<position>``, ``a``, ``x``) let a
reconnecting client (``Last-Event-ID``) skip what it already has.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from boxoffice.catalog.contracts import ShowSaleInfo
from boxoffice.platform.runtime import Runtime
from boxoffice.waitroom import admission
from boxoffice.waitroom.board import Listener
from boxoffice.waitroom.dispatcher import now_ms
from boxoffice.waitroom.domain import Entry, Status, eta_seconds, position

if TYPE_CHECKING:
    from boxoffice.waitroom.service import Waitroom

HEARTBEAT = ": heartbeat\n\n"


def event(name: str, event_id: str, data: dict[str, object]) -> str:
    return f"id: {event_id}\nevent: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def position_event(place: int | None, eta: int | None) -> str:
    """The `position` event, formatted without a JSON encoder (it is sent 10,000 times a tick)."""
    shown = "-" if place is None else place
    data_place = "null" if place is None else place
    data_eta = "null" if eta is None else eta
    return (
        f"id: p{shown}\nevent: position\n"
        f'data: {{"position":{data_place},"eta_seconds":{data_eta}}}\n\n'
    )


async def entry_events(
    runtime: Runtime,
    waitroom: Waitroom,
    entry: Entry,
    info: ShowSaleInfo,
    last_event_id: str | None,
) -> AsyncIterator[str]:
    board, show_id, left = waitroom.board, entry.show_id, waitroom.board.left
    sent, key = last_event_id, (show_id, entry.entry_id)
    resets = board.resets.get(show_id, 0)
    with board.listening(show_id, entry.entry_id) as listener:
        yield f"retry: {waitroom.settings.stream_retry_ms}\n\n"
        while True:
            at_ms = now_ms(runtime.clock)
            status = Status.LEFT if entry.entry_id in left else entry.status(at_ms)
            if status in (Status.LEFT, Status.EXPIRED):
                if sent != "x":
                    yield event("expired", "x", {"status": status.value})
                return
            state = await board.serving(show_id, at_ms)
            if board.resets.get(show_id, 0) != resets:  # the queue's state was lost
                resets, fresh = board.resets.get(show_id, 0), await waitroom.store.get(*key)
                if fresh is None:  # with it this place: the fan must join again
                    yield event("expired", "x", {"status": "expired", "reason": "queue_reset"})
                    return
                entry = fresh
                continue
            if status is Status.WAITING and state.sold_out:
                yield event("expired", "x", {"status": "expired", "reason": "sold_out"})
                return
            if status is Status.ADMITTED:
                if sent != "a":
                    yield _admitted(runtime, entry)
                    sent = "a"
            elif _numbered_or_passed(entry, state.issued, state.serving):
                # The pre-queue was numbered, or the dispatcher passed this number: re-read once.
                fresh = await waitroom.store.get(show_id, entry.entry_id)
                if fresh is None:
                    return
                if fresh != entry:
                    entry = fresh
                    continue
            else:
                place = position(entry.number, state.serving)
                event_id = f"p{place if place is not None else '-'}"
                if event_id != sent:
                    eta = eta_seconds(place, state.rate, info.queue.admit_per_second)
                    yield position_event(place, eta)
                    sent = event_id
                if entry.number is not None:
                    # The common case, 10,000 times per tick: see _follow_place.
                    async for line in _follow_place(waitroom, listener, entry, info, sent, resets):
                        yield line
                        if line is not HEARTBEAT:
                            sent = line[4 : line.index("\n")]
                    continue
            await listener.wait()
            if listener.heartbeat_due:
                listener.heartbeat_due = False
                yield HEARTBEAT


def _numbered_or_passed(entry: Entry, issued: int, serving: int) -> bool:
    """The pre-queue was numbered, or the dispatcher passed this entry's number."""
    number = entry.number
    return (number is None and issued > 0) or (number is not None and number <= serving)


def _admitted(runtime: Runtime, entry: Entry) -> str:
    token, expires_at = admission.for_entry(runtime, entry)
    data: dict[str, object] = {"admission_token": token, "expires_at": expires_at.isoformat()}
    return event("admitted", "a", data)


async def _follow_place(
    waitroom: Waitroom,
    listener: Listener,
    entry: Entry,
    info: ShowSaleInfo,
    sent: str | None,
    resets: int,
) -> AsyncIterator[str]:
    """A waiting entry's position while the board moves: a dict lookup per wake and one
    formatted line when the position changed; ends once the number is reached, the sale
    sold out or the entry was given up here (the caller re-checks then)."""
    board, show_id, left = waitroom.board, entry.show_id, waitroom.board.left
    assert entry.number is not None
    number, configured = entry.number, info.queue.admit_per_second
    distant = waitroom.settings.stream_distant_position
    every = waitroom.settings.stream_distant_every_seconds
    pushed = time.monotonic()
    if distant:  # the board need not wake this stream for far-back ticks
        listener.number, listener.distant = number, distant
        listener.quiet_until = pushed + every
    while True:
        await listener.wait()
        if listener.heartbeat_due:
            listener.heartbeat_due = False
            yield HEARTBEAT
        current = board.current(show_id)
        if current is None or current.serving >= number or current.sold_out:
            return
        if entry.entry_id in left or board.resets.get(show_id, 0) != resets:
            return
        place = number - current.serving
        if sent != f"p{place}":
            if distant and place > distant:  # far back: now and then
                moment = time.monotonic()
                if moment - pushed < every:
                    continue
                pushed = moment
                listener.quiet_until = moment + every
            yield position_event(place, eta_seconds(place, current.rate, configured))
            sent = f"p{place}"
