"""Password reset by e-mailed link, through the real SMTP path: the same answer for an
unknown address, a link that works once (also when used many times at once, counted in the
database), a new password that signs in, and every earlier login ended."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from boxoffice.platform.clock import FrozenClock
from boxoffice.platform.config import Settings
from boxoffice.platform.messaging.worker import InProcessBus
from boxoffice.platform.runtime import Runtime
from tests.support.api import API, Caller, assert_problem, customer, unique_email
from tests.support.messaging import SmtpServer
from tests.support.orders import count_rows

NEW_PASSWORD = "a-whole-new-secret-77"


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def settings(make_settings: Callable[..., Settings], smtp: SmtpServer) -> Settings:
    return make_settings(**smtp.settings())


async def _ask(client: httpx.AsyncClient, email: str) -> httpx.Response:
    return await client.post(f"{API}/auth/password-reset", json={"email": email})


def _reset_mails(smtp: SmtpServer, fan: Caller) -> list[EmailMessage]:
    """The reset e-mails the fan got (the welcome e-mail aside), in Korean: their locale."""
    return [m for m in smtp.inbox.to(fan.email) if "비밀번호 재설정" in str(m["Subject"])]


async def _link_tokens(runtime: Runtime, smtp: SmtpServer, fan: Caller) -> list[str]:
    """The secrets of every reset link e-mailed to the fan so far."""
    await runtime.adapters.get(InProcessBus).run_once()
    tokens = []
    for mail in _reset_mails(smtp, fan):
        text = mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
        url = re.search(r"https?://\S+reset-password\?\S+", text)
        assert url is not None, text
        tokens.append(parse_qs(urlsplit(url.group(0)).query)["token"][0])
    return tokens


async def _link_token(runtime: Runtime, smtp: SmtpServer, fan: Caller) -> str:
    (token,) = await _link_tokens(runtime, smtp, fan)
    return token


async def _confirm(client: httpx.AsyncClient, token: str, password: str) -> httpx.Response:
    body = {"token": token, "password": password}
    return await client.post(f"{API}/auth/password-reset/confirm", json=body)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_a_link_resets_the_password_once_and_ends_every_login(
    client: httpx.AsyncClient, runtime: Runtime, smtp: SmtpServer
) -> None:
    fan = await customer(client, "forgetful")
    nobody = await _ask(client, unique_email("nobody"))
    asked = await _ask(client, fan.email.upper())
    assert (nobody.status_code, asked.status_code) == (202, 202)
    assert nobody.json() == asked.json()  # no account enumeration
    token = await _link_token(runtime, smtp, fan)
    assert all(m["To"] == fan.email for m in smtp.inbox.messages)  # none to the unknown one

    weak = await _confirm(client, token, "short")
    assert_problem(weak, 422, "validation_error")
    assert (await _confirm(client, token, NEW_PASSWORD)).status_code == 204
    assert_problem(await _confirm(client, token, NEW_PASSWORD), 422, "reset_token_invalid")

    old_login = await client.post(
        f"{API}/auth/login", json={"email": fan.email, "password": fan.password}
    )
    assert old_login.status_code == 401
    new_login = await client.post(
        f"{API}/auth/login", json={"email": fan.email, "password": NEW_PASSWORD}
    )
    assert new_login.status_code == 200, new_login.text
    assert (await client.get(f"{API}/users/me", headers=fan.headers)).status_code == 401
    refreshed = await client.post(f"{API}/auth/refresh", json={"refresh_token": fan.refresh_token})
    assert refreshed.status_code == 401


@pytest.mark.parametrize("backend", ["sqlite", "postgresql", "mariadb"])
async def test_a_link_used_twenty_times_at_once_sets_the_password_once(
    client: httpx.AsyncClient, runtime: Runtime, smtp: SmtpServer
) -> None:
    fan = await customer(client, "racer")
    assert (await _ask(client, fan.email)).status_code == 202
    token = await _link_token(runtime, smtp, fan)
    answers = await asyncio.gather(
        *(_confirm(client, token, f"{NEW_PASSWORD}-{n}") for n in range(20))
    )
    assert sorted(a.status_code for a in answers).count(204) == 1
    assert all(a.status_code in (204, 422) for a in answers)
    used = "SELECT count(*) FROM identity_password_resets WHERE used_at IS NOT NULL"
    assert await count_rows(runtime, used) == 1
    winner = next(n for n, a in enumerate(answers) if a.status_code == 204)
    login = await client.post(
        f"{API}/auth/login", json={"email": fan.email, "password": f"{NEW_PASSWORD}-{winner}"}
    )
    assert login.status_code == 200


async def test_an_expired_link_is_refused_and_asking_is_limited_per_address(
    client: httpx.AsyncClient, runtime: Runtime, smtp: SmtpServer, clock: FrozenClock
) -> None:
    fan = await customer(client, "late")
    assert (await _ask(client, fan.email)).status_code == 202
    token = await _link_token(runtime, smtp, fan)
    clock.advance(timedelta(minutes=31))
    assert_problem(await _confirm(client, token, NEW_PASSWORD), 422, "reset_token_invalid")
    answers = [(await _ask(client, unique_email("spray"))).status_code for _ in range(12)]
    assert 429 in answers
    assert len(_reset_mails(smtp, fan)) == 1


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_using_a_link_voids_the_accounts_other_links(
    client: httpx.AsyncClient, runtime: Runtime, smtp: SmtpServer
) -> None:
    """Asked twice, the account has two links; the one used sets the password and the other
    no longer works (counted in the database: both spent)."""
    fan = await customer(client, "twice")
    for _ in range(2):
        assert (await _ask(client, fan.email)).status_code == 202
    used, other = await _link_tokens(runtime, smtp, fan)
    assert (await _confirm(client, used, NEW_PASSWORD)).status_code == 204
    refused = await _confirm(client, other, f"{NEW_PASSWORD}-again")
    assert_problem(refused, 422, "reset_token_invalid")
    unspent = "SELECT count(*) FROM identity_password_resets WHERE used_at IS NULL"
    assert await count_rows(runtime, unspent) == 0
    login = await client.post(
        f"{API}/auth/login", json={"email": fan.email, "password": NEW_PASSWORD}
    )
    assert login.status_code == 200
