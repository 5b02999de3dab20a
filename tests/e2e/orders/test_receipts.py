"""Receipts: the payment company's receipt page and method kept with the payment and shown
on the order; the confirmation e-mail is a receipt (lines, total, when and how paid, the
company's receipt link) and so is the refund e-mail, through the real SMTP path."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from boxoffice.platform.config import PaymentSettings, Settings
from boxoffice.platform.messaging.worker import InProcessBus
from boxoffice.platform.runtime import Runtime
from tests.stubs.kakaopay import KakaoPayStandIn
from tests.stubs.toss import TossStandIn
from tests.support.api import API, Caller
from tests.support.catalog import ShowSetup
from tests.support.messaging import SmtpServer
from tests.support.orders import new_order, pay


@pytest.fixture
def settings(
    make_settings: Callable[..., Settings], payment_settings: PaymentSettings, smtp: SmtpServer
) -> Settings:
    return make_settings(payment=payment_settings, **smtp.settings())


def _text(smtp: SmtpServer, fan: Caller, subject_part: str) -> str:
    (mail,) = [m for m in smtp.inbox.to(fan.email) if subject_part in str(m["Subject"])]
    return str(mail.get_body(preferencelist=("plain",)).get_content())  # type: ignore[union-attr]


@pytest.mark.parametrize("provider", ["toss", "kakaopay"])
async def test_the_order_and_its_emails_carry_the_receipt(
    client: httpx.AsyncClient,
    runtime: Runtime,
    show: ShowSetup,
    fan: Caller,
    toss: TossStandIn,
    kakaopay: KakaoPayStandIn,
    smtp: SmtpServer,
    provider: str,
) -> None:
    order = await new_order(client, fan, show, provider)
    paid = await pay(client, fan, order, toss, kakaopay)
    assert paid.json()["status"] == "paid"
    payment = (await client.get(f"{API}/orders/{order['id']}", headers=fan.headers)).json()[
        "payment"
    ]
    if provider == "toss":
        assert payment["receipt_url"].startswith("https://receipt.example/")
        assert payment["method"]
    else:  # KakaoPay gives no receipt page: the e-mail is the receipt
        assert payment["receipt_url"] is None
        assert payment["method"] == "MONEY"  # the stand-in pays from the KakaoPay balance
    assert payment["approved_at"]

    await runtime.adapters.get(InProcessBus).run_once()
    confirmation = _text(smtp, fan, "결제가 완료")
    assert "영수증" in confirmation
    assert confirmation.count(" × 1 ") == 2  # two seats, a line each
    assert "합계" in confirmation
    assert "KST" in confirmation
    if provider == "toss":
        assert payment["receipt_url"] in confirmation

    cancelled = await client.post(f"{API}/orders/{order['id']}/cancel", headers=fan.headers)
    assert cancelled.status_code == 200, cancelled.text
    await runtime.adapters.get(InProcessBus).run_once()
    refund = _text(smtp, fan, "취소")
    assert "환불" in refund
    if provider == "toss":
        assert payment["receipt_url"] in refund
