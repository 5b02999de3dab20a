"""A process keeps a show's layout, board view, rendered map and best-available choices
only while the show is asked about: a show idle for ``IDLE_SECONDS`` is forgotten."""

from __future__ import annotations

import asyncio

from boxoffice.platform.uow import UnitOfWork
from boxoffice.seating.board import MemoryBoard
from boxoffice.seating.layout import Layout, SeatPlace
from boxoffice.seating.snapshot import (
    IDLE_SECONDS,
    SWEEP_SECONDS,
    FreeSeats,
    SeatMap,
    SnapshotCache,
    _Cached,
)
from tests.support.seating import board_view


def _no_database() -> UnitOfWork:
    raise AssertionError("forgetting a show reads nothing")


def _remember(cache: SnapshotCache, show_id: str, now: float) -> None:
    seat = SeatPlace(f"{show_id}-A1", "floor", "A", "1", "R")
    layout = Layout(show_id, "event", [seat], {seat.seat_id: seat})
    view = board_view()
    cache.layouts[show_id] = layout
    cache.views[show_id] = _Cached(view, now, now)
    cache.rendered[show_id] = SeatMap("etag", b"{}")
    cache.choices.add(show_id, [seat.seat_id], now)
    cache.choices.free[show_id] = FreeSeats.of(layout, view, 0)
    cache.touch(show_id, now)


def _known(cache: SnapshotCache, show_id: str) -> list[bool]:
    return [
        show_id in memo
        for memo in (
            cache.used,
            cache.layouts,
            cache.views,
            cache.rendered,
            cache.choices.shows,
            cache.choices.free,
        )
    ]


def test_an_idle_show_is_forgotten_and_a_busy_one_kept() -> None:
    cache = SnapshotCache(MemoryBoard(), _no_database)
    _remember(cache, "quiet", 1_000.0)
    _remember(cache, "busy", 1_000.0)

    cache.touch("busy", 1_000.0 + IDLE_SECONDS + 1)

    assert _known(cache, "quiet") == [False] * 6
    assert _known(cache, "busy") == [True] * 6


def test_shows_are_looked_over_at_most_once_a_sweep() -> None:
    cache = SnapshotCache(MemoryBoard(), _no_database)
    _remember(cache, "quiet", 1_000.0)
    cache.swept_at = 1_000.0 + IDLE_SECONDS  # a sweep has just run

    cache.touch("other", 1_000.0 + IDLE_SECONDS + 1)
    assert _known(cache, "quiet") == [True] * 6

    cache.touch("other", 1_000.0 + IDLE_SECONDS + SWEEP_SECONDS)
    assert _known(cache, "quiet") == [False] * 6


async def test_a_show_whose_board_is_loading_is_kept_until_the_load_ends() -> None:
    cache = SnapshotCache(MemoryBoard(), _no_database)
    _remember(cache, "loading", 1_000.0)
    release = asyncio.Event()
    cache.loading["loading"] = asyncio.create_task(release.wait())

    cache.forget_idle(1_000.0 + IDLE_SECONDS + 1)
    assert _known(cache, "loading") == [True] * 6

    release.set()
    await cache.loading["loading"]
    cache.forget_idle(1_000.0 + IDLE_SECONDS + 2)
    assert _known(cache, "loading") == [False] * 6
    assert "loading" not in cache.loading
