"""The dispatcher: advances every open show's serving number at its admit rate.

Each tick, for each show with people queued whose sale is open and queue enabled, one
atomic store call admits up to ``admit_per_second`` x elapsed (the elapsed time is kept
in the store, so two dispatchers overlapping for a moment cannot double the rate),
bounded by ``max_active``; then the new serving number and the measured rate are
published to every API process. Shows are ticked concurrently. A leader lease makes
one dispatcher the active one; the others stand by and take over when it stops renewing.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections import deque
from datetime import datetime

import structlog

from boxoffice.catalog.contracts import ShowSaleInfo
from boxoffice.platform.clock import Clock
from boxoffice.platform.config import WaitroomSettings
from boxoffice.platform.kv import KeyValueStore
from boxoffice.platform.lease import LeaseStore
from boxoffice.platform.pressure import read_pressure
from boxoffice.waitroom.contracts import SeatsLeft
from boxoffice.waitroom.domain import LINE_SAMPLE_MS, AdmitResult, LineSample, ServingState
from boxoffice.waitroom.flow import Flow
from boxoffice.waitroom.shows import SaleInfoLoader
from boxoffice.waitroom.store import QueueStore

log = structlog.get_logger("boxoffice.waitroom.dispatcher")
LEASE_NAME = "waitroom-dispatcher"


def now_ms(clock: Clock) -> int:
    return int(clock.now().timestamp() * 1000)


async def open_pre_queue(store: QueueStore, show_id: str) -> int:
    """Number the pre-queue in a random order (fair to everyone who came early)."""
    order = await store.pre_queue(show_id)
    secrets.SystemRandom().shuffle(order)
    return await store.open(show_id, order)


class AdmitRate:
    """Admits per second over a sliding window of ticks: what eta_seconds is based on."""

    def __init__(self, window_ms: int) -> None:
        self._window_ms = window_ms
        self._ticks: deque[tuple[int, int]] = deque()

    def record(self, at_ms: int, admitted: int) -> float:
        self._ticks.append((at_ms, admitted))
        while self._ticks and self._ticks[0][0] <= at_ms - self._window_ms:
            self._ticks.popleft()
        if len(self._ticks) < 2:
            return 0.0
        span_ms = at_ms - self._ticks[0][0]
        # The oldest tick only marks where the window starts; its admits happened before.
        admitted_in_span = sum(count for _, count in list(self._ticks)[1:])
        return admitted_in_span * 1000.0 / span_ms if span_ms > 0 else 0.0


def queue_finished(info: ShowSaleInfo | None, moment: datetime) -> bool:
    """Nobody will be admitted to this show's queue any more: its data can go."""
    return (
        info is None
        or not info.queue.enabled
        or moment >= info.sale_closes_at
        or "cancelled" in (info.event_status, info.show_status)
    )


