"""E-mail verification through the real SMTP path: the welcome e-mail's link verifies the
address once (also when used many times at once), a new link can be asked for (three an
hour), an expired link or one for an address the account left verifies nothing; an event
whose seller requires a verified e-mail lets an unverified fan hold but not buy."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from boxoffice.platform.clock import FrozenClock
from boxoffice.platform.config import Settings
from boxoffice.platform.messaging.worker import InProcessBus
from boxoffice.platform.runtime import Runtime
from tests.support.api import API, Caller, assert_problem, customer
from tests.support.catalog import open_show
from tests.support.messaging import SmtpServer
from tests.support.orders import count_rows, hold_seats, place_order


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def settings(make_settings: Callable[..., Settings], smtp: SmtpServer) -> Settings:
    return make_settings(**smtp.settings())


async def _tokens(runtime: Runtime, smtp: SmtpServer, fan: Caller) -> list[str]:
    """The verification links the fan was e-mailed (welcome and new ones), oldest first."""
    await runtime.adapters.get(InProcessBus).run_once()
    found = []
    for mail in smtp.inbox.to(fan.email):
        text = mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
        url = re.search(r"https?://\S+verify-email\?\S+", text)
        if url is not None:
            found.append(parse_qs(urlsplit(url.group(0)).query)["token"][0])
    return found


async def _verify(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post(f"{API}/auth/verify-email", json={"token": token})


async def _verified(client: httpx.AsyncClient, fan: Caller) -> bool:
    me = await client.get(f"{API}/users/me", headers=fan.headers)
    return bool(me.json()["email_verified"])


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_the_welcome_link_verifies_the_address_once(
    client: httpx.AsyncClient, runtime: Runtime, smtp: SmtpServer
) -> None:
    fan = await customer(client, "newfan")
    assert await _verified(client, fan) is False
    (token,) = await _tokens(runtime, smtp, fan)
    (welcome,) = smtp.inbox.to(fan.email)
    assert "환영합니다" in str(welcome["Subject"])  # the link rides the welcome e-mail
    assert (await _verify(client, token)).status_code == 204
    assert await _verified(client, fan) is True
    assert_problem(await _verify(client, token), 422, "verification_token_invalid")
    assert_problem(await _verify(client, "x" * 43), 422, "verification_token_invalid")
    # verified: asking again sends nothing
    again = await client.post(f"{API}/users/me/email-verification", headers=fan.headers)
    assert again.status_code == 202
    assert len(await _tokens(runtime, smtp, fan)) == 1


async def test_a_new_link_three_an_hour_and_old_links_expire(
    client: httpx.AsyncClient, runtime: Runtime, smtp: SmtpServer, clock: FrozenClock
) -> None:
    fan = await customer(client, "slowfan")
    for _ in range(3):
        asked = await client.post(f"{API}/users/me/email-verification", headers=fan.headers)
        assert asked.status_code == 202, asked.text
    refused = await client.post(f"{API}/users/me/email-verification", headers=fan.headers)
    assert_problem(refused, 429, "rate_limited")
    tokens = await _tokens(runtime, smtp, fan)
    assert len(tokens) == 4  # the welcome link and three new ones
    subjects = [str(m["Subject"]) for m in smtp.inbox.to(fan.email)]
    assert sum("이메일 주소를 확인해 주세요" in s for s in subjects) == 3
    clock.advance(timedelta(hours=25))
    assert_problem(await _verify(client, tokens[-1]), 422, "verification_token_invalid")


@pytest.mark.parametrize("backend", ["sqlite", "postgresql", "mariadb"])
async def test_a_link_used_many_times_at_once_verifies_once(
    client: httpx.AsyncClient, runtime: Runtime, smtp: SmtpServer
) -> None:
    fan = await customer(client, "eagerfan")
    (token,) = await _tokens(runtime, smtp, fan)
    answers = await asyncio.gather(*(_verify(client, token) for _ in range(8)))
    assert sorted(a.status_code for a in answers) == [204] + [422] * 7
    used = await count_rows(
        runtime,
        "SELECT count(*) FROM identity_email_verifications WHERE used_at IS NOT NULL",
    )
    assert used == 1


async def test_a_seller_may_sell_only_to_verified_buyers(
    client: httpx.AsyncClient, runtime: Runtime, smtp: SmtpServer
) -> None:
    show = await open_show(client, runtime, rows=1, seats_per_row=4)
    rule = await client.patch(
        f"{API}/events/{show.event_id}",
        json={"requires_verified_email": True},
        headers=show.seller.headers,
    )
    assert rule.status_code == 200, rule.text
    assert rule.json()["requires_verified_email"] is True
    fan = await customer(client, "unverified")
    hold = await hold_seats(client, fan, show.show_id, show.seat_ids[:1])  # holding is fine
    refused = await place_order(client, fan, hold["hold_id"])
    assert_problem(refused, 403, "email_not_verified")
    (token,) = await _tokens(runtime, smtp, fan)
    assert (await _verify(client, token)).status_code == 204
    placed = await place_order(client, fan, hold["hold_id"])
    assert placed.status_code == 201, placed.text
