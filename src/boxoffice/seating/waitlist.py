"""The sold-out waitlist and the re-release of seats that come back (``docs/selling.md``).

Fans join a sold-out show's waitlist (a grade, or any seat). When a seat comes back — a
hold lapses, an order is cancelled or refunded — :func:`offer_returned_seats` holds it for
the earliest waiting fan it fits (``waitlist_rules.offers``) for ``OFFER_MINUTES``, and
records ``WaitlistSeatOffered`` (notifications e-mails the fan). The fan confirms by
placing an order from that hold and paying, as for any hold. One offer run per show at a
time (the show's inventory row is locked), so the line's order is kept and no seat is
offered twice; the seat's claim is the same conditional UPDATE every hold uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from boxoffice.catalog.contracts import SaleNotOpen, ShowNotFound, ShowSaleInfo
from boxoffice.platform.errors import NotFound
from boxoffice.platform.ids import new_id
from boxoffice.platform.kv import KeyValueStore, key
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Principal
from boxoffice.platform.uow import UnitOfWork
from boxoffice.seating import claims
from boxoffice.seating.adapters import seating_of
from boxoffice.seating.contracts import HeldSeat
from boxoffice.seating.domain import AVAILABLE, HELD
from boxoffice.seating.errors import SeatsStillAvailable, WaitlistEntryNotFound
from boxoffice.seating.events import SeatsHeld, WaitlistSeatOffered
from boxoffice.seating.holds import board_held
from boxoffice.seating.lifecycle import HoldStatus, encode_seats
from boxoffice.seating.models import Hold, Seat, ShowInventory, WaitlistEntry
from boxoffice.seating.waitlist_rules import (
    EntryStatus,
    FreeSeat,
    Offer,
    Waiting,
    after_offer,
    offers,
)

OFFER_MINUTES = 10
VERSION_SECONDS = 24 * 3600  # an entry's change counter outlives any offer window
_LIVE = (EntryStatus.WAITING.value, EntryStatus.OFFERED.value)


@dataclass(frozen=True)
class EntryView:
    id: str
    show_id: str
    grade: str | None
    status: str
    joined_at: datetime
    position: int | None  # 1 = next in line; None once no longer waiting
    hold_id: str | None
    offer_expires_at: datetime | None


def version_key(kv: KeyValueStore, entry_id: str) -> str:
    return key(kv, "waitlist", "entry", entry_id, "v")


def changed(uow: UnitOfWork, runtime: Runtime, entry_id: str) -> None:
    """After the unit of work commits, the entry's open streams read it again
    (``waitlist_stream``)."""
    kv = runtime.kv

    async def bump() -> None:
        counter = version_key(kv, entry_id)
        await kv.incr(counter)
        await kv.expire(counter, VERSION_SECONDS)

    uow.on_commit(bump)


async def join(
    runtime: Runtime, info: ShowSaleInfo, user: Principal, grade: str | None
) -> tuple[EntryView, bool]:
    """Put ``user`` on the show's waitlist (True when new). Already on it: the same entry.
    Raises ``SeatsStillAvailable`` (409) while a seat is free, ``NotFound`` for an
    unknown grade. A fan whose offer lapsed or who left joins again at the back."""
    if grade is not None and grade not in info.grade_prices:
        raise NotFound(f"The show has no grade {grade!r}.")
    async with runtime.uow() as uow:
        now = uow.clock.now()
        if await _free_seat_count(uow, info.show_id, now, grade) > 0:
            raise SeatsStillAvailable("Seats are still available: hold one instead.")
        entry = await uow.session.scalar(
            select(WaitlistEntry).where(
                WaitlistEntry.show_id == info.show_id, WaitlistEntry.user_id == user.id
            )
        )
        created = entry is None
        if entry is None:
            entry = WaitlistEntry(id=new_id(), show_id=info.show_id, user_id=user.id)
            uow.session.add(entry)
        elif entry.status in _LIVE:
            return await _view(uow, entry), False
        entry.grade, entry.status, entry.joined_at = grade, EntryStatus.WAITING.value, now
        entry.hold_id = entry.offered_at = entry.offer_expires_at = None
        changed(uow, runtime, entry.id)
        try:
            await uow.commit()
        except IntegrityError:  # the same fan joined twice at once: the other one won
            return await entry_of(runtime, info.show_id, user), False
    async with runtime.uow(read_only=True) as uow:
        return await _view(uow, entry), created


async def entry_of(runtime: Runtime, show_id: str, user: Principal) -> EntryView:
    async with runtime.uow(read_only=True) as uow:
        entry = await uow.session.scalar(
            select(WaitlistEntry).where(
                WaitlistEntry.show_id == show_id, WaitlistEntry.user_id == user.id
            )
        )
        if entry is None:
            raise WaitlistEntryNotFound()
        return await _view(uow, entry)


async def get(runtime: Runtime, entry_id: str, user: Principal) -> EntryView:
    """The entry, for its fan or an admin (anyone else: 404)."""
    async with runtime.uow(read_only=True) as uow:
        return await _view(uow, await _visible(uow, entry_id, user))


async def leave(runtime: Runtime, entry_id: str, user: Principal) -> None:
    """Give the place up (idempotent). An offer already made stays held until it lapses."""
    async with runtime.uow() as uow:
        entry = await _visible(uow, entry_id, user)
        if entry.status == EntryStatus.WAITING.value:
            entry.status = EntryStatus.LEFT.value
            changed(uow, runtime, entry.id)
            await uow.commit()


async def _visible(uow: UnitOfWork, entry_id: str, user: Principal) -> WaitlistEntry:
    missing = WaitlistEntryNotFound(f"Waitlist entry {entry_id} not found.")
    return await uow.get_for(WaitlistEntry, entry_id, user, missing)


async def _view(uow: UnitOfWork, entry: WaitlistEntry) -> EntryView:
    position = None
    if entry.status == EntryStatus.WAITING.value:
        ahead = select(func.count()).where(
            WaitlistEntry.show_id == entry.show_id,
            WaitlistEntry.status == EntryStatus.WAITING.value,
            or_(
                WaitlistEntry.joined_at < entry.joined_at,
                and_(WaitlistEntry.joined_at == entry.joined_at, WaitlistEntry.id < entry.id),
            ),
        )
        position = int(await uow.session.scalar(ahead) or 0) + 1
    return EntryView(
        entry.id,
        entry.show_id,
        entry.grade,
        entry.status,
        entry.joined_at,
        position,
        entry.hold_id,
        entry.offer_expires_at,
    )


def _free_at(now: datetime) -> Any:
    return or_(Seat.status == AVAILABLE, and_(Seat.status == HELD, Seat.hold_expires_at <= now))


async def _free_seat_count(uow: UnitOfWork, show_id: str, now: datetime, grade: str | None) -> int:
    query = select(func.count()).where(Seat.show_id == show_id, _free_at(now))
    if grade is not None:
        query = query.where(Seat.grade == grade)
    return int(await uow.session.scalar(query) or 0)


# --- offering seats that came back ------------------------------------------------------------


async def offer_returned_seats(runtime: Runtime, info: ShowSaleInfo, *, batch: int = 500) -> int:
    """Offer the show's free seats to its waitlist, in join order. Commits. Returns how
    many seats it offered. Safe to run in several processes at once."""
    async with runtime.uow() as uow:
        await uow.session.execute(
            select(ShowInventory.show_id)
            .where(ShowInventory.show_id == info.show_id)
            .with_for_update()
        )
        now = uow.clock.now()
        await _settle_offers(uow, runtime, info.show_id, now)
        waiting = await _waiting(uow, info.show_id, batch)
        made = 0
        if waiting:
            free = await _free_seats(uow, info.show_id, now, batch)
            for offer in offers([seat for seat, _ in free], waiting):
                place = dict(free)[offer.seat]
                made += await _offer(uow, runtime, info, offer, place, now)
        await uow.commit()
    return made


async def _settle_offers(uow: UnitOfWork, runtime: Runtime, show_id: str, now: datetime) -> None:
    """Offered entries whose hold was paid become ``bought``; lapsed or released, ``missed``."""
    rows = await uow.session.execute(
        select(WaitlistEntry.id, Hold.status, Hold.expires_at)
        .join(Hold, Hold.id == WaitlistEntry.hold_id)
        .where(
            WaitlistEntry.show_id == show_id,
            WaitlistEntry.status == EntryStatus.OFFERED.value,
        )
    )
    for entry_id, hold_status, expires_at in rows.all():
        status = after_offer(hold_status, expires_at, now)
        if status is not EntryStatus.OFFERED:
            await uow.session.execute(
                update(WaitlistEntry)
                .where(WaitlistEntry.id == entry_id)
                .values(status=status.value)
            )
            changed(uow, runtime, entry_id)


async def _waiting(uow: UnitOfWork, show_id: str, batch: int) -> list[Waiting]:
    rows = await uow.session.execute(
        select(
            WaitlistEntry.id, WaitlistEntry.user_id, WaitlistEntry.grade, WaitlistEntry.joined_at
        )
        .where(
            WaitlistEntry.show_id == show_id,
            WaitlistEntry.status == EntryStatus.WAITING.value,
        )
        .order_by(WaitlistEntry.joined_at, WaitlistEntry.id)
        .limit(batch)
    )
    return [Waiting(*row) for row in rows.all()]


async def _free_seats(
    uow: UnitOfWork, show_id: str, now: datetime, batch: int
) -> list[tuple[FreeSeat, tuple[str, str, str]]]:
    rows = await uow.session.execute(
        select(Seat.seat_id, Seat.grade, Seat.section, Seat.row, Seat.number)
        .where(Seat.show_id == show_id, _free_at(now))
        .order_by(Seat.position)
        .limit(batch)
    )
    return [(FreeSeat(r[0], r[1]), (r[2], r[3], r[4])) for r in rows.all()]


async def _mark_offered(
    uow: UnitOfWork, entry_id: str, hold_id: str, now: datetime, expires_at: datetime
) -> None:
    await uow.session.execute(
        update(WaitlistEntry)
        .where(WaitlistEntry.id == entry_id)
        .values(
            status=EntryStatus.OFFERED.value,
            hold_id=hold_id,
            offered_at=now,
            offer_expires_at=expires_at,
        )
    )


async def _offer(
    uow: UnitOfWork,
    runtime: Runtime,
    info: ShowSaleInfo,
    offer: Offer,
    place: tuple[str, str, str],
    now: datetime,
) -> int:
    """Hold the seat for the fan (the usual conditional claim); 0 when it was taken meanwhile."""
    hold_id, seat, fan = new_id(), offer.seat, offer.entry
    expires_at = now + timedelta(minutes=OFFER_MINUTES)
    claimed = await claims.claim(
        uow,
        show_id=info.show_id,
        seat_ids=[seat.seat_id],
        hold_id=hold_id,
        user_id=fan.user_id,
        expires_at=expires_at,
        now=now,
    )
    if claimed != 1:
        return 0
    price = info.grade_prices.get(seat.grade, 0)
    held = (HeldSeat(seat.seat_id, *place, seat.grade, price),)
    await claims.insert_hold(
        uow,
        {
            "id": hold_id,
            "show_id": info.show_id,
            "user_id": fan.user_id,
            "status": HoldStatus.ACTIVE.value,
            "seat_ids": f'["{seat.seat_id}"]',
            "seats": encode_seats(held),
            "amount": price,
            "currency": info.currency,
            "created_at": now,
            "expires_at": expires_at,
        },
    )
    await _mark_offered(uow, fan.entry_id, hold_id, now, expires_at)
    changed(uow, runtime, fan.entry_id)
    ids = [seat.seat_id]
    uow.record(SeatsHeld(hold_id=hold_id, show_id=info.show_id, user_id=fan.user_id, seat_ids=ids))
    uow.record(
        WaitlistSeatOffered(
            entry_id=fan.entry_id,
            hold_id=hold_id,
            show_id=info.show_id,
            user_id=fan.user_id,
            seat_id=seat.seat_id,
            amount=price,
            currency=info.currency,
            expires_at=expires_at.isoformat(),
        )
    )
    uow.on_commit(board_held(seating_of(runtime), info.show_id, ids, hold_id, expires_at))
    return 1


async def shows_with_waitlist(runtime: Runtime) -> list[str]:
    """Shows with someone waiting or an offer out (the sweeper offers their seats)."""
    async with runtime.uow(read_only=True) as uow:
        rows = await uow.session.scalars(
            select(WaitlistEntry.show_id).where(WaitlistEntry.status.in_(_LIVE)).distinct()
        )
        return list(rows)


def sale_info_or_404(info: ShowSaleInfo | None, show_id: str, now: datetime) -> ShowSaleInfo:
    if info is None or info.event_status == "draft":
        raise ShowNotFound(f"Show {show_id} not found.")
    if not info.sale_open_at(now):
        raise SaleNotOpen(
            "Tickets for this show are not on sale now.",
            sale_opens_at=info.sale_opens_at.isoformat(),
            sale_closes_at=info.sale_closes_at.isoformat(),
        )
    return info
