"""The day-before reminder through the real SMTP path: each holder of a show starting
within a day gets one e-mail in their language with their seats, whether the job runs
once, twice or twice at once; nobody is reminded of a show further away."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest

from boxoffice.platform.clock import FrozenClock
from boxoffice.platform.config import PaymentSettings, Settings
from boxoffice.platform.messaging.worker import InProcessBus
from boxoffice.platform.runtime import Runtime
from boxoffice.tickets import reminders
from tests.support.api import API, Caller
from tests.support.catalog import ShowSetup
from tests.support.messaging import SmtpServer
from tests.support.orders import count_rows, paid_order

SHOW_IN = timedelta(days=40)  # open_show's show starts 40 days after its creation


@pytest.fixture
def settings(
    make_settings: Callable[..., Settings], payment_settings: PaymentSettings, smtp: SmtpServer
) -> Settings:
    return make_settings(payment=payment_settings, **smtp.settings())


async def _buy(client: httpx.AsyncClient, fan: Caller, show: ShowSetup, offset: int) -> None:
    await paid_order(client, fan, show, offset=offset)


def _reminders(smtp: SmtpServer, fan: Caller) -> list[str]:
    subjects = [str(m["Subject"]) for m in smtp.inbox.to(fan.email)]
    return [s for s in subjects if "Tomorrow" in s or "내일 공연" in s]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_each_holder_is_reminded_once_in_their_language(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    show: ShowSetup,
    fan: Caller,
    other: Caller,
    smtp: SmtpServer,
) -> None:
    english = await client.patch(f"{API}/users/me", json={"locale": "en"}, headers=other.headers)
    assert english.status_code == 200, english.text
    await _buy(client, fan, show, 0)
    await _buy(client, fan, show, 2)  # two orders, one reminder
    await _buy(client, other, show, 4)
    assert await reminders.send_reminders(runtime) == 0  # 40 days away

    clock.advance(SHOW_IN - timedelta(hours=20))
    sent = await asyncio.gather(*(reminders.send_reminders(runtime) for _ in range(2)))
    assert sum(sent) == 2
    assert await reminders.send_reminders(runtime) == 0
    assert await count_rows(runtime, "SELECT count(*) FROM tickets_show_reminders") == 2
    await runtime.adapters.get(InProcessBus).run_once()

    (korean,) = _reminders(smtp, fan)
    (english_mail,) = _reminders(smtp, other)
    assert korean.startswith("내일 공연 안내")
    assert english_mail.startswith("Tomorrow")
    (mail,) = [m for m in smtp.inbox.to(fan.email) if "내일 공연" in str(m["Subject"])]
    text = mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    (seats,) = [line for line in text.splitlines() if line.startswith("좌석:")]
    assert seats.count(", ") == 3  # four seats, from both orders
    assert "KST" in text
