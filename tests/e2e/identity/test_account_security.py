"""Changing one's password and e-mail, through the real SMTP path: the current password
asked for both; a new password ends every other login (not the asking one) and the owner
is told; a new e-mail moves the account only when the link sent to it is opened, the old
address is told, and the old links die."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from boxoffice.platform.clock import FrozenClock
from boxoffice.platform.config import Settings
from boxoffice.platform.messaging.worker import InProcessBus
from boxoffice.platform.runtime import Runtime
from tests.support.api import API, Caller, assert_problem, customer, log_in, unique_email
from tests.support.messaging import SmtpServer

NEW_PASSWORD = "another-long-secret-42"


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def settings(make_settings: Callable[..., Settings], smtp: SmtpServer) -> Settings:
    return make_settings(**smtp.settings())


async def _second_login(client: httpx.AsyncClient, fan: Caller) -> Caller:
    tokens = (await log_in(client, fan.email, fan.password)).json()
    return Caller(fan.id, fan.email, fan.password, tokens["access_token"], tokens["refresh_token"])


def _subjects(smtp: SmtpServer, address: str) -> list[str]:
    return [str(m["Subject"]) for m in smtp.inbox.to(address)]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_a_new_password_ends_the_other_logins_and_tells_the_owner(
    client: httpx.AsyncClient, runtime: Runtime, smtp: SmtpServer
) -> None:
    fan = await customer(client, "careful")
    phone = await _second_login(client, fan)
    wrong = {"current_password": "not-it-at-all", "new_password": NEW_PASSWORD}
    refused = await client.post(f"{API}/users/me/password", json=wrong, headers=fan.headers)
    assert_problem(refused, 403, "wrong_password")
    weak = {"current_password": fan.password, "new_password": "short"}
    weak_answer = await client.post(f"{API}/users/me/password", json=weak, headers=fan.headers)
    assert_problem(weak_answer, 422, "validation_error")

    body = {"current_password": fan.password, "new_password": NEW_PASSWORD}
    changed = await client.post(f"{API}/users/me/password", json=body, headers=fan.headers)
    assert changed.status_code == 204, changed.text
    assert (await client.get(f"{API}/users/me", headers=fan.headers)).status_code == 200
    assert_problem(await client.get(f"{API}/users/me", headers=phone.headers), 401, "invalid_token")
    refreshed = await client.post(f"{API}/auth/refresh", json={"refresh_token": fan.refresh_token})
    assert refreshed.status_code == 200, refreshed.text  # the asking login goes on
    assert_problem(await log_in(client, fan.email, fan.password), 401, "unauthorized")
    assert (await log_in(client, fan.email, NEW_PASSWORD)).status_code == 200
    await runtime.adapters.get(InProcessBus).run_once()
    assert any("비밀번호가 바뀌었습니다" in s for s in _subjects(smtp, fan.email))


async def test_a_new_email_moves_the_account_when_its_link_is_opened(
    client: httpx.AsyncClient, runtime: Runtime, smtp: SmtpServer
) -> None:
    fan = await customer(client, "mover")
    taken = await customer(client, "taken")
    new = unique_email("moved")
    ask = {"email": new, "password": fan.password}
    assert_problem(
        await client.post(
            f"{API}/users/me/email", json={**ask, "password": "nope-nope"}, headers=fan.headers
        ),
        403,
        "wrong_password",
    )
    assert_problem(
        await client.post(
            f"{API}/users/me/email", json={**ask, "email": taken.email}, headers=fan.headers
        ),
        409,
        "conflict",
    )
    asked = await client.post(f"{API}/users/me/email", json=ask, headers=fan.headers)
    assert asked.status_code == 202, asked.text
    # nothing moved yet
    assert (await client.get(f"{API}/users/me", headers=fan.headers)).json()["email"] == fan.email
    await runtime.adapters.get(InProcessBus).run_once()
    (mail,) = smtp.inbox.to(new)
    text = mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    url = re.search(r"https?://\S+verify-email\?\S+", text)
    assert url is not None, text
    token = parse_qs(urlsplit(url.group(0)).query)["token"][0]

    opened = await client.post(f"{API}/auth/verify-email", json={"token": token})
    assert opened.status_code == 204, opened.text
    me = (await client.get(f"{API}/users/me", headers=fan.headers)).json()
    assert (me["email"], me["email_verified"]) == (new, True)
    assert (await log_in(client, new, fan.password)).status_code == 200
    assert_problem(await log_in(client, fan.email, fan.password), 401, "unauthorized")
    await runtime.adapters.get(InProcessBus).run_once()
    assert any("이메일 주소가 바뀌었습니다" in s for s in _subjects(smtp, fan.email))
    # the sign-up's link, for the old address, verifies nothing now
    welcome = smtp.inbox.to(fan.email)[0].get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    old = re.search(r"https?://\S+verify-email\?\S+", welcome)
    assert old is not None
    old_token = parse_qs(urlsplit(old.group(0)).query)["token"][0]
    assert_problem(
        await client.post(f"{API}/auth/verify-email", json={"token": old_token}),
        422,
        "verification_token_invalid",
    )
