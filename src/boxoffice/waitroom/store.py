"""The queue store port and its in-memory adapter (the embedded run, one process).

A show's queue is a counter of issued numbers, a *serving* number (the highest number
admitted), the entries, and the set of admitted people still active. Every operation
that changes several of these does so atomically: here because no operation awaits
half-way, in Redis because each is one Lua script.
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from boxoffice.waitroom.domain import (
    LINE_SAMPLES,
    STORED_ADMITTED,
    STORED_LEFT,
    STORED_WAITING,
    AdmitResult,
    Entry,
    EntryLeft,
    LineSample,
    ServingState,
)

Deliver = Callable[[ServingState | EntryLeft], None]
Resync = Callable[[], None]  # updates may have been missed: read every watched show again

# Entries scanned per tick past those admitted (people who left are skipped, not admitted).
SCAN_SLACK = 10_000


class OpeningNeeded(Exception):
    """The sale opened but the pre-queue has not been numbered yet; open it, then retry."""


@dataclass(frozen=True)
class JoinLimits:
    """Joins allowed per user and per client address within one show's queue, counted in
    the join itself (one atomic step, one Redis call): a sliding window of ``window_ms``
    estimated from two fixed windows, as Cloudflare's and NGINX's limiters do."""

    address: str
    per_user: int
    per_address: int
    window_ms: int = 60_000


class JoinLimited(Exception):
    """Too many joins by this user (``by == "user"``) or from this address."""

    def __init__(self, by: str, retry_after_ms: int) -> None:
        super().__init__(by)
        self.by = by
        self.retry_after_ms = retry_after_ms


def window_estimate(previous: int, current: int, now_ms: int, window_ms: int) -> float:
    """Events in the sliding window ending now: all of this fixed window's, plus the
    previous window's weighted by how much of it the sliding window still covers."""
    elapsed = now_ms % window_ms
    return previous * (1 - elapsed / window_ms) + current


@dataclass(frozen=True, slots=True)
class Joining:
    """One join as an adapter takes it (see ``QueueStore.join``)."""

    show_id: str
    user_id: str
    entry_id: str
    now_ms: int
    pre_queue: bool
    limits: JoinLimits | None


@dataclass(frozen=True, slots=True)
class Admitting:
    """One tick's admission as an adapter takes it (see ``QueueStore.admit``)."""

    show_id: str
    now_ms: int
    rate: float
    max_active: int
    ttl_ms: int
    burst_ms: int


class QueueStore(Protocol):
    """The queues' port. Its adapters subclass it: ``join`` and ``admit`` state their
    arguments here once and hand them to the adapter's ``enter`` and ``admit_next`` as one
    ``Joining`` and one ``Admitting``."""

    def join(
        self,
        show_id: str,
        user_id: str,
        *,
        entry_id: str,
        now_ms: int,
        pre_queue: bool,
        limits: JoinLimits | None = None,
    ) -> Awaitable[tuple[Entry, bool]]:
        """The user's live entry (False) or a new one (True). Raises OpeningNeeded, and
        JoinLimited (counting nothing further) when ``limits`` are exceeded."""
        return self.enter(Joining(show_id, user_id, entry_id, now_ms, pre_queue, limits))

    async def enter(self, joining: Joining) -> tuple[Entry, bool]: ...
    async def get(self, show_id: str, entry_id: str) -> Entry | None: ...
    async def leave(self, show_id: str, entry_id: str) -> Entry | None: ...
    async def pre_queue(self, show_id: str) -> list[str]: ...
    async def open(self, show_id: str, order: Sequence[str]) -> int:
        """Number the pre-queue in ``order`` (then any latecomers); 0 when already open."""
        ...

    async def is_open(self, show_id: str) -> bool: ...
    def admit(
        self,
        show_id: str,
        *,
        now_ms: int,
        rate: float,
        max_active: int,
        ttl_ms: int,
        burst_ms: int,
    ) -> Awaitable[AdmitResult]:
        """Admit the next waiting numbers: rate x elapsed, bounded by max_active."""
        return self.admit_next(Admitting(show_id, now_ms, rate, max_active, ttl_ms, burst_ms))

    async def admit_next(self, admitting: Admitting) -> AdmitResult: ...

    async def finish(self, show_id: str, user_id: str) -> None: ...
    async def state(self, show_id: str, now_ms: int) -> ServingState: ...
    async def publish(self, state: ServingState) -> None: ...
    async def record_line(self, show_id: str, sample: LineSample) -> None:
        """Keep ``sample`` in the show's line history (the last ``LINE_SAMPLES``)."""
        ...

    async def line_history(self, show_id: str) -> list[LineSample]:
        """The show's line history, oldest first; kept after the sale (a day on Redis)."""
        ...

    async def announce_left(self, left: EntryLeft) -> None:
        """Tell every process watching the show that this entry was given up."""
        ...

    async def shows(self) -> list[str]: ...
    async def forget(self, show_id: str) -> None: ...
    async def watch(self, show_id: str) -> None:
        """Deliver this show's serving updates to :meth:`listen` from now on."""
        ...

    async def listen(self, deliver: Deliver, resync: Resync | None = None) -> None:
        """Run forever, calling ``deliver`` for each published serving state watched, and
        ``resync`` after a gap in which updates may have been lost (a reconnect)."""
        ...

    async def ping(self) -> bool: ...
    async def close(self) -> None: ...


