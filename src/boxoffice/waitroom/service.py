"""waitroom's use cases: the only module other contexts may call.

The per-process adapters (queue store, serving board, sale-info cache) live in
``runtime.adapters`` (:class:`Waitroom`), built by :func:`startup` (or on first use).
"""

from __future__ import annotations

import asyncio
import math
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from boxoffice.catalog.contracts import SaleNotOpen, ShowSaleInfo
from boxoffice.platform.config import WaitroomSettings
from boxoffice.platform.errors import NotFound, RateLimited
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Principal
from boxoffice.waitroom import admission, streams
from boxoffice.waitroom.board import ServingBoard
from boxoffice.waitroom.contracts import Admission, SeatCount, SeatsLeft
from boxoffice.waitroom.dispatcher import Dispatcher, now_ms, open_pre_queue, queue_finished
from boxoffice.waitroom.domain import Entry, EntryLeft, Status, eta_seconds, position
from boxoffice.waitroom.errors import QueueNotUsed
from boxoffice.waitroom.redis_store import RedisQueueStore
from boxoffice.waitroom.schemas import QueueEntryRead
from boxoffice.waitroom.shows import (
    SaleInfoLoader,
    catalog_loader,
)
from boxoffice.waitroom.store import (
    JoinLimited,
    JoinLimits,
    MemoryQueueStore,
    OpeningNeeded,
    QueueStore,
)


@dataclass
class Waitroom:
    """This process's waiting-room adapters."""

    settings: WaitroomSettings
    store: QueueStore
    board: ServingBoard
    sale_info: SaleInfoLoader
    openings: dict[str, asyncio.Lock] = field(default_factory=dict)
    seats_left: SeatsLeft | None = None  # the dispatcher stops admitting with none left

    def dispatcher(self, runtime: Runtime) -> Dispatcher:
        return Dispatcher(
            self.store,
            self.sale_info,
            self.settings,
            runtime.clock,
            self.seats_left,
            pressure=runtime.kv,
        )


def build(
    runtime: Runtime,
    settings: WaitroomSettings | None = None,
    *,
    sale_info: SaleInfoLoader | None = None,
) -> Waitroom:
    """The adapters for this runtime: Redis when configured, memory otherwise."""
    settings = settings or runtime.settings.waitroom
    store: QueueStore = (
        RedisQueueStore(
            runtime.settings.redis_url,
            runtime.settings.redis_prefix,
            retention_ms=settings.retention_hours * 3_600_000,
            max_connections=settings.redis_max_connections,
        )
        if runtime.settings.redis_url
        else MemoryQueueStore()
    )
    board = ServingBoard(
        store,
        heartbeat_seconds=settings.heartbeat_seconds,
        stale_after_seconds=settings.stale_after_seconds,
    )
    loader = sale_info or catalog_loader(runtime, settings.sale_info_cache_seconds)
    # Seats are counted only for the real catalog: a test's own sale info has no seats.
    port = runtime.adapters.find(SeatCount) if sale_info is None else None
    seats = port.seats_left if port is not None else None
    return Waitroom(settings, store, board, loader, seats_left=seats)


def room(runtime: Runtime) -> Waitroom:
    """This process's waiting room; built on first use where startup did not run."""
    return runtime.adapters.ensure(Waitroom, lambda: build(runtime))


# --- contracts other contexts call -------------------------------------------------------


async def check_admission(
    runtime: Runtime, token: str | None, *, show_id: str, user_id: str
) -> Admission:
    """Verify an admission token for (show, user), still held (its holder did not leave the
    line); raises AdmissionRequired / AdmissionInvalid."""
    return await admission.check(runtime, token, show_id=show_id, user_id=user_id)


async def purge_closed_queues(runtime: Runtime) -> int:
    """Forget the queues of shows whose sale is over (a daily job; the dispatcher does the
    same as it ticks). Returns how many queues were removed."""
    waitroom = room(runtime)
    moment = runtime.clock.now()
    purged = 0
    for show_id in await waitroom.store.shows():
        if queue_finished(await waitroom.sale_info(show_id), moment):
            await waitroom.store.forget(show_id)
            purged += 1
    return purged


async def admission_finished(runtime: Runtime, *, show_id: str, user_id: str) -> None:
    """The admitted person is done (paid, released, expired): they stop counting as active.

    Idempotent; does nothing for someone who was never admitted (nor for a show that sells
    without a queue, where nobody is: no Redis call then).
    """
    waitroom = room(runtime)
    info = await waitroom.sale_info(show_id)
    if info is not None and not info.queue.enabled:
        return
    await waitroom.store.finish(show_id, user_id)


