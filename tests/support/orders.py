"""Fixtures for orders and tickets tests: the payment stand-ins and the app wired to them.

Import the fixtures into a ``conftest.py``: ``from tests.support.orders import *  # noqa``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.stubs.kakaopay import TEST_CID, KakaoPayStandIn
from tests.stubs.kakaopay import TEST_SECRET_KEY as KAKAOPAY_SECRET
from tests.stubs.toss import TEST_CLIENT_KEY, TEST_SECRET_KEY, TossStandIn


@pytest.fixture(scope="session")
def _toss_server() -> Iterator[TossStandIn]:
    standin = TossStandIn()
    standin.server.start()
    yield standin
    standin.server.stop()


@pytest.fixture(scope="session")
def _kakaopay_server() -> Iterator[KakaoPayStandIn]:
    standin = KakaoPayStandIn()
    standin.server.start()
    yield standin
    standin.server.stop()


@pytest.fixture
def toss(_toss_server: TossStandIn) -> TossStandIn:
    """The Toss stand-in, emptied for this test."""
    _toss_server.reset()
    return _toss_server


@pytest.fixture
def kakaopay(_kakaopay_server: KakaoPayStandIn) -> KakaoPayStandIn:
    """The KakaoPay stand-in, emptied for this test."""
    _kakaopay_server.reset()
    return _kakaopay_server


@pytest.fixture
def payment_env(
    monkeypatch: pytest.MonkeyPatch, toss: TossStandIn, kakaopay: KakaoPayStandIn
) -> dict[str, str]:
    """``BOXOFFICE_PAYMENT_*`` pointing the app's real clients at the stand-ins."""
    values = {
        "BOXOFFICE_PAYMENT_TOSS_SECRET_KEY": TEST_SECRET_KEY,
        "BOXOFFICE_PAYMENT_TOSS_CLIENT_KEY": TEST_CLIENT_KEY,
        "BOXOFFICE_PAYMENT_TOSS_BASE_URL": toss.server.url,
        "BOXOFFICE_PAYMENT_KAKAOPAY_SECRET_KEY": KAKAOPAY_SECRET,
        "BOXOFFICE_PAYMENT_KAKAOPAY_CID": TEST_CID,
        "BOXOFFICE_PAYMENT_KAKAOPAY_BASE_URL": kakaopay.server.url,
        "BOXOFFICE_PAYMENT_TIMEOUT_SECONDS": "1.0",
        "BOXOFFICE_PAYMENT_FRONTEND_RESULT_URL": "https://front.example/checkout/result",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values
