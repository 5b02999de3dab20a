"""The seat map, served from the board without touching the database once warm.

Per process it keeps each show's layout (seats never move once a show exists), the
show's prices for a few seconds, and the last board version it read. A request checks
the board's version at most every ``REFRESH_SECONDS`` (one Redis round trip) and re-reads
the marks only when the version moved; this process's own changes invalidate at once.
The rendered body (and its gzip) is cached per ETag, so a 70,000-seat map is rendered
once per change, not once per viewer. A show nobody asks about for ``IDLE_SECONDS`` is
forgotten, so a long-lived process holds only the shows on sale now.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Callable, Collection, Hashable
from dataclasses import dataclass, field

import orjson
import structlog
from redis.exceptions import RedisError
from sqlalchemy import select

from boxoffice.catalog.contracts import ShowNotFound
from boxoffice.platform import compression
from boxoffice.platform.singleflight import SingleFlight
from boxoffice.platform.uow import UnitOfWork
from boxoffice.seating.board import SeatBoard
from boxoffice.seating.domain import (
    AVAILABLE,
    BLOCKED,
    HELD,
    HELD_MARK,
    SOLD,
    SOLD_MARK,
    BoardView,
    Mark,
    epoch_ms,
    mark_status,
)
from boxoffice.seating.layout import Layout, SeatPlace
from boxoffice.seating.models import Seat, ShowInventory

log = structlog.get_logger("boxoffice.seating")
REFRESH_SECONDS = 0.2
# How long seats chosen for a best-available request are kept from the next ones.
CHOSEN_SECONDS = 2.0
LOAD_WAIT_SECONDS = 2.0
# A show nobody asked this process about for IDLE_SECONDS is forgotten (its layout, views,
# rendered map and choices), looked for at most every SWEEP_SECONDS: a process that serves
# shows for months keeps only those on sale now.
IDLE_SECONDS = 900.0
SWEEP_SECONDS = 60.0
_STATUS_BYTES = {s: s.encode() for s in ("available", "held", "sold")}


@dataclass
class _Cached:
    view: BoardView
    checked_at: float  # when the board's version was last compared (0: compare next time)
    current_at: float  # when the view was last known to be the board's current version
    # Where this view has no run of free seats to offer: (expired count, section, grade, size).
    no_run: set[tuple[int, str, str, int]] = field(default_factory=set)


@dataclass(frozen=True)
class RecentBoard:
    """A show's layout and a view of its board that was current a moment ago, with what
    :mod:`~boxoffice.seating.suggestions` learnt of it (where no run of seats is free)."""

    layout: Layout
    view: BoardView
    no_run: set[tuple[int, str, str, int]]


@dataclass
class FreeSeats:
    """A view of a show's board as a best-available choice reads it (``best_available.py``):
    the seats taken, how many in each row, and every run a request found when it found
    fewer than it looks for (so the requests that find a nearly full show after it do not
    scan all of it again). Made once per version of the view and count of lapsed holds."""

    stamp: tuple[int, int]
    taken: frozenset[str]
    taken_in_row: Counter[int]  # seats taken by row, numbered as Layout.row_numbers
    runs: dict[Hashable, list[list[str]]] = field(default_factory=dict)

    @classmethod
    def of(cls, layout: Layout, view: BoardView, now_ms: int) -> FreeSeats:
        """From the marks alone (a nearly empty show has few): O(marks), not O(seats)."""
        row_of = layout.row_numbers[0]
        taken = frozenset(
            seat_id
            for seat_id, mark in view.marks.items()
            if mark_status(mark, now_ms) != AVAILABLE and seat_id in row_of
        )
        rows = Counter(map(row_of.__getitem__, taken))
        return cls((view.version, view.expired_count(now_ms)), taken, rows)


@dataclass
class RecentChoices:
    """What this process knows of its best-available choices (``best_available.py``), per
    show: the seats it chose a moment ago, kept from its next choices for
    ``CHOSEN_SECONDS`` (by when its view of the board shows them held, or free again if
    that hold failed); and the free seats of its latest view."""

    shows: dict[str, dict[str, float]] = field(default_factory=dict)
    free: dict[str, FreeSeats] = field(default_factory=dict)

    def recent(self, show_id: str, now: float) -> set[str]:
        chosen = self.shows.get(show_id)
        if not chosen:
            return set()
        for seat_id in [s for s, until in chosen.items() if until <= now]:
            del chosen[seat_id]
        return set(chosen)

    def add(self, show_id: str, seat_ids: Collection[str], now: float) -> None:
        chosen = self.shows.setdefault(show_id, {})
        for seat_id in seat_ids:
            chosen[seat_id] = now + CHOSEN_SECONDS

    def forget(self, show_id: str) -> None:
        self.shows.pop(show_id, None)
        self.free.pop(show_id, None)

    def free_seats(self, layout: Layout, view: BoardView, now_ms: int) -> FreeSeats:
        known = self.free.get(layout.show_id)
        if known is None or known.stamp != (view.version, view.expired_count(now_ms)):
            known = self.free[layout.show_id] = FreeSeats.of(layout, view, now_ms)
        return known


@dataclass
class SeatMap:
    etag: str
    body: bytes
    gzipped: bytes | None = None


@dataclass
class SnapshotCache:
    """This process's view of every show's board (see the module docstring)."""

    board: SeatBoard
    new_uow: Callable[[], UnitOfWork]
    layouts: dict[str, Layout] = field(default_factory=dict)
    views: dict[str, _Cached] = field(default_factory=dict)
    rendered: dict[str, SeatMap] = field(default_factory=dict)
    loading: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    layout_reads: SingleFlight[str, Layout] = field(default_factory=SingleFlight)
    choices: RecentChoices = field(default_factory=RecentChoices)
    view_reads: SingleFlight[str, BoardView] = field(default_factory=SingleFlight)
    used: dict[str, float] = field(default_factory=dict)  # show id -> last asked (monotonic)
    swept_at: float = 0.0

    def touch(self, show_id: str, now: float) -> None:
        """The show was asked about; shows idle for ``IDLE_SECONDS`` are forgotten."""
        self.used[show_id] = now
        if now - self.swept_at >= SWEEP_SECONDS:
            self.forget_idle(now)

    def forget_idle(self, now: float) -> None:
        self.swept_at = now
        for show_id, used_at in list(self.used.items()):
            task = self.loading.get(show_id)
            if now - used_at <= IDLE_SECONDS or (task is not None and not task.done()):
                continue
            del self.used[show_id]
            for memo in (self.layouts, self.views, self.rendered, self.loading):
                memo.pop(show_id, None)
            self.choices.forget(show_id)

    async def layout(self, show_id: str) -> Layout:
        """The show's seats in map order (read once per process, in its own short
        transaction, since seats never move once a show exists). The first requests of a
        show arriving together share one read."""
        self.touch(show_id, time.monotonic())
        layout = self.layouts.get(show_id)
        if layout is not None:
            return layout
        return await self.layout_reads.do(show_id, lambda: self._read_layout(show_id))

    async def _read_layout(self, show_id: str) -> Layout:
        async with self.new_uow() as uow:
            event_id = await uow.session.scalar(
                select(ShowInventory.event_id).where(ShowInventory.show_id == show_id)
            )
            if event_id is None:
                raise ShowNotFound(f"Show {show_id} has no seats.")
            rows = await uow.session.execute(
                select(Seat.seat_id, Seat.section, Seat.row, Seat.number, Seat.grade)
                .where(Seat.show_id == show_id)
                .order_by(Seat.position)
            )
            seats = [SeatPlace(*row) for row in rows]
        layout = Layout(show_id, event_id, seats, {s.seat_id: s for s in seats})
        self.layouts[show_id] = layout
        return layout

    def invalidate(self, show_id: str) -> None:
        """This process changed the board: the next read checks its version."""
        cached = self.views.get(show_id)
        if cached is not None:
            cached.checked_at = 0.0

    def recent(self, show_id: str, within: float) -> RecentBoard | None:
        """The show's layout and the view of its board this process already has, when that
        view was the board's current one at most ``within`` seconds ago; no round trip."""
        layout, cached = self.layouts.get(show_id), self.views.get(show_id)
        if layout is None or cached is None or time.monotonic() - cached.current_at > within:
            return None
        return RecentBoard(layout, cached.view, cached.no_run)

    async def view(self, uow: UnitOfWork, show_id: str) -> BoardView:
        """The board as of at most ``REFRESH_SECONDS`` ago. A cold board is loaded from the
        database in the background (waited for briefly); meanwhile, and whenever the board
        cannot be reached, the database answers."""
        cached = self.views.get(show_id)
        now = time.monotonic()
        self.touch(show_id, now)
        if cached is not None and now - cached.checked_at < REFRESH_SECONDS:
            return cached.view
        try:
            version = await self.board.version(show_id)
            if cached is not None and version == cached.view.version:
                cached.checked_at = cached.current_at = now
                return cached.view
            if version is None:
                await self.load_in_background(show_id, wait=LOAD_WAIT_SECONDS)
            read = await self.board.read(show_id)
        except (RedisError, OSError) as error:
            log.warning("seat_board_unreachable", show_id=show_id, error=str(error))
            read = None
        if read is None:  # still cold, or unreachable: the database answers, uncached
            self.views.pop(show_id, None)
            return BoardView.build(-1, dict(await marks_from_database(uow, show_id)))
        view = BoardView.build(*read)
        self.views[show_id] = _Cached(view, now, now)
        return view

    async def recent_view(self, show_id: str, within: float) -> BoardView:
        """The view of the show's board this process has when it was current at most
        ``within`` seconds ago (no round trip); otherwise :meth:`view` in a read-only unit
        of its own, one at a time per show: the requests that find the view stale together
        share one read of the board instead of each reading all of it."""
        recent = self.recent(show_id, within)
        if recent is not None:
            return recent.view
        return await self.view_reads.do(show_id, lambda: self._view_alone(show_id))

    async def _view_alone(self, show_id: str) -> BoardView:
        async with self.new_uow() as uow:
            return await self.view(uow, show_id)

    async def load_in_background(self, show_id: str, *, wait: float = 0.0) -> None:
        """Load a cold board from the database: one load per process at a time, in its own
        short transaction, so no request waits for it while holding a connection (a
        request that must not wait passes ``wait=0`` and lets the database judge alone)."""
        task = self.loading.get(show_id)
        if task is None or task.done():
            task = asyncio.create_task(self._load(show_id), name=f"seating-load-{show_id}")
            self.loading[show_id] = task
        if wait > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(task), wait)

    async def close(self) -> None:
        """Stop loads still running (process shutdown)."""
        tasks = [t for t in self.loading.values() if not t.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.loading.clear()
        await self.layout_reads.close()
        await self.view_reads.close()

    async def _load(self, show_id: str) -> None:
        try:
            if await self.board.version(show_id) is not None:
                return
            async with self.new_uow() as uow:
                marks = await marks_from_database(uow, show_id)
            await self.board.load(show_id, marks)
        except Exception as error:  # the next request tries again
            log.warning("seat_board_load_failed", show_id=show_id, error=str(error))

    def render(
        self, layout: Layout, view: BoardView, prices: dict[str, int], etag: str, now_ms: int
    ) -> SeatMap:
        cached = self.rendered.get(layout.show_id)
        if cached is not None and cached.etag == etag:
            return cached
        fragments = layout.fragments(prices)
        parts = [
            fragment + _STATUS_BYTES[view.status_of(seat.seat_id, now_ms)] + b'"}'
            for fragment, seat in zip(fragments, layout.seats, strict=True)
        ]
        body = b'{"show_id":' + orjson.dumps(layout.show_id) + b',"seats":['
        body += b",".join(parts) + b"]}"
        seat_map = SeatMap(etag, body)
        self.rendered[layout.show_id] = seat_map
        return seat_map

    @staticmethod
    def gzip(seat_map: SeatMap) -> bytes:
        if seat_map.gzipped is None:
            seat_map.gzipped = compression.compress(seat_map.body)
        return seat_map.gzipped


BOX_OFFICE = "box-office"  # the board's owner of blocked seats


async def marks_from_database(uow: UnitOfWork, show_id: str) -> list[tuple[str, Mark]]:
    """The board as the database has it: held seats (with their expiry) and sold ones."""
    rows = await uow.session.execute(
        select(Seat.seat_id, Seat.status, Seat.hold_id, Seat.hold_expires_at, Seat.order_id).where(
            Seat.show_id == show_id, Seat.status.in_((HELD, SOLD, BLOCKED))
        )
    )
    marks = []
    for seat_id, status, hold_id, expires_at, order_id in rows:
        if status == SOLD:
            marks.append((seat_id, Mark(SOLD_MARK, hold_id or order_id or "", 0)))
        elif status == BLOCKED:  # a box-office seat shows as taken (docs/selling.md)
            marks.append((seat_id, Mark(SOLD_MARK, BOX_OFFICE, 0)))
        elif expires_at is not None:
            marks.append((seat_id, Mark(HELD_MARK, hold_id or "", epoch_ms(expires_at))))
    return marks
