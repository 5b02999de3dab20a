"""E-mail templates: both languages, both parts, escaping, money in minor units; the
message built from them."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage

import pytest

from boxoffice.notifications.mail import (
    RenderedMail,
    Templates,
    build_message,
    format_money,
    pick_locale,
)
from boxoffice.platform.config import Settings

ORDER = {
    "public_url": "https://tickets.example",
    "name": "Kim <script>",
    "order_id": "o-1",
    "amount": 165000,
    "currency": "KRW",
    "tickets": ["https://tickets.example/tickets/t-1", "https://tickets.example/tickets/t-2"],
}


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("ko", "ko"),
        ("ko-KR", "ko"),
        ("ko_KR", "ko"),
        ("en", "en"),
        ("en-US", "en"),
        ("fr", "en"),
        ("", "en"),
        (None, "en"),
    ],
)
def test_locale_falls_back_to_english(given: str | None, expected: str) -> None:
    assert pick_locale(given) == expected


def test_money_is_formatted_from_minor_units() -> None:
    assert format_money(165000, "KRW") == "₩165,000"
    assert format_money(1234, "USD") == "USD 12.34"


@pytest.mark.parametrize(("locale", "word"), [("ko", "결제"), ("en", "payment")])
def test_order_confirmation_has_every_ticket_link_in_both_parts(locale: str, word: str) -> None:
    mail = Templates().render("order_paid", locale, ORDER)
    assert "o-1" in mail.subject
    assert word in mail.text
    assert "₩165,000" in mail.text
    for link in ORDER["tickets"]:
        assert link in mail.text
        assert f'href="{link}"' in mail.html
    assert "<script>" not in mail.html  # user data is escaped in HTML
    assert "Kim &lt;script&gt;" in mail.html


def test_refund_notice_tells_refund_and_fee_or_that_nothing_was_charged() -> None:
    base = {"public_url": "x", "name": "Lee", "order_id": "o-2", "currency": "KRW", "reason": ""}
    refunded = Templates().render(
        "order_cancelled", "en", {**base, "refund_amount": 90000, "fee": 10000}
    )
    assert "₩90,000" in refunded.subject
    assert "cancellation fee ₩10,000" in refunded.text
    abandoned = Templates().render("order_cancelled", "ko", {**base, "refund_amount": 0, "fee": 0})
    assert "환불" not in abandoned.subject
    assert "결제된 금액은 없습니다" in abandoned.text
    part = Templates().render(
        "order_cancelled", "ko", {**base, "refund_amount": 132000, "fee": 0, "partial": True}
    )
    assert "부분 환불" in part.subject
    assert "나머지 주문은 그대로 유효합니다" in part.text
    assert "부분 환불 안내" in part.html


@pytest.mark.parametrize(("locale", "words"), [("en", "you paid earlier"), ("ko", "앞서 내신")])
def test_refund_notice_tells_the_fees_given_back_when_the_show_is_cancelled(
    locale: str, words: str
) -> None:
    base = {"public_url": "x", "name": "Lee", "order_id": "o-3", "currency": "KRW", "reason": ""}
    back = {**base, "refund_amount": 2000, "fee": 0, "fee_returned": 2000}
    mail = Templates().render("order_cancelled", locale, back)
    assert words in mail.text
    assert words in mail.html
    assert "₩2,000" in mail.text
    plain = Templates().render("order_cancelled", locale, {**back, "fee_returned": 0})
    assert words not in plain.text
    assert words not in plain.html


def test_welcome_in_korean_and_english() -> None:
    context = {"public_url": "x", "name": "민지", "email": "m@example.com"}
    assert "환영" in Templates().render("welcome", "ko", context).subject
    assert "Welcome" in Templates().render("welcome", "en", context).subject
    linked = Templates().render("welcome", "en", {**context, "verify_url": "https://v/1"})
    assert "https://v/1" in linked.text
    assert "https://v/1" in linked.html


@pytest.mark.parametrize(
    ("to", "read_back"),
    [
        ("fan@example.com", "fan@example.com"),
        ("김민지 <kim@example.com>", "김민지 <kim@example.com>"),
        ('"Kim, Minji" <kim@example.com>', '"Kim, Minji" <kim@example.com>'),
    ],
)
def test_a_built_message_reads_back_as_written(to: str, read_back: str) -> None:
    settings = Settings(_env_file=None, notifications={"mail_from": "박스오피스 <no-reply@bo.kr>"})  # type: ignore[call-arg]
    rendered = RenderedMail("주문이 완료되었습니다", "표 1장\n", "<p>표 1장</p>")
    built = build_message(settings, to=to, rendered=rendered, message_id="<order_paid.1@bo.kr>")
    raw = bytes(built)
    assert raw.isascii()  # 7-bit: any relay takes it
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    assert (parsed["From"], parsed["To"]) == ("박스오피스 <no-reply@bo.kr>", read_back)
    assert parsed["Subject"] == "주문이 완료되었습니다"
    assert parsed["Message-ID"] == "<order_paid.1@bo.kr>"
    assert parsed.get_body(("plain",)).get_content() == "표 1장\n"  # type: ignore[union-attr]
    assert parsed.get_body(("html",)).get_content() == "<p>표 1장</p>"  # type: ignore[union-attr]
