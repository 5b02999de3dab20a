"""notifications e2e: a real SMTP server and a clock the tests move (retry delays)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from boxoffice.platform.clock import FrozenClock
from boxoffice.platform.config import Settings
from tests.support.messaging import SmtpServer


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime.now(UTC))


@pytest.fixture
def settings(make_settings: Callable[..., Settings], smtp: SmtpServer) -> Settings:
    # The production schedule of delays; the frozen clock makes them pass at once.
    return make_settings(retry_delays_seconds=[60, 300, 1800, 7200], **smtp.settings())
