"""Ticket transfers: a holder gives a ticket to another account, by e-mail.

The holder offers (``offer``); the receiver — the account with that e-mail, now or once
signed up — accepts or declines; the holder may cancel until then. Accepting voids the
old ticket (its code stops working at the door) and issues a new one, with a new code,
to the receiver, in one transaction; the transfer row stays as the ticket's record.

Rules: the ticket is valid (not used, not void); the event's seller allows transfers and
they are open (``transfer_cutoff_hours`` before the show, checked at the offer and again at
the acceptance); one pending transfer per ticket (the unique ``pending_key``, so two offers
at once cannot both be made); nobody transfers to themselves. A transfer moves no money —
there is no price on it, so no resale above (or at) face value happens through it.

Races: offers of one ticket race on the unique key; accept, decline and cancel lock the
transfer row and then the ticket row (always in that order), and check the state again
under the locks, so one of two concurrent answers wins and the other is told so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from boxoffice.catalog import service as catalog
from boxoffice.catalog.contracts import ShowSaleInfo
from boxoffice.identity import service as identity
from boxoffice.platform.db import record_of
from boxoffice.platform.ids import new_id
from boxoffice.platform.runtime import Runtime
from boxoffice.platform.security import Principal
from boxoffice.platform.uow import UnitOfWork
from boxoffice.tickets import issuing
from boxoffice.tickets.codes import code_key
from boxoffice.tickets.contracts import TicketIssue
from boxoffice.tickets.errors import (
    TicketNotFound,
    TicketNotTransferable,
    TransferClosed,
    TransferNotFound,
    TransferNotPending,
    TransferPending,
    TransfersNotAllowed,
    TransferToSelf,
)
from boxoffice.tickets.events import TicketTransferOffered, TicketTransferred
from boxoffice.tickets.issuing import VALID, VOID
from boxoffice.tickets.models import Ticket, TicketTransfer

PENDING, ACCEPTED, DECLINED, CANCELLED = "pending", "accepted", "declined", "cancelled"


@dataclass(frozen=True)
class Answered:
    """A transfer after an answer, with the receiver's new ticket when accepted."""

    transfer: TicketTransfer
    ticket: Ticket | None = None


def _place(ticket: Ticket) -> str:
    return f"{ticket.section} {ticket.row} {ticket.number}"


def closes_at(info: ShowSaleInfo) -> datetime:
    """When transfers of the show close: the event's cutoff before its start."""
    return info.starts_at - timedelta(hours=info.transfer_cutoff_hours)


async def _check_open(uow: UnitOfWork, runtime: Runtime, show_id: str) -> ShowSaleInfo:
    info = await catalog.show_sale_info(uow, show_id, runtime=runtime)
    if info is None or info.event_status == "cancelled" or info.show_status == "cancelled":
        raise TicketNotTransferable("The show was cancelled.", ticket_status=VOID)
    if not info.transfers_allowed:
        raise TransfersNotAllowed()
    if uow.clock.now() >= closes_at(info):
        raise TransferClosed(closes_at=closes_at(info).isoformat())
    return info


async def offer(
    uow: UnitOfWork, runtime: Runtime, holder: Principal, ticket_id: str, to_email: str
) -> TicketTransfer:
    """Offer the holder's ticket to ``to_email``; commits. Raises ``TicketNotFound`` (not
    theirs), ``TicketNotTransferable``, ``TransfersNotAllowed``, ``TransferClosed``,
    ``TransferToSelf``, ``TransferPending`` (one is waiting already)."""
    ticket = await uow.session.get(Ticket, ticket_id)
    if ticket is None or ticket.user_id != holder.id:
        raise TicketNotFound()
    if ticket.status != VALID:
        raise TicketNotTransferable(ticket_status=ticket.status)
    info = await _check_open(uow, runtime, ticket.show_id)
    email = identity.normalise_email(to_email)
    receiver_id = await identity.user_id_by_email(uow, email)
    if receiver_id == holder.id or email == identity.normalise_email(holder.email):
        raise TransferToSelf()
    transfer = TicketTransfer(
        id=new_id(),
        ticket_id=ticket.id,
        show_id=ticket.show_id,
        from_user_id=holder.id,
        to_email=email,
        to_user_id=None,
        status=PENDING,
        pending_key=ticket.id,
        new_ticket_id=None,
        created_at=uow.clock.now(),
        closed_at=None,
    )
    uow.session.add(transfer)
    uow.record(
        TicketTransferOffered(
            transfer_id=transfer.id,
            ticket_id=ticket.id,
            show_id=ticket.show_id,
            from_user_id=holder.id,
            to_email=email,
            to_user_id=receiver_id,
            title=info.title,
            starts_at=info.starts_at.isoformat(),
            place=_place(ticket),
        )
    )
    try:
        await uow.commit()
    except IntegrityError as exc:  # another offer of this ticket is pending
        raise TransferPending() from exc
    return transfer


async def _locked(uow: UnitOfWork, transfer_id: str) -> TicketTransfer | None:
    return await uow.session.scalar(
        select(TicketTransfer).where(TicketTransfer.id == transfer_id).with_for_update()
    )


