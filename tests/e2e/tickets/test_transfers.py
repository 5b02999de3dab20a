"""Ticket transfers: a holder offers a ticket by e-mail, the receiver accepts (a new ticket,
a new code; the old code is void at the door) or declines, the holder may cancel until
then; the event's seller allows or forbids them and closes them before the show; a buyer
cannot refund what they gave away; two offers, or two answers, at once: one wins. The
e-mails go through the real SMTP path, each in its reader's language."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from boxoffice.platform.config import PaymentSettings, Settings
from boxoffice.platform.messaging.worker import InProcessBus
from boxoffice.platform.runtime import Runtime
from tests.support.api import (
    API,
    PASSWORD,
    Caller,
    assert_problem,
    customer,
    log_in,
    sign_up,
    unique_email,
)
from tests.support.catalog import ShowSetup
from tests.support.messaging import SmtpServer
from tests.support.orders import count_rows, paid_order


@pytest.fixture
def settings(
    make_settings: Callable[..., Settings], payment_settings: PaymentSettings, smtp: SmtpServer
) -> Settings:
    return make_settings(payment=payment_settings, **smtp.settings())


async def _tickets(client: httpx.AsyncClient, caller: Caller) -> list[dict[str, Any]]:
    page = await client.get(f"{API}/users/me/tickets", headers=caller.headers)
    assert page.status_code == 200, page.text
    items: list[dict[str, Any]] = page.json()["items"]
    return items


async def _bought(
    client: httpx.AsyncClient, fan: Caller, show: ShowSetup, offset: int = 0
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    order = await paid_order(client, fan, show, offset=offset)
    tickets = [t for t in await _tickets(client, fan) if t["order_id"] == order["id"]]
    return order, tickets


def _offer(client: httpx.AsyncClient, holder: Caller, ticket_id: str, to: str) -> Any:
    return client.post(
        f"{API}/tickets/{ticket_id}/transfers", json={"to_email": to}, headers=holder.headers
    )


def _answer(client: httpx.AsyncClient, caller: Caller, transfer_id: str, verb: str) -> Any:
    return client.post(f"{API}/transfers/{transfer_id}/{verb}", headers=caller.headers)


def _check_in(client: httpx.AsyncClient, show: ShowSetup, code: str) -> Any:
    return client.post(
        f"{API}/checkin", json={"code": code, "show_id": show.show_id}, headers=show.seller.headers
    )


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_a_transfer_moves_the_ticket_and_the_old_code_stops_working(
    client: httpx.AsyncClient,
    runtime: Runtime,
    show: ShowSetup,
    fan: Caller,
    other: Caller,
    smtp: SmtpServer,
) -> None:
    english = await client.patch(f"{API}/users/me", json={"locale": "en"}, headers=other.headers)
    assert english.status_code == 200, english.text
    order, (given, kept) = await _bought(client, fan, show)

    offered = await _offer(client, fan, given["id"], other.email.upper())  # any case
    assert offered.status_code == 201, offered.text
    transfer = offered.json()
    assert (transfer["status"], transfer["to_email"], transfer["direction"]) == (
        "pending",
        other.email,
        "sent",
    )
    assert_problem(await _offer(client, fan, given["id"], other.email), 409, "transfer_pending")
    received = (await client.get(f"{API}/users/me/transfers", headers=other.headers)).json()
    assert [(t["id"], t["direction"]) for t in received["items"]] == [(transfer["id"], "received")]
    # The receiver is told which show and seat they are offered before they answer.
    listed = received["items"][0]
    assert (listed["title"], listed["starts_at"], listed["seat"]) == (
        given["title"],
        given["starts_at"],
        given["seat"],
    )
    # until accepted the ticket is the holder's, and works at the door
    assert {t["status"] for t in await _tickets(client, fan)} == {"valid"}

    accepted = await _answer(client, other, transfer["id"], "accept")
    assert accepted.status_code == 200, accepted.text
    body = accepted.json()
    new = body["ticket"]
    assert body["transfer"]["status"] == "accepted"
    assert body["transfer"]["new_ticket_id"] == new["id"]
    assert (new["seat"], new["status"], new["order_id"]) == (given["seat"], "valid", order["id"])
    assert new["code"] != given["code"]
    mine = {t["id"]: t["status"] for t in await _tickets(client, fan)}
    assert mine == {given["id"]: "void", kept["id"]: "valid"}
    assert [t["id"] for t in await _tickets(client, other)] == [new["id"]]
    assert_problem(
        await _answer(client, other, transfer["id"], "accept"), 409, "transfer_not_pending"
    )

    # the door: the old code is void, the new one lets the receiver in
    assert_problem(await _check_in(client, show, given["code"]), 422, "ticket_void")
    assert (await _check_in(client, show, new["code"])).status_code == 200
    # the buyer cannot refund a ticket they gave away; the terms say why
    terms = (
        await client.get(f"{API}/orders/{order['id']}/cancellation", headers=fan.headers)
    ).json()
    assert (terms["allowed"], terms["rule"]) == (False, "ticket_used")  # checked in, first
    assert (
        await count_rows(
            runtime,
            "SELECT count(*) FROM tickets_tickets WHERE seat_id = :s AND status != 'void'",
            s=given["seat"]["id"],
        )
        == 1
    )

    await runtime.adapters.get(InProcessBus).run_once()
    (offer_mail,) = [
        m for m in smtp.inbox.to(other.email) if "sent you a ticket" in str(m["Subject"])
    ]
    text = offer_mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "KST" in text
    assert "Accept or decline it in your account" in text
    (accepted_mail,) = [m for m in smtp.inbox.to(fan.email) if "받았습니다" in str(m["Subject"])]
    assert other.email in accepted_mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]


async def test_the_buyer_cannot_refund_a_given_ticket_but_the_organiser_can(
    client: httpx.AsyncClient, show: ShowSetup, fan: Caller, other: Caller
) -> None:
    order, (given, _kept) = await _bought(client, fan, show)
    transfer = (await _offer(client, fan, given["id"], other.email)).json()
    assert (await _answer(client, other, transfer["id"], "accept")).status_code == 200
    terms = (
        await client.get(f"{API}/orders/{order['id']}/cancellation", headers=fan.headers)
    ).json()
    assert (terms["allowed"], terms["rule"]) == (False, "ticket_transferred")
    assert_problem(
        await client.post(f"{API}/orders/{order['id']}/cancel", headers=fan.headers),
        409,
        "ticket_transferred",
    )
    refunded = await client.post(
        f"{API}/orders/{order['id']}/cancel",
        json={"reason": "show moved"},
        headers=show.seller.headers,
    )
    assert refunded.status_code == 200, refunded.text
    assert refunded.json()["status"] == "refunded"
    assert {t["status"] for t in await _tickets(client, other)} == {"void"}


async def test_the_rules_of_a_transfer(
    client: httpx.AsyncClient, show: ShowSetup, fan: Caller, other: Caller
) -> None:
    _, (first, second) = await _bought(client, fan, show)
    stranger = await customer(client, "stranger")
    assert_problem(await _offer(client, fan, first["id"], fan.email), 422, "transfer_to_self")
    assert_problem(await _offer(client, other, first["id"], stranger.email), 404, "not_found")
    assert_problem(await _offer(client, fan, first["id"], "not-an-email"), 422, "validation_error")

    # declined: the ticket stays; a new offer can be made; cancelled by the holder
    transfer = (await _offer(client, fan, first["id"], other.email)).json()
    assert_problem(await _answer(client, stranger, transfer["id"], "accept"), 404, "not_found")
    assert_problem(await _answer(client, fan, transfer["id"], "accept"), 404, "not_found")
    assert_problem(await _answer(client, other, transfer["id"], "cancel"), 404, "not_found")
    declined = await _answer(client, other, transfer["id"], "decline")
    assert declined.json()["transfer"]["status"] == "declined"
    again = (await _offer(client, fan, first["id"], stranger.email)).json()
    cancelled = await _answer(client, fan, again["id"], "cancel")
    assert cancelled.json()["transfer"]["status"] == "cancelled"
    assert_problem(
        await _answer(client, stranger, again["id"], "accept"), 409, "transfer_not_pending"
    )
    assert {t["status"] for t in await _tickets(client, fan)} == {"valid"}

    # used tickets do not move
    assert (await _check_in(client, show, second["code"])).status_code == 200
    assert_problem(
        await _offer(client, fan, second["id"], other.email), 409, "ticket_not_transferable"
    )

    # the seller forbids transfers; then allows them until 41 days before: closed already
    forbid = await client.patch(
        f"{API}/events/{show.event_id}",
        json={"transfers_allowed": False},
        headers=show.seller.headers,
    )
    assert forbid.status_code == 200, forbid.text
    assert forbid.json()["transfers_allowed"] is False
    assert_problem(
        await _offer(client, fan, first["id"], other.email), 409, "transfers_not_allowed"
    )
    cutoff = await client.patch(
        f"{API}/events/{show.event_id}",
        json={"transfers_allowed": True, "transfer_cutoff_hours": 24 * 41},
        headers=show.seller.headers,
    )
    assert cutoff.status_code == 200, cutoff.text
    assert_problem(await _offer(client, fan, first["id"], other.email), 409, "transfer_closed")

    # an offer made while open cannot be accepted once closed (checked again at the answer)
    reopened = await client.patch(
        f"{API}/events/{show.event_id}",
        json={"transfer_cutoff_hours": 24 * 39},
        headers=show.seller.headers,
    )
    assert reopened.status_code == 200, reopened.text
    late = (await _offer(client, fan, first["id"], other.email)).json()
    await client.patch(
        f"{API}/events/{show.event_id}",
        json={"transfer_cutoff_hours": 24 * 41},
        headers=show.seller.headers,
    )
    assert_problem(await _answer(client, other, late["id"], "accept"), 409, "transfer_closed")
    assert {t["status"] for t in await _tickets(client, fan)} == {"valid", "used"}


async def _signed_in(client: httpx.AsyncClient, caller: Caller) -> Caller:
    response = await log_in(client, caller.email, caller.password)
    assert response.status_code == 200, response.text
    tokens = response.json()
    return Caller(
        caller.id, caller.email, caller.password, tokens["access_token"], tokens["refresh_token"]
    )


async def test_an_offer_to_an_address_without_an_account_waits_for_its_sign_up(
    client: httpx.AsyncClient, show: ShowSetup, fan: Caller, smtp: SmtpServer, runtime: Runtime
) -> None:
    _, (ticket, _) = await _bought(client, fan, show)
    email = unique_email("newcomer")
    transfer = (await _offer(client, fan, ticket["id"], email)).json()
    await runtime.adapters.get(InProcessBus).run_once()
    (mail,) = smtp.inbox.to(email)
    assert "이 이메일 주소로 가입한 뒤" in mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    created = await sign_up(client, email)
    assert created.status_code == 201, created.text
    newcomer = await _signed_in(client, Caller(created.json()["id"], email, PASSWORD, "", ""))
    accepted = await _answer(client, newcomer, transfer["id"], "accept")
    assert accepted.status_code == 200, accepted.text


@pytest.mark.parametrize("backend", ["sqlite", "postgresql", "mariadb"])
async def test_two_offers_or_two_answers_at_once_one_wins(
    client: httpx.AsyncClient, runtime: Runtime, show: ShowSetup, fan: Caller, other: Caller
) -> None:
    _, (first, second) = await _bought(client, fan, show)
    stranger = await customer(client, "stranger")
    offers = await asyncio.gather(
        *(_offer(client, fan, first["id"], to) for to in [other.email, stranger.email] * 4)
    )
    assert sorted(r.status_code for r in offers) == [201] + [409] * 7
    for refused in (r for r in offers if r.status_code == 409):
        assert_problem(refused, 409, "transfer_pending")
    (made,) = [r.json() for r in offers if r.status_code == 201]
    receiver = other if made["to_email"] == other.email else stranger

    # the receiver accepts on two devices while the holder cancels: exactly one answer holds
    transfer = (await _offer(client, fan, second["id"], other.email)).json()
    answers = await asyncio.gather(
        _answer(client, other, transfer["id"], "accept"),
        _answer(client, other, transfer["id"], "accept"),
        _answer(client, fan, transfer["id"], "cancel"),
    )
    assert sorted(r.status_code for r in answers) == [200, 409, 409]
    live = await count_rows(
        runtime,
        "SELECT count(*) FROM tickets_tickets WHERE seat_id = :s AND status = 'valid'",
        s=second["seat"]["id"],
    )
    assert live == 1
    accepted = await _answer(client, receiver, made["id"], "accept")
    assert accepted.status_code == 200, accepted.text
    assert await count_rows(runtime, "SELECT count(*) FROM tickets_transfers") == 2
