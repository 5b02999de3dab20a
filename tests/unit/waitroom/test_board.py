"""The serving board: a fan who gives up wakes only their own streams, a tick wakes all."""

from __future__ import annotations

import asyncio
import time

from boxoffice.waitroom.board import ServingBoard
from boxoffice.waitroom.domain import ServingState
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