# --- the queue -----------------------------------------------------------------------------


def _show_of(entry_id: str) -> str:
    show_id, dot, _ = entry_id.rpartition(".")
    if not dot or not show_id:
        raise NotFound("No such queue entry.")
    return show_id


async def _sale_info(waitroom: Waitroom, show_id: str) -> ShowSaleInfo:
    info = await waitroom.sale_info(show_id)
    if info is None:
        raise NotFound("No such show.")
    return info


async def join(
    runtime: Runtime, user: Principal, show_id: str, client_address: str
) -> tuple[QueueEntryRead, bool]:
    """Take a place in the show's queue, or the place the user already has (created False).

    Raises ``SaleNotOpen`` before the sale (unless the pre-queue is open: early joiners get
    their numbers in a random order at opening), ``QueueNotUsed`` when the show sells
    without a queue, ``RateLimited`` for too many joins per user or per address.
    """
    waitroom = room(runtime)
    settings = waitroom.settings
    info = await _sale_info(waitroom, show_id)
    if not info.queue.enabled:
        raise QueueNotUsed("This show's sale needs no queue: hold seats directly.")
    now = runtime.clock.now()
    pre_queue = _in_pre_queue(info, now)
    if not pre_queue and not info.sale_open_at(now):
        raise SaleNotOpen("The sale is not open.", sale_opens_at=info.sale_opens_at.isoformat())
    if (await waitroom.board.serving(show_id, now_ms(runtime.clock))).sold_out:
        raise SaleNotOpen("The show is sold out.", sold_out=True)
    entry_id = f"{show_id}.{secrets.token_urlsafe(9)}"
    # Counted in the join's own store call (one Redis round trip, atomic with the join).
    limits = JoinLimits(
        client_address, settings.joins_per_user_per_minute, settings.joins_per_address_per_minute
    )
    try:
        entry, created = await waitroom.store.join(
            show_id,
            user.id,
            entry_id=entry_id,
            now_ms=now_ms(runtime.clock),
            pre_queue=pre_queue,
            limits=limits,
        )
    except JoinLimited as limited:
        raise RateLimited(
            _LIMITED[limited.by], retry_after=math.ceil(limited.retry_after_ms / 1000)
        ) from None
    except OpeningNeeded:  # the sale just opened and the dispatcher has not numbered yet
        # One opening per process at a time (the pre-queue may be long); the store's
        # opened flag makes a second opener, here or elsewhere, do nothing.
        opening = waitroom.openings.setdefault(show_id, asyncio.Lock())
        async with opening:
            if not await waitroom.store.is_open(show_id):
                await open_pre_queue(waitroom.store, show_id)
        if not opening.locked() and waitroom.openings.get(show_id) is opening:
            del waitroom.openings[show_id]  # a show opens once: no lock kept for months
        entry, created = await waitroom.store.join(  # counted once already, above
            show_id, user.id, entry_id=entry_id, now_ms=now_ms(runtime.clock), pre_queue=False
        )
    read = await _read(runtime, waitroom, entry, info)
    if read.status is Status.WAITING:
        waitroom.board.remember(entry)  # the first polls need no Redis read either
    return read, created


_LIMITED = {
    "user": "Too many queue joins; wait a little.",
    "address": "Too many queue joins from this address; wait a little.",
}


def _in_pre_queue(info: ShowSaleInfo, now: datetime) -> bool:
    minutes = info.queue.pre_queue_minutes
    return (
        minutes > 0
        and info.event_status == "published"
        and info.show_status == "scheduled"
        and info.sale_opens_at - timedelta(minutes=minutes) <= now < info.sale_opens_at
    )


async def _owned(runtime: Runtime, user: Principal, entry_id: str) -> tuple[Waitroom, Entry]:
    waitroom = room(runtime)
    entry = await waitroom.store.get(_show_of(entry_id), entry_id)
    if entry is None or entry.user_id != user.id:
        raise NotFound("No such queue entry.")  # someone else's entry is nobody's business
    return waitroom, entry


