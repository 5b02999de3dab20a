"""Selling e2e: payment stand-ins, a frozen clock and a show on sale (as orders' tests)."""

from __future__ import annotations

from tests.e2e.orders.conftest import clock, fan, other, settings, show  # noqa: F401
from tests.support.orders import (  # noqa: F401 - fixtures
    _kakaopay_server,
    _toss_server,
    kakaopay,
    payment_settings,
    toss,
)
