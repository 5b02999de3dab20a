"""The serving board: a fan who gives up wakes only their own streams, a tick wakes all."""

from __future__ import annotations

import asyncio
import time

from boxoffice.waitroom.board import ServingBoard
from boxoffice.waitroom.domain import STORED_WAITING, Entry, ServingState
from boxoffice.waitroom.store import MemoryQueueStore


async def test_a_leave_wakes_only_that_entrys_streams_and_a_tick_wakes_every_stream() -> None:
    board = ServingBoard(MemoryQueueStore(), heartbeat_seconds=60, stale_after_seconds=60)
    with (
        board.listening("show", "show.leaver") as leaver,
        board.listening("show", "show.stayer") as stayer,
        board.listening("other", "other.fan") as elsewhere,
    ):
        waits = {
            name: asyncio.create_task(listener.wait())
            for name, listener in (("leaver", leaver), ("stayer", stayer), ("other", elsewhere))
        }
        await asyncio.sleep(0)
        board.entry_left("show", "show.leaver")
        await asyncio.sleep(0)
        assert {name for name, task in waits.items() if task.done()} == {"leaver"}
        assert "show.leaver" in board.left

        board.deliver(ServingState("show", serving=5, issued=10, rate=1.0, at_ms=1))
        await asyncio.sleep(0)
        assert {name for name, task in waits.items() if task.done()} == {"leaver", "stayer"}
        waits["other"].cancel()
    assert board.stream_count("show") == 0  # streams that end leave the board
    assert board._by_entry == {}


async def test_a_tick_leaves_quiet_far_back_streams_asleep_until_they_are_due_or_near() -> None:
    board = ServingBoard(MemoryQueueStore(), heartbeat_seconds=60, stale_after_seconds=60)
    with board.listening("show", "show.far") as far, board.listening("show", "show.near") as near:
        far.number, far.distant = 1_000, 100
        far.quiet_until = time.monotonic() + 60  # told its place a moment ago
        woken = [asyncio.create_task(far.wait()), asyncio.create_task(near.wait())]
        await asyncio.sleep(0)
        board.deliver(ServingState("show", serving=10, issued=2_000, rate=1.0, at_ms=1))
        await asyncio.sleep(0)
        assert [task.done() for task in woken] == [False, True]
        board.deliver(ServingState("show", serving=950, issued=2_000, rate=1.0, at_ms=2))
        await asyncio.sleep(0)
        assert woken[0].done()  # 50 from the front now: every tick again


async def test_a_queue_that_lost_its_state_is_seen_as_reset_and_its_places_forgotten() -> None:
    """Redis restarted empty mid-sale (bench/chaos.py's redis fault): the next tick hands out
    fewer numbers than were already admitted. The board takes it (instead of ignoring a
    lower serving number forever), forgets the show's remembered places, counts a reset
    and wakes every stream of the show, quiet far-back ones included."""
    board = ServingBoard(MemoryQueueStore(), heartbeat_seconds=60, stale_after_seconds=60)
    board.deliver(ServingState("show", serving=500, issued=2_000, rate=5.0, at_ms=1_000))
    waiting = Entry("show.far", "show", "fan", 1_500, 1, STORED_WAITING)
    board.remember(waiting)
    board.remember(Entry("other.fan", "other", "fan", 9, 1, STORED_WAITING))
    board.deliver(ServingState("other", serving=1, issued=20, rate=1.0, at_ms=1_000))
    assert board.recall("show.far") == waiting
    with board.listening("show", "show.far") as far:
        far.number, far.distant = 1_500, 100
        far.quiet_until = time.monotonic() + 60
        woken = asyncio.create_task(far.wait())
        await asyncio.sleep(0)

        # A late message from before is not a reset: older tick, it is ignored.
        board.deliver(ServingState("show", serving=400, issued=1_900, rate=5.0, at_ms=900))
        assert board.current("show").serving == 500  # type: ignore[union-attr]
        assert board.resets == {}

        board.deliver(ServingState("show", serving=3, issued=40, rate=5.0, at_ms=4_000))
        await asyncio.sleep(0)
        assert woken.done()
    assert board.resets == {"show": 1}
    assert board.current("show").serving == 3  # type: ignore[union-attr]
    assert board.recall("show.far") is None  # asked of the store again: it is gone there
    assert board.recall("other.fan") is not None  # other shows keep theirs


async def test_a_queue_read_back_empty_is_a_reset_too() -> None:
    """After Redis restarted empty the dispatcher may tick nothing (the set of queued shows
    is gone too, until someone joins): the board's own re-read of a silent show finds no
    state at all — no tick (``at_ms`` 0), nothing issued — and that is a reset as well."""
    board = ServingBoard(MemoryQueueStore(), heartbeat_seconds=60, stale_after_seconds=60)
    board.deliver(ServingState("show", serving=500, issued=2_000, rate=5.0, at_ms=1_000))
    board.deliver(ServingState("show", serving=0, issued=0, rate=0.0, at_ms=0))
    assert board.resets == {"show": 1}
    board.deliver(ServingState("show", serving=0, issued=0, rate=0.0, at_ms=0))
    assert board.resets == {"show": 1}  # once: nothing was admitted in the new queue


async def test_each_stream_gets_its_heartbeat_a_period_after_its_last_not_all_at_once() -> None:
    """Streams opened over time are woken for their heartbeats over time: a crowd's
    thousands are not all written to in one turn (docs/waitroom.md)."""
    board = ServingBoard(MemoryQueueStore(), heartbeat_seconds=15, stale_after_seconds=60)
    with board.listening("show", "show.early") as early, board.listening("show") as late:
        late.heartbeat_at = early.heartbeat_at + 10  # opened 10 s after the first
        first = early.heartbeat_at
        woken = [asyncio.create_task(early.wait()), asyncio.create_task(late.wait())]
        await asyncio.sleep(0)

        assert board.wake_for_heartbeats(first - 0.5) == 0
        assert board.wake_for_heartbeats(first) == 1
        await asyncio.sleep(0)
        assert [task.done() for task in woken] == [True, False]
        assert early.heartbeat_due
        assert not late.heartbeat_due
        assert early.heartbeat_at == first + 15  # the next one a period later

        assert board.wake_for_heartbeats(first + 9) == 0
        assert board.wake_for_heartbeats(first + 10) == 1
        await asyncio.sleep(0)
        assert woken[1].done()
        assert late.heartbeat_due
        assert board.wake_for_heartbeats(first + 15) == 1  # the first stream's second one