def admit_budget(
    *, carry: float, rate: float, elapsed_ms: int, burst_ms: int, active: int, max_active: int
) -> tuple[int, float]:
    """How many to admit now, and the fractional allowance carried to the next tick.

    Allowance accrues at ``rate`` per second for the time since the last tick (capped at
    ``burst_ms`` so a pause does not turn into a stampede); ``max_active`` caps the people
    admitted and still active. Unused whole admits are dropped, only the fraction carries.
    """
    elapsed = min(max(elapsed_ms, 0), burst_ms)
    allowance = carry + rate * elapsed / 1000.0
    budget = min(math.floor(allowance), max(max_active - active, 0))
    return budget, allowance - math.floor(allowance)


@dataclass
class _Show:
    issued: int = 0
    serving: int = 0
    last_ms: int | None = None
    carry: float = 0.0
    opened: bool = False
    rate: float = 0.0
    sold_out: bool = False
    entries: dict[str, Entry] = field(default_factory=dict)
    users: dict[str, str] = field(default_factory=dict)
    numbers: dict[int, str] = field(default_factory=dict)
    active: dict[str, int] = field(default_factory=dict)  # user id -> admitted until (ms)
    pre: dict[str, None] = field(default_factory=dict)  # entry ids in join order
    joins: dict[tuple[str, str, int], int] = field(default_factory=dict)  # (kind, who, window)
    joins_window: int = 0


def _count_join(show: _Show, limits: JoinLimits, user_id: str, now_ms: int) -> None:
    window = now_ms // limits.window_ms
    if window != show.joins_window:  # older windows no longer count
        show.joins = {key: n for key, n in show.joins.items() if key[2] >= window - 1}
        show.joins_window = window
    for kind, who, limit in (
        ("user", user_id, limits.per_user),
        ("address", limits.address, limits.per_address),
    ):
        previous = show.joins.get((kind, who, window - 1), 0)
        current = show.joins.get((kind, who, window), 0)
        if window_estimate(previous, current, now_ms, limits.window_ms) >= limit:
            raise JoinLimited(kind, (window + 1) * limits.window_ms - now_ms)
        show.joins[(kind, who, window)] = current + 1


