"""Per process: the serving number of every show this process serves, and the streams on it.

One subscription per show per process (Redis pub/sub in production) keeps the value in
memory; polls read it, and each update wakes every SSE stream of that show at once. No
stream and no poll queries Redis for the serving number. A show nobody published for a
while (dispatcher restarting, pub/sub reconnecting) is re-read once per show, not per
stream. One process-wide timer gives each stream its heartbeat ``heartbeat_seconds`` after
the last one (after it opened, at first), so a crowd's streams, opened over a minute, get
theirs spread over it too, not all in one turn.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict
from collections.abc import Iterator

import structlog

from boxoffice.waitroom.domain import STORED_WAITING, Entry, EntryLeft, ServingState
from boxoffice.waitroom.store import QueueStore

log = structlog.get_logger("boxoffice.waitroom")
REMEMBERED_ENTRIES = 300_000  # about 80 MB at most


class Listener:
    """One SSE stream's mailbox: woken by ticks, by heartbeats and when its show closes."""

    __slots__ = (
        "_waiter",
        "distant",
        "heartbeat_at",
        "heartbeat_due",
        "number",
        "quiet_until",
        "show_id",
    )

    def __init__(self, show_id: str, heartbeat_at: float) -> None:
        self.show_id = show_id
        self.heartbeat_at = heartbeat_at  # monotonic seconds: its next heartbeat
        self.heartbeat_due = False
        self._waiter: asyncio.Future[None] | None = None
        # A stream far back in the line (number - serving > distant) that was just told its
        # place needs no wake-up from a tick before quiet_until (monotonic seconds).
        self.number: int | None = None
        self.distant = 0
        self.quiet_until = 0.0

    def quiet_for(self, serving: int, now: float) -> bool:
        """True when a tick to ``serving`` would wake this stream for nothing."""
        return (
            self.quiet_until > now
            and self.number is not None
            and self.number - serving > self.distant
        )

    def wake(self, *, heartbeat: bool = False) -> None:
        if heartbeat:
            self.heartbeat_due = True
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def wait(self) -> None:
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None