async def _owned_waiting(
    runtime: Runtime, user: Principal, entry_id: str
) -> tuple[Waitroom, Entry]:
    """As ``_owned``; a waiting entry this process has seen comes from memory, not Redis."""
    waitroom = room(runtime)
    entry = waitroom.board.recall(entry_id)
    if entry is None:
        return await _owned(runtime, user, entry_id)
    if entry.user_id != user.id:
        raise NotFound("No such queue entry.")
    return waitroom, entry


async def get_entry(runtime: Runtime, user: Principal, entry_id: str) -> QueueEntryRead:
    """The user's entry with its position from this process's serving number (no scan).

    A waiting entry this process has seen is answered from memory, without Redis.
    """
    waitroom, entry = await _owned_waiting(runtime, user, entry_id)
    read = await _read(runtime, waitroom, entry, await _sale_info(waitroom, entry.show_id))
    if read.status is Status.WAITING:
        waitroom.board.remember(entry)
    return read


async def leave(runtime: Runtime, user: Principal, entry_id: str) -> None:
    """Give the place up (an admitted person frees their active slot, and their admission
    tokens stop admitting, in every process). Idempotent."""
    waitroom, entry = await _owned(runtime, user, entry_id)
    # Ended before the slot is freed: the admission dies before anyone else is admitted.
    # Also for a waiting entry, which the dispatcher may be admitting at this moment.
    await admission.end(
        runtime, entry_id, lasts_seconds=waitroom.settings.admission_ttl_seconds + 60
    )
    await waitroom.store.leave(entry.show_id, entry_id)
    waitroom.board.entry_left(entry.show_id, entry_id)
    await waitroom.store.announce_left(EntryLeft(entry.show_id, entry_id))


async def open_stream(
    runtime: Runtime, user: Principal, entry_id: str, last_event_id: str | None
) -> AsyncIterator[str]:
    """The entry's Server-Sent Events; raises NotFound before the stream starts. A fan's
    stream usually opens just after the join: on the process that answered it, the entry
    needs no Redis read."""
    waitroom, entry = await _owned_waiting(runtime, user, entry_id)
    info = await _sale_info(waitroom, entry.show_id)
    return streams.entry_events(runtime, waitroom, entry, info, last_event_id)


async def _read(
    runtime: Runtime, waitroom: Waitroom, entry: Entry, info: ShowSaleInfo
) -> QueueEntryRead:
    at_ms = now_ms(runtime.clock)
    status = entry.status(at_ms)
    read = QueueEntryRead(
        entry_id=entry.entry_id,
        show_id=entry.show_id,
        number=entry.number,
        position=None,
        status=status,
        eta_seconds=None,
    )
    if status is Status.WAITING:
        state = await waitroom.board.serving(entry.show_id, at_ms)
        if state.sold_out:  # nobody waiting gets in any more
            read.status, read.sold_out = Status.EXPIRED, True
            return read
        read.position = position(entry.number, state.serving)
        read.eta_seconds = eta_seconds(read.position, state.rate, info.queue.admit_per_second)
    elif status is Status.ADMITTED:
        read.position, read.eta_seconds = 0, 0
        read.admission_token, read.admission_expires_at = admission.for_entry(runtime, entry)
    return read


# --- what a show's seller sees of its line ----------------------------------------------


@dataclass(frozen=True)
class QueueFigures:
    """A show's waiting line as this process knows it (the dispatcher's last word)."""

    waiting: int  # numbers handed out and not yet admitted
    admitted: int  # numbers admitted so far
    admit_rate: float  # measured admits per second
    sold_out: bool


async def line_history(runtime: Runtime, show_id: str) -> list[dict[str, int]]:
    """The show's waiting line over the sale, as the dispatcher sampled it every
    ``LINE_SAMPLE_MS`` (the last two hours): ``[{at_ms, waiting, admitted}]``, oldest first.
    For the console's chart; the caller checks who may see the show."""
    samples = await room(runtime).store.line_history(show_id)
    return [{"at_ms": s.at_ms, "waiting": s.waiting, "admitted": s.admitted} for s in samples]


async def queue_figures(runtime: Runtime, show_id: str) -> QueueFigures:
    """The line's length and pace, read from this process's serving board (subscribing to
    the show on first use): no Redis read per call once watched."""
    state = await room(runtime).board.serving(show_id, now_ms(runtime.clock))
    return QueueFigures(
        waiting=max(0, state.issued - state.serving),
        admitted=state.serving,
        admit_rate=state.rate,
        sold_out=state.sold_out,
    )