class Dispatcher:
    def __init__(
        self,
        store: QueueStore,
        sale_info: SaleInfoLoader,
        settings: WaitroomSettings,
        clock: Clock,
        seats_left: SeatsLeft | None = None,
        pressure: KeyValueStore | None = None,
    ) -> None:
        self.store = store
        self.sale_info = sale_info
        self.seats_left = seats_left
        self.settings = settings
        self.clock = clock
        # Where the checkout's pressure is counted (platform/pressure.py); None: no flow
        # control, every show admitted at its full rate.
        self.pressure = pressure if settings.flow_control else None
        self.flow = Flow(settings)
        self._rates: dict[str, AdmitRate] = {}
        self._opened: set[str] = set()
        self._sampled: dict[str, int] = {}  # show -> when its line was last sampled (ms)
        self.ticks = 0

    async def tick(self, at: datetime | None = None) -> dict[str, AdmitResult]:
        """Admit in every show that can; returns what each admitted show did this tick."""
        moment = at or self.clock.now()
        shows = await self.store.shows()
        share = await self._share(moment) if shows else self.flow.share
        outcomes = await asyncio.gather(
            *(self._tick_show(show_id, moment, share) for show_id in shows),
            return_exceptions=True,
        )
        self.ticks += 1
        results: dict[str, AdmitResult] = {}
        for show_id, outcome in zip(shows, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                log.warning("waitroom.tick_failed", show_id=show_id, error=repr(outcome))
            elif outcome is not None:
                results[show_id] = outcome
        return results

    async def _share(self, moment: datetime) -> float:
        """The share of every show's rate to admit at: judged once a second (flow.py)."""
        if self.pressure is None:
            return 1.0
        second = self.flow.due(int(moment.timestamp()))
        if second is None:
            return self.flow.share
        try:
            pressure = await read_pressure(self.pressure, [second])
        except Exception:  # unknown pressure: keep the share as it is
            log.warning("waitroom.pressure_unread", exc_info=True)
            return self.flow.share
        before = self.flow.share
        share = self.flow.judge(second, pressure)
        if share != before:
            log.info(
                "waitroom.flow",
                share=round(share, 3),
                served=pressure.served,
                strained=pressure.strained,
            )
        return share

    async def _tick_show(self, show_id: str, moment: datetime, share: float) -> AdmitResult | None:
        info = await self.sale_info(show_id)
        if info is None or queue_finished(info, moment):
            await self.store.forget(show_id)  # nobody will be admitted here any more
            self._rates.pop(show_id, None)
            self._sampled.pop(show_id, None)
            return None
        if not info.sale_open_at(moment):
            return None
        if show_id not in self._opened:
            if not await self.store.is_open(show_id):
                await open_pre_queue(self.store, show_id)
            self._opened.add(show_id)
        at_ms = int(moment.timestamp() * 1000)
        left = await self.seats_left(show_id) if self.seats_left is not None else None
        if left is not None:
            state = await self.store.state(show_id, at_ms)
            # Once the line was told the show sold out, a seat given back later reopens
            # nothing; with no seat available, admitting would only send people to an
            # empty map (held seats may come back: admitting resumes then).
            sold_out = state.sold_out or left == (0, 0)
            if sold_out or left[0] == 0:
                await self._publish(show_id, state.serving, state.issued, 0, at_ms, sold_out)
                return AdmitResult(state.serving, state.issued, -1, ())
        if info.queue.paused:  # the seller stopped admitting: the line keeps its order
            state = await self.store.state(show_id, at_ms)
            await self._publish(show_id, state.serving, state.issued, 0, at_ms)
            return AdmitResult(state.serving, state.issued, -1, ())
        result = await self.store.admit(
            show_id,
            now_ms=at_ms,
            rate=info.queue.admit_per_second * share,
            max_active=max(1, round(info.queue.max_active * share)),  # flow.py
            ttl_ms=self.settings.admission_ttl_seconds * 1000,
            # A dispatcher that paused (or a standby taking over) admits one second's worth.
            burst_ms=max(1000, int(self.settings.tick_seconds * 2000)),
        )
        await self._publish(show_id, result.serving, result.issued, len(result.admitted), at_ms)
        return result

    async def _publish(
        self,
        show_id: str,
        serving: int,
        issued: int,
        admitted: int,
        at_ms: int,
        sold_out: bool = False,
    ) -> None:
        """Tell every API process where the show stands (and the admit rate measured)."""
        rate = self._rates.setdefault(
            show_id, AdmitRate(int(self.settings.rate_window_seconds * 1000))
        ).record(at_ms, admitted)
        await self.store.publish(
            ServingState(show_id, serving, issued, round(rate, 3), at_ms, sold_out=sold_out)
        )
        if at_ms - self._sampled.get(show_id, -LINE_SAMPLE_MS) >= LINE_SAMPLE_MS:
            self._sampled[show_id] = at_ms
            await self.store.record_line(
                show_id, LineSample(at_ms, max(0, issued - serving), serving)
            )

    async def run(self, leases: LeaseStore, holder: str, stop: asyncio.Event) -> None:
        """Tick while holding the lease; stand by otherwise. Returns when ``stop`` is set."""
        leading = False
        while not stop.is_set():
            try:
                held = await leases.acquire(LEASE_NAME, holder, self.settings.lease_seconds)
                if held != leading:
                    log.info("waitroom.dispatcher_lease", holder=holder, leading=held)
                    leading = held
                if held:
                    await self.tick()
            except Exception:
                log.warning("waitroom.dispatcher_failed", exc_info=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.settings.tick_seconds)
        if leading:
            with contextlib.suppress(Exception):
                await leases.release(LEASE_NAME, holder)