class ServingBoard:
    def __init__(
        self,
        store: QueueStore,
        *,
        heartbeat_seconds: float,
        stale_after_seconds: float,
    ) -> None:
        self._store = store
        self._heartbeat = heartbeat_seconds
        self._stale_after = stale_after_seconds
        self._states: dict[str, ServingState] = {}
        self._seen: dict[str, float] = {}  # monotonic time of the last update per show
        self._listeners: dict[str, set[Listener]] = {}
        self._by_entry: dict[str, set[Listener]] = {}  # an entry's own streams
        self._asked: dict[str, float] = {}  # monotonic time of the last poll per show
        # Waiting entries seen here: a poll needs no Redis read while the entry waits. An
        # entry leaves this memory when its number is reached (admitted, or skipped because
        # it had left) or when a process announces it was given up.
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        self.left: set[str] = set()
        self.resets: dict[str, int] = {}  # show -> times its queue state was found lost
        self._tasks: list[asyncio.Task[None]] = []
        self.updates = 0

    # --- lifecycle -------------------------------------------------------------------
    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._listen(), name="waitroom-serving-listener"),
            asyncio.create_task(self._heartbeats(), name="waitroom-heartbeats"),
            asyncio.create_task(self._refresh_stale(), name="waitroom-refresh"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    # --- the serving value -----------------------------------------------------------
    async def serving(self, show_id: str, now_ms: int) -> ServingState:
        """This process's value for the show; the first call subscribes and reads it once."""
        self._asked[show_id] = time.monotonic()
        state = self._states.get(show_id)
        if state is not None:
            return state
        await self._store.watch(show_id)  # subscribe first: no update is lost in between
        fresh = await self._store.state(show_id, now_ms)
        return self.deliver(fresh)

    def remember(self, entry: Entry) -> None:
        if entry.stored_status != STORED_WAITING or entry.number is None:
            return
        self._entries[entry.entry_id] = entry
        if len(self._entries) > REMEMBERED_ENTRIES:
            self._entries.popitem(last=False)

    def recall(self, entry_id: str) -> Entry | None:
        """The entry as remembered, while it is certainly still waiting; else None."""
        entry = self._entries.get(entry_id)
        if entry is None:
            return None
        state = self._states.get(entry.show_id)
        if entry_id in self.left or state is None or state.serving >= (entry.number or 0):
            del self._entries[entry_id]
            return None
        return entry

    def current(self, show_id: str) -> ServingState | None:
        """The value in memory, if this process has one (streams read it on every wake)."""
        return self._states.get(show_id)

    def deliver(self, state: ServingState) -> ServingState:
        """Take an update (from pub/sub or a read); newer serving numbers win, never older,
        unless the queue was reset (see :meth:`_was_reset`)."""
        current = self._states.get(state.show_id)
        reset = current is not None and self._was_reset(current, state)
        if reset:
            self._forget_show(state.show_id)
        elif current is not None and (
            state.serving < current.serving
            or (state.serving == current.serving and state.at_ms < current.at_ms)
        ):
            return current
        self._states[state.show_id] = state
        now = self._seen[state.show_id] = time.monotonic()
        self.updates += 1
        # Sold out or reset: every stream must hear it, the quiet far-back ones too.
        serving, everyone = state.serving, state.sold_out or reset
        for listener in self._listeners.get(state.show_id, ()):
            if everyone or not listener.quiet_for(serving, now):  # far back, told lately
                listener.wake()
        return state

    @staticmethod
    def _was_reset(current: ServingState, state: ServingState) -> bool:
        """The show's queue state was lost (Redis restarted empty, or failed over to a replica
        that had not caught up): a state produced *after* the one in memory has handed out
        fewer numbers than were already admitted, which no queue that kept its state can
        do (serving <= issued, and both only grow). A late, older message is not a reset:
        its ``at_ms`` (the dispatcher's tick) is not newer. A read of a queue never ticked
        since (``at_ms`` 0: its state is simply gone, and the dispatcher may not know the
        show again until someone joins) is one too."""
        newer = state.at_ms > current.at_ms or state.at_ms == 0
        return newer and state.issued < current.serving

    def _forget_show(self, show_id: str) -> None:
        """The places remembered for the show are gone with its queue: count the reset (each
        waiting stream re-reads its entry, and is told when it is gone), forget them."""
        self.resets[show_id] = self.resets.get(show_id, 0) + 1
        log.warning("waitroom.queue_reset", show_id=show_id)
        for entry_id in [k for k, e in self._entries.items() if e.show_id == show_id]:
            del self._entries[entry_id]

    def _take(self, message: ServingState | EntryLeft) -> None:
        if isinstance(message, EntryLeft):
            self.entry_left(message.show_id, message.entry_id)
        else:
            self.deliver(message)

    def entry_left(self, show_id: str, entry_id: str) -> None:
        """Wake only that entry's streams: waking the whole show for each fan who gives up
        made a crowd of leavers cost (leavers x streams) wake-ups."""
        self.left.add(entry_id)
        self._entries.pop(entry_id, None)
        for listener in self._by_entry.get(entry_id, ()):
            listener.wake()

    # --- streams ---------------------------------------------------------------------
    @contextlib.contextmanager
    def listening(self, show_id: str, entry_id: str | None = None) -> Iterator[Listener]:
        listener = Listener(show_id, time.monotonic() + self._heartbeat)
        self._listeners.setdefault(show_id, set()).add(listener)
        if entry_id is not None:
            self._by_entry.setdefault(entry_id, set()).add(listener)
        try:
            yield listener
        finally:
            for index, key in ((self._listeners, show_id), (self._by_entry, entry_id)):
                if key is None:
                    continue
                listeners = index.get(key)
                if listeners is not None:
                    listeners.discard(listener)
                    if not listeners:
                        del index[key]

    def resync(self) -> None:
        """Updates may have been missed (the subscription reconnected): every show is
        re-read by the next refresh, within a second."""
        for show_id in self._seen:
            self._seen[show_id] = 0.0

    def wake_show(self, show_id: str) -> None:
        for listener in self._listeners.get(show_id, ()):
            listener.wake()

    def stream_count(self, show_id: str | None = None) -> int:
        if show_id is not None:
            return len(self._listeners.get(show_id, ()))
        return sum(len(group) for group in self._listeners.values())

    # --- loops -----------------------------------------------------------------------
    async def _listen(self) -> None:
        while True:
            try:
                await self._store.listen(self._take, self.resync)
            except asyncio.CancelledError:
                raise
            except Exception:  # a dropped connection: stale values are re-read meanwhile
                log.warning("waitroom.listen_failed", exc_info=True)
                await asyncio.sleep(1.0)

    async def _heartbeats(self) -> None:
        while True:
            await asyncio.sleep(min(1.0, self._heartbeat))
            self.wake_for_heartbeats(time.monotonic())

    def wake_for_heartbeats(self, now: float) -> int:
        """Wakes the streams whose heartbeat is due at ``now`` (monotonic seconds); their
        next one is due ``heartbeat_seconds`` later. How many were woken.

        Waking every stream at once, as the timer did, wrote to all of them in one turn: in
        the arrival bench (20,000 fans at 1,000/s) the first heartbeat, 15 s in, wrote to
        every stream each API process held, and joins answered in that second waited 1-2 s
        (p50 1.2 s) where they took 20-60 ms before (docs/waitroom.md).
        """
        woken = 0
        for group in list(self._listeners.values()):
            for listener in list(group):
                if listener.heartbeat_at <= now:
                    listener.heartbeat_at = now + self._heartbeat
                    listener.wake(heartbeat=True)
                    woken += 1
        return woken

    async def _refresh_stale(self) -> None:
        while True:
            await asyncio.sleep(min(1.0, self._stale_after))
            now = time.monotonic()
            stale = [
                show_id
                for show_id, seen in self._seen.items()
                if now - seen > self._stale_after
                and (show_id in self._listeners or now - self._asked.get(show_id, 0) < 60)
            ]
            for show_id in stale:
                try:
                    state = await self._store.state(show_id, int(time.time() * 1000))
                except Exception:
                    log.warning("waitroom.refresh_failed", show_id=show_id, exc_info=True)
                    continue
                self._seen[show_id] = now
                self.deliver(state)