class MemoryQueueStore(QueueStore):
    """One process's queues; what ``boxoffice run`` uses without Redis."""

    def __init__(self) -> None:
        self._shows: dict[str, _Show] = {}
        self._watched: set[str] = set()
        self._updates: asyncio.Queue[ServingState | EntryLeft] = asyncio.Queue()
        self._lines: dict[str, deque[LineSample]] = {}  # outlives forget(): a closed sale's chart

    def _show(self, show_id: str) -> _Show:
        return self._shows.setdefault(show_id, _Show())

    async def enter(self, joining: Joining) -> tuple[Entry, bool]:
        show_id, user_id, entry_id = joining.show_id, joining.user_id, joining.entry_id
        show = self._show(show_id)
        if joining.limits is not None:
            _count_join(show, joining.limits, user_id, joining.now_ms)
        existing = show.users.get(user_id)
        if existing is not None and show.entries[existing].stored_status != STORED_LEFT:
            return show.entries[existing], False
        if not show.opened and not joining.pre_queue:
            if show.pre:
                raise OpeningNeeded(show_id)
            show.opened = True
        number: int | None = None
        if show.opened:
            show.issued += 1
            number = show.issued
            show.numbers[number] = entry_id
        else:
            show.pre[entry_id] = None
        entry = Entry(entry_id, show_id, user_id, number, joining.now_ms, STORED_WAITING)
        show.entries[entry_id] = entry
        show.users[user_id] = entry_id
        return entry, True

    async def get(self, show_id: str, entry_id: str) -> Entry | None:
        show = self._shows.get(show_id)
        return show.entries.get(entry_id) if show else None

    async def leave(self, show_id: str, entry_id: str) -> Entry | None:
        show = self._shows.get(show_id)
        entry = show.entries.get(entry_id) if show else None
        if show is None or entry is None:
            return None
        if entry.stored_status != STORED_LEFT:
            entry = replace(entry, stored_status=STORED_LEFT)
            show.entries[entry_id] = entry
            show.pre.pop(entry_id, None)
            if show.users.get(entry.user_id) == entry_id:
                show.active.pop(entry.user_id, None)
        return entry

    async def pre_queue(self, show_id: str) -> list[str]:
        show = self._shows.get(show_id)
        return list(show.pre) if show else []

    async def open(self, show_id: str, order: Sequence[str]) -> int:
        show = self._show(show_id)
        if show.opened:
            return 0
        numbered = 0
        for entry_id in [*order, *show.pre]:
            if show.pre.pop(entry_id, False) is None:
                show.issued += 1
                show.numbers[show.issued] = entry_id
                show.entries[entry_id] = replace(show.entries[entry_id], number=show.issued)
                numbered += 1
        show.opened = True
        return numbered

    async def is_open(self, show_id: str) -> bool:
        show = self._shows.get(show_id)
        return show is not None and show.opened

    async def admit_next(self, admitting: Admitting) -> AdmitResult:
        now_ms = admitting.now_ms
        show = self._show(admitting.show_id)
        for user_id, until in list(show.active.items()):
            if until <= now_ms:
                del show.active[user_id]
        last = show.last_ms if show.last_ms is not None else now_ms
        budget, show.carry = admit_budget(
            carry=show.carry,
            rate=admitting.rate,
            elapsed_ms=now_ms - last,
            burst_ms=admitting.burst_ms,
            active=len(show.active),
            max_active=admitting.max_active,
        )
        show.last_ms = now_ms
        admitted: list[str] = []
        scan_limit = show.serving + budget + SCAN_SLACK
        while len(admitted) < budget and show.serving < min(show.issued, scan_limit):
            show.serving += 1
            entry_id = show.numbers.get(show.serving)
            entry = show.entries.get(entry_id) if entry_id else None
            if entry is None or entry.stored_status != STORED_WAITING:
                continue
            until = now_ms + admitting.ttl_ms
            show.entries[entry.entry_id] = replace(
                entry, stored_status=STORED_ADMITTED, admitted_until_ms=until
            )
            show.active[entry.user_id] = until
            admitted.append(entry.entry_id)
        return AdmitResult(show.serving, show.issued, len(show.active), tuple(admitted))

    async def finish(self, show_id: str, user_id: str) -> None:
        show = self._shows.get(show_id)
        if show is not None:
            show.active.pop(user_id, None)

    async def state(self, show_id: str, now_ms: int) -> ServingState:
        show = self._show(show_id)
        return ServingState(
            show_id, show.serving, show.issued, show.rate, now_ms, sold_out=show.sold_out
        )

    async def publish(self, state: ServingState) -> None:
        show = self._show(state.show_id)
        show.rate, show.sold_out = state.rate, state.sold_out
        if state.show_id in self._watched:
            self._updates.put_nowait(state)

    async def record_line(self, show_id: str, sample: LineSample) -> None:
        self._lines.setdefault(show_id, deque(maxlen=LINE_SAMPLES)).append(sample)

    async def line_history(self, show_id: str) -> list[LineSample]:
        return list(self._lines.get(show_id, ()))

    async def announce_left(self, left: EntryLeft) -> None:
        if left.show_id in self._watched:
            self._updates.put_nowait(left)

    async def shows(self) -> list[str]:
        return [
            show_id
            for show_id, show in self._shows.items()
            if show.serving < show.issued or show.active or show.pre
        ]

    async def forget(self, show_id: str) -> None:
        """Drop the show's queue: its sale is over, so nobody joins or is admitted again."""
        self._shows.pop(show_id, None)

    async def watch(self, show_id: str) -> None:
        self._watched.add(show_id)

    async def listen(self, deliver: Deliver, resync: Resync | None = None) -> None:
        while True:
            deliver(await self._updates.get())

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        self._shows.clear()