async def _is_receiver(uow: UnitOfWork, user: Principal, transfer: TicketTransfer) -> bool:
    if transfer.to_user_id is not None:
        return transfer.to_user_id == user.id
    return transfer.to_email == identity.normalise_email(user.email) or (
        await identity.user_id_by_email(uow, transfer.to_email) == user.id
    )


def _close(uow: UnitOfWork, transfer: TicketTransfer, status: str) -> None:
    transfer.status, transfer.pending_key, transfer.closed_at = status, None, uow.clock.now()


def _reissue(runtime: Runtime, ticket: Ticket, holder_id: str, now: datetime) -> Ticket:
    """The ticket's seat for ``holder_id``: a new ticket, so a new code (the old one void)."""
    # The old ticket is its own issue and its own seat: it has the columns a TicketIssue
    # and a TicketSeat name.
    issue = record_of(TicketIssue, ticket, user_id=holder_id)
    return Ticket(**issuing.new_ticket(code_key(runtime), issue, ticket, now))


async def accept(
    uow: UnitOfWork, runtime: Runtime, receiver: Principal, transfer_id: str
) -> Answered:
    """The receiver takes the ticket: the old one void, a new one (new code) theirs; commits.
    Raises ``TransferNotFound`` (not theirs to answer), ``TransferNotPending``,
    ``TicketNotTransferable`` (used or voided since: the transfer is cancelled),
    ``TransfersNotAllowed``, ``TransferClosed``."""
    transfer = await _locked(uow, transfer_id)
    if transfer is None or not await _is_receiver(uow, receiver, transfer):
        raise TransferNotFound()
    if transfer.status != PENDING:
        raise TransferNotPending(transfer_status=transfer.status)
    ticket = await uow.session.scalar(
        select(Ticket).where(Ticket.id == transfer.ticket_id).with_for_update()
    )
    if ticket is None or ticket.status != VALID or ticket.user_id != transfer.from_user_id:
        _close(uow, transfer, CANCELLED)  # refunded, checked in or moved since the offer
        await uow.commit()
        raise TicketNotTransferable(ticket_status=ticket.status if ticket else VOID)
    info = await _check_open(uow, runtime, ticket.show_id)
    now = uow.clock.now()
    ticket.status, ticket.active_seat, ticket.voided_at = VOID, None, now
    await uow.session.flush()  # the seat's live ticket is gone before the new one is added
    given = _reissue(runtime, ticket, receiver.id, now)
    new_ticket_id = given.id
    uow.session.add(given)
    _close(uow, transfer, ACCEPTED)
    transfer.to_user_id, transfer.new_ticket_id = receiver.id, new_ticket_id
    uow.record(
        TicketTransferred(
            transfer_id=transfer.id,
            ticket_id=ticket.id,
            new_ticket_id=new_ticket_id,
            show_id=ticket.show_id,
            from_user_id=transfer.from_user_id,
            to_user_id=receiver.id,
            to_email=transfer.to_email,
            title=info.title,
            place=_place(ticket),
        )
    )
    await uow.commit()
    return Answered(transfer, given)


async def decline(uow: UnitOfWork, receiver: Principal, transfer_id: str) -> Answered:
    """The receiver says no; the ticket stays the holder's. Commits."""
    transfer = await _locked(uow, transfer_id)
    if transfer is None or not await _is_receiver(uow, receiver, transfer):
        raise TransferNotFound()
    return await _end(uow, transfer, DECLINED)


async def cancel(uow: UnitOfWork, holder: Principal, transfer_id: str) -> Answered:
    """The holder takes the offer back while it waits. Commits."""
    transfer = await _locked(uow, transfer_id)
    if transfer is None or transfer.from_user_id != holder.id:
        raise TransferNotFound()
    return await _end(uow, transfer, CANCELLED)


async def _end(uow: UnitOfWork, transfer: TicketTransfer, status: str) -> Answered:
    if transfer.status != PENDING:
        raise TransferNotPending(transfer_status=transfer.status)
    _close(uow, transfer, status)
    await uow.commit()
    return Answered(transfer)


async def mine(
    uow: UnitOfWork, user: Principal, *, limit: int = 100
) -> list[tuple[TicketTransfer, str, Ticket]]:
    """The user's transfers, sent and received (by account or by the e-mail it has now),
    newest first, each with its direction (``sent`` or ``received``) and the ticket given."""
    email = identity.normalise_email(user.email)
    rows = (
        await uow.session.execute(
            select(TicketTransfer, Ticket)
            .join(Ticket, Ticket.id == TicketTransfer.ticket_id)
            .where(
                or_(
                    TicketTransfer.from_user_id == user.id,
                    TicketTransfer.to_user_id == user.id,
                    TicketTransfer.to_email == email,
                )
            )
            .order_by(TicketTransfer.id.desc())
            .limit(limit)
        )
    ).all()
    return [(t, "sent" if t.from_user_id == user.id else "received", ticket) for t, ticket in rows]
